"""Drift statistics and verdicts: golden numbers on seeded data."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from retrainer.config import DriftConfig
from retrainer.drift import (
    UNSEEN,
    DriftResult,
    NumericProfile,
    Profile,
    build_reference_profile,
    detect_drift,
    jensen_shannon,
    profile_batch,
    psi,
    render_html,
)

pytestmark = pytest.mark.unit


def test_psi_matches_hand_computed_value() -> None:
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.3, 0.3, 0.4])
    expected = float(np.sum((q - p) * np.log(q / p)))
    assert psi([50, 30, 20], [30, 30, 40]) == pytest.approx(expected, rel=1e-12)
    # By hand: (0.3-0.5) ln(0.3/0.5) + 0 + (0.4-0.2) ln(0.4/0.2) = 0.2 ln(10/3) = 0.240795
    assert psi([50, 30, 20], [30, 30, 40]) == pytest.approx(0.2 * math.log(10 / 3), rel=1e-12)
    assert psi([50, 30, 20], [30, 30, 40]) == pytest.approx(0.240795, abs=1e-6)
    assert psi([10, 10], [10, 10]) == 0.0


def test_psi_is_finite_with_empty_bins() -> None:
    value = psi([100, 0], [50, 50])
    # epsilon clipping: p = (1 - 1e-4, 1e-4) / (1 + 1e-4), q = (0.5, 0.5).
    p = np.array([1.0, 1e-4]) / 1.0001
    q = np.array([0.5, 0.5])
    assert value == pytest.approx(float(np.sum((q - p) * np.log(q / p))), rel=1e-12)
    assert math.isfinite(value) and value > 1


def test_jensen_shannon_equals_scipy() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, 100, 12), rng.integers(0, 100, 12)
    assert jensen_shannon(a, b) == pytest.approx(jensenshannon(a / a.sum(), b / b.sum()), 1e-12)
    # Empty bins stay finite and still agree with scipy.
    c, d = np.array([5, 0, 3, 2]), np.array([0, 4, 4, 2])
    assert jensen_shannon(c, d) == pytest.approx(jensenshannon(c / 10, d / 10), 1e-12)
    assert jensen_shannon(c, c) == 0.0


def _frame(seed: int, shift: float = 0.0, n: int = 5000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, n),
            "y": rng.normal(0.0, 1.0, n),
            "c": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
        }
    )


def test_shifted_feature_drifts_and_same_distribution_does_not() -> None:
    reference = build_reference_profile(_frame(0), ["x", "y"], ["c"], bins=10)
    config = DriftConfig(statistic="psi", threshold=0.25, drift_share=0.3)
    same = detect_drift(reference, _frame(1), config)
    assert not same.drift
    assert max(f.value for f in same.features) < 0.02
    shifted = detect_drift(reference, _frame(1, shift=1.0), config)
    assert shifted.drift
    assert [f.feature for f in shifted.drifted_features] == ["x"]
    assert shifted.features[0].value == pytest.approx(0.85, abs=0.1)  # ~N(0,1) vs N(1,1)
    assert shifted.explanation.startswith("drift: x (PSI 0.")
    assert "drifted; importance-weighted share 0.33 >= 0.30" in shifted.explanation
    assert shifted.drift_score == pytest.approx(1 / 3, abs=1e-6)  # no importances: equal


def test_importance_decides_the_verdict() -> None:
    reference = build_reference_profile(_frame(0), ["x", "y"], [], bins=10)
    config = DriftConfig(statistic="psi", threshold=0.25, drift_share=0.3)
    batch = _frame(1, shift=1.0)
    assert detect_drift(reference, batch, config, {"x": 0.9, "y": 0.1}).drift
    quiet = detect_drift(reference, batch, config, {"x": 0.01, "y": 0.99})
    assert not quiet.drift
    assert "carry only 0.01" in quiet.explanation
    negative = detect_drift(reference, batch, config, {"x": -0.2, "y": 0.5})
    assert not negative.drift  # negative permutation importance counts as zero
    assert {f.feature: f.importance for f in negative.features} == {"x": 0.0, "y": 1.0}
    unusable = detect_drift(reference, batch, config, {"x": -0.2, "y": float("nan")})
    assert unusable.drift and unusable.drift_score == 0.5  # nothing positive: equal weights


def test_per_feature_threshold_overrides_the_default() -> None:
    reference = build_reference_profile(_frame(0), ["x", "y"], [])
    batch = _frame(1, shift=1.0)
    config = DriftConfig(
        statistic="psi", threshold=0.25, drift_share=0.3, feature_thresholds={"x": 2.0}
    )
    result = detect_drift(reference, batch, config)
    x = next(f for f in result.features if f.feature == "x")
    assert x.threshold == 2.0 and not x.drifted and not result.drift


def test_merge_of_two_halves_equals_the_whole() -> None:
    reference = build_reference_profile(_frame(0), ["x", "y"], ["c"])
    batch = _frame(3, shift=0.5)
    whole = profile_batch(batch, reference)
    merged = profile_batch(batch.iloc[:1234], reference).merge(
        profile_batch(batch.iloc[1234:], reference)
    )
    assert merged.features["x"].counts == whole.features["x"].counts
    assert merged.features["c"].counts == whole.features["c"].counts
    assert merged.features["x"].mean == pytest.approx(whole.features["x"].mean)
    assert merged.features["x"].std == pytest.approx(whole.features["x"].std)
    assert merged.features["x"].std == pytest.approx(batch["x"].std(), rel=1e-9)
    assert merged.row_count == whole.row_count
    # An empty chunk, even after a JSON round trip, merges as a no-op.
    empty = Profile.from_json(profile_batch(batch.iloc[:0], reference).to_json())
    assert whole.merge(empty) == whole
    assert empty.merge(whole) == whole


def test_detect_accepts_merged_profiles_and_rejects_other_bins() -> None:
    reference = build_reference_profile(_frame(0), ["x", "y"], ["c"])
    batch = _frame(1, shift=1.0)
    chunks = [profile_batch(batch.iloc[i : i + 1000], reference) for i in range(0, 5000, 1000)]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged.merge(chunk)
    assert detect_drift(reference, merged, DriftConfig()) == detect_drift(
        reference, batch, DriftConfig()
    )
    other_bins = build_reference_profile(batch, ["x", "y"], ["c"])
    with pytest.raises(ValueError, match="reference's bins"):
        detect_drift(reference, other_bins, DriftConfig())
    with pytest.raises(ValueError, match="different bins"):
        reference.merge(other_bins)


def test_reference_edges_are_interior_quantiles_without_ties() -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0), "t": [0.0] * 700 + [1.0] * 300})
    profile = build_reference_profile(frame, ["x", "t"], [], bins=4)
    x, t = profile.features["x"], profile.features["t"]
    assert isinstance(x, NumericProfile) and isinstance(t, NumericProfile)
    assert x.edges == (249.75, 499.5, 749.25)
    assert x.counts == (250, 250, 250, 250)
    assert t.edges == (0.0, 1.0)  # quantiles 0, 0, 1 collapse into two edges
    assert t.counts == (700, 300, 0)


def test_missing_inf_and_unseen_are_counted_not_dropped() -> None:
    reference = build_reference_profile(_frame(0), ["x"], ["c"])
    batch = pd.DataFrame({"x": [np.nan, np.inf, -np.inf, 0.0], "c": ["a", "zzz", None, "b"]})
    profile = profile_batch(batch, reference)
    x = profile.features["x"]
    assert x.missing == 1
    assert x.counts[0] == 1 and x.counts[-1] == 1  # -inf and +inf in the outer bins
    c = profile.features["c"]
    assert c.counts[UNSEEN] == 1 and c.missing == 1
    assert sum(x.counts) + x.missing == 4 and x.count == 1  # moments of finite values only
    assert x.mean == 0.0
    result = detect_drift(reference, batch, DriftConfig())
    x_drift = next(f for f in result.features if f.feature == "x")
    assert x_drift.current_missing_rate == 0.25


def test_integer_categories_survive_a_float_column() -> None:
    reference = build_reference_profile(pd.DataFrame({"k": [1, 2, 2, 3]}), [], ["k"])
    batch = pd.DataFrame({"k": [1.0, 2.0, np.nan, 4.0]})  # an int column with a NaN
    counts = profile_batch(batch, reference).features["k"].counts
    assert counts == {"1": 1, "2": 1, "3": 0, UNSEEN: 1}


def test_profile_json_round_trip() -> None:
    reference = build_reference_profile(_frame(0), ["x", "y"], ["c"])
    again = Profile.from_json(reference.to_json())
    assert again == reference
    assert again.to_json() == reference.to_json()
    batch = profile_batch(pd.DataFrame({"x": [np.nan], "y": [np.inf], "c": ["q"]}), reference)
    assert Profile.from_json(batch.to_json()) == batch  # no NaN/inf in the JSON
    result = detect_drift(reference, _frame(1, 1.0), DriftConfig())
    assert DriftResult.from_dict(result.to_dict()) == result


def test_report_names_each_drifted_feature() -> None:
    reference = build_reference_profile(_frame(0), ["x", "y"], ["c"])
    batch = _frame(1, shift=1.0)
    batch["c"] = "c"
    current = profile_batch(batch, reference)
    result = detect_drift(reference, current, DriftConfig())
    html = render_html(result, reference, current, title="t")
    assert "DRIFT" in html and "<svg" in html
    assert {f.feature for f in result.drifted_features} == {"x", "c"}
    for feature in result.drifted_features:
        assert f"<h3>{feature.feature}:" in html
    assert "http" not in html and "<script" not in html
    table = html[html.index("<table>") : html.index("</table>")]
    assert table.index(">x<") < table.index(">y<")  # sorted by effect


def test_report_is_fast_and_labels_large_values_distinctly() -> None:
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(8)]
    ref_frame = pd.DataFrame({n: rng.normal(1013.0, 2.0, 5000) for n in names})
    batch = pd.DataFrame({n: rng.normal(1016.0, 2.0, 5000) for n in names})
    reference = build_reference_profile(ref_frame, names, [])
    current = profile_batch(batch, reference)
    result = detect_drift(reference, current, DriftConfig())
    assert len(result.drifted_features) == 8
    start = time.perf_counter()
    html = render_html(result, reference, current, title="pressure")
    assert time.perf_counter() - start < 0.5
    assert "1e+03" not in html and html.count("<svg") == 8


def test_rainfall_break_is_seen_and_earlier_input_drift_is_not(rainfall_periods) -> None:  # type: ignore[no-untyped-def]
    """Golden, with the rainfall model's own drift config: periods 1-5 stay quiet despite
    PSI above 1 in visibility and wind (the model barely uses them); from the break on
    (period 6) dew_point and sea_level_pressure drift, and the report shows both."""
    from pathlib import Path

    from retrainer.config import load_model_config

    config = load_model_config(Path(__file__).parents[2] / "config/models/rainfall.yaml")
    train = rainfall_periods[0].iloc[:1271]  # period 0 without its newest 30% (the holdout)
    reference = build_reference_profile(train, config.numeric_features, [], bins=10)
    # Permutation importance (roc_auc, 5 repeats) of the configured model trained on that
    # window, as retrainer.training computes it (benchmarks/rainfall_drift.py prints it).
    importances = {
        "temperature": 0.0577,
        "dew_point": 0.1435,
        "sea_level_pressure": 0.0069,
        "visibility": 0.0584,
        "average_wind_speed": 0.0077,
        "max_sustained_wind_speed": 0.0154,
        "minimum_temperature": 0.0515,
        "maximum_temperature": 0.1375,
    }
    verdicts = {
        i: detect_drift(reference, rainfall_periods[i], config.drift, importances)
        for i in range(1, 10)
    }
    assert [i for i, r in verdicts.items() if r.drift] == [6, 7, 8, 9]
    assert verdicts[3].features[0].statistics["psi"] > 1.0  # visibility: large, harmless
    for i in (6, 7):
        drifted = {f.feature for f in verdicts[i].drifted_features}
        assert {"dew_point", "sea_level_pressure"} <= drifted
    period7 = verdicts[7]
    assert period7.features[0].feature == "dew_point" and period7.features[0].value > 3.0
    html = render_html(
        period7, reference, profile_batch(rainfall_periods[7], reference), title="p7"
    )
    assert "<h3>dew_point:" in html and "<h3>sea_level_pressure:" in html


def test_prediction_drift_is_evidence_not_verdict() -> None:
    from retrainer.drift import profile_predictions

    rng = np.random.default_rng(4)
    frame = _frame(0)
    scores = rng.beta(2, 5, len(frame))
    reference = build_reference_profile(frame, ["x", "y"], ["c"], predictions=scores)
    assert Profile.from_json(reference.to_json()) == reference
    assert reference.prediction is not None
    current = profile_batch(_frame(1), reference).with_prediction(
        profile_predictions(rng.beta(5, 2, 5000), reference.prediction)
    )
    result = detect_drift(reference, current, DriftConfig())
    assert result.prediction is not None and result.prediction.drifted
    assert result.prediction.value > 1.0  # Beta(2,5) vs Beta(5,2): far apart
    assert not result.drift  # the inputs did not move
    assert DriftResult.from_dict(result.to_dict()) == result
    html = render_html(result, reference, current, title="t")
    assert "Model output: drifted" in html and html.count("<svg") == 1
    with pytest.raises(ValueError, match="with predictions and one without"):
        current.merge(profile_batch(_frame(2), reference))
