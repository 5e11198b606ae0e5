"""The verdict's error rates: false alarms on no-drift batches, power on a small shift.

Batches of 100k rows are simulated on their bins (multinomial counts, per-bin sums from
the truncated normal's moments) so that 200 of them take a second, not minutes; one
batch of real rows checks that the simulation and the real path agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from retrainer.config import DriftConfig
from retrainer.drift import (
    CategoricalProfile,
    NumericProfile,
    Profile,
    build_reference_profile,
    detect_drift,
    profile_batch,
)

pytestmark = pytest.mark.unit

NUMERIC = [f"x{i}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
LEVELS = ["a", "b", "c", "d"]
P_LEVELS = [0.4, 0.3, 0.2, 0.1]
# x0 is the model's main feature: 40% of the importance, the rest shared.
IMPORTANCES = {"x0": 0.4, **{f: 0.6 / 24 for f in [*NUMERIC[1:], *CATEGORICAL]}}
MISSING = 0.01
ROWS = 100_000


def _reference(rng: np.random.Generator) -> Profile:
    data: dict[str, object] = {}
    for name in NUMERIC:
        values = rng.normal(0.0, 1.0, ROWS)
        values[rng.random(ROWS) < MISSING] = np.nan
        data[name] = values
    for name in CATEGORICAL:
        data[name] = rng.choice(LEVELS, ROWS, p=P_LEVELS)
    return build_reference_profile(pd.DataFrame(data), NUMERIC, CATEGORICAL)


def _numeric(rng: np.random.Generator, ref: NumericProfile, n: int, shift: float) -> NumericProfile:
    """A batch of ``n`` draws of N(shift, 1) with 1% missing, profiled on ``ref``'s bins."""
    bounds = np.r_[-np.inf, ref.edges, np.inf] - shift
    cdf, pdf = stats.norm.cdf(bounds), stats.norm.pdf(bounds)
    mass = np.diff(cdf)
    counts = rng.multinomial(n, np.r_[mass * (1 - MISSING), MISSING])
    bins, missing = counts[:-1], int(counts[-1])
    # Truncated standard normal moments per bin (finite bounds only carry x * pdf terms).
    xpdf = np.where(np.isfinite(bounds), bounds, 0.0) * pdf
    mean = (pdf[:-1] - pdf[1:]) / mass
    var = 1.0 + (xpdf[:-1] - xpdf[1:]) / mass - mean**2
    sums = rng.normal(bins * (mean + shift), np.sqrt(bins * np.maximum(var, 0.0)))
    total_sq = float(np.sum(bins * (var + (mean + shift) ** 2)))
    return NumericProfile(
        ref.edges,
        tuple(int(c) for c in bins),
        missing,
        int(bins.sum()),
        float(sums.sum()),
        total_sq,
        -5.0 + shift,
        5.0 + shift,
        (float(sums[0]), float(sums[-1])),
    )


def _batch(rng: np.random.Generator, reference: Profile, shift: float = 0.0) -> Profile:
    features: dict[str, NumericProfile | CategoricalProfile] = {}
    for name, ref in reference.features.items():
        if isinstance(ref, NumericProfile):
            features[name] = _numeric(rng, ref, ROWS, shift if name == "x0" else 0.0)
        else:
            counts = rng.multinomial(ROWS, P_LEVELS)
            features[name] = CategoricalProfile(
                {**dict(zip(LEVELS, map(int, counts), strict=True)), "__unseen__": 0}, 0
            )
    return Profile(features, ROWS)


def test_no_drift_batches_rarely_raise_an_alarm() -> None:
    rng = np.random.default_rng(2026)
    reference = _reference(rng)
    config = DriftConfig()
    alarms, flags = 0, 0
    for _ in range(200):
        result = detect_drift(reference, _batch(rng, reference), config, IMPORTANCES)
        alarms += result.drift
        flags += len(result.drifted_features)
    assert alarms / 200 <= 0.05
    assert flags / (200 * 25) <= 0.01  # features flagged by chance, of all feature checks


def test_a_tenth_of_a_standard_deviation_in_the_main_feature_is_found() -> None:
    rng = np.random.default_rng(7)
    reference = _reference(rng)
    found = 0
    for _ in range(20):
        result = detect_drift(
            reference, _batch(rng, reference, shift=0.1), DriftConfig(), IMPORTANCES
        )
        found += result.drift and [f.feature for f in result.drifted_features] == ["x0"]
    assert found == 20
    x0 = next(f for f in result.features if f.feature == "x0")
    assert x0.value == pytest.approx(0.1, abs=0.02)  # normalised Wasserstein ~ the shift
    # 10 equal shares of importance would make it 0.1 / 10; the floor keeps it at half.
    assert x0.threshold == pytest.approx(0.05)
    assert x0.statistics["psi"] < 0.02  # PSI alone would call this stable
    assert "x0 (W/sd 0.1" in result.explanation


def test_the_simulation_agrees_with_real_rows() -> None:
    rng = np.random.default_rng(11)
    reference = _reference(rng)
    rows = pd.DataFrame({n: rng.normal(0.1 if n == "x0" else 0.0, 1.0, ROWS) for n in NUMERIC})
    for name in CATEGORICAL:
        rows[name] = rng.choice(LEVELS, ROWS, p=P_LEVELS)
    real = detect_drift(reference, profile_batch(rows, reference), DriftConfig(), IMPORTANCES)
    simulated = detect_drift(reference, _batch(rng, reference, 0.1), DriftConfig(), IMPORTANCES)
    assert [f.feature for f in real.drifted_features] == ["x0"]
    assert real.drift and simulated.drift
    value = {r.feature: r.value for r in real.features}
    assert value["x0"] == pytest.approx(simulated.features[0].value, abs=0.01)


def test_a_large_batch_does_not_flag_tiny_but_significant_changes() -> None:
    rng = np.random.default_rng(5)
    reference = _reference(rng)
    batch = _batch(rng, reference)
    # 10M rows with a 0.04 sd shift in an ordinary feature: highly significant, negligible.
    features = dict(batch.features)
    features["x5"] = _numeric(rng, reference.features["x5"], 10_000_000, 0.04)  # type: ignore[arg-type]
    result = detect_drift(reference, Profile(features, ROWS), DriftConfig(), IMPORTANCES)
    x5 = next(f for f in result.features if f.feature == "x5")
    assert x5.p_adjusted < 1e-4 and not x5.drifted and not result.drift


def _shifted_categorical(rng: np.random.Generator, n: int) -> CategoricalProfile:
    # About as small as the numeric shifts: 1 point of probability from "a" to "d".
    counts = rng.multinomial(n, [0.39, 0.3, 0.2, 0.11])
    return CategoricalProfile(
        {**dict(zip(LEVELS, map(int, counts), strict=True)), "__unseen__": 0}, 0
    )


def test_a_large_batch_with_negligible_shifts_everywhere_stays_quiet() -> None:
    """500k rows, every feature moved by 0.02 sd (or a point of probability): each change
    is highly significant, none matters. The main feature's importance-scaled threshold
    (0.01 without the floor) would flag it and, with it, 40% of the importance."""
    rng = np.random.default_rng(17)
    reference = _reference(rng)
    n = 500_000
    features: dict[str, NumericProfile | CategoricalProfile] = {}
    for name, ref in reference.features.items():
        if isinstance(ref, NumericProfile):
            features[name] = _numeric(rng, ref, n, 0.02)
        else:
            features[name] = _shifted_categorical(rng, n)
    result = detect_drift(reference, Profile(features, n), DriftConfig(), IMPORTANCES)
    x0 = next(f for f in result.features if f.feature == "x0")
    assert x0.p_adjusted < 1e-3  # significant: only the effect floor keeps it quiet
    assert x0.value == pytest.approx(0.02, abs=0.005)
    assert not result.drifted_features and not result.drift
    assert result.explanation.startswith("no drift: no feature above its threshold")
    # The floor is a setting: lowered to the old tenth, the same batch alarms.
    loose = detect_drift(
        reference, Profile(features, n), DriftConfig(importance_floor=0.1), IMPORTANCES
    )
    assert loose.drift and [f.feature for f in loose.drifted_features] == ["x0"]
