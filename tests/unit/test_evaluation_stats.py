"""Golden numbers for the evaluation statistics on seeded data.

The bootstrap is checked twice: its point estimates equal scikit-learn's metrics, a single
weighted resample equals the metric on the explicitly resampled rows, and the seeded
intervals are pinned so that any change in the resampling scheme is noticed.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from retrainer.config import FairnessConfig, SliceConfig
from retrainer.evaluation import fairness, mcnemar, paired_bootstrap, slice_metrics
from retrainer.evaluation.bootstrap import weighted_metric

pytestmark = pytest.mark.unit


def _two_models(n: int = 2000, seed: int = 7):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(float)
    champ_s = np.clip(0.25 * y + rng.random(n) * 0.75, 0, 1)
    chal_s = np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1)
    champion = ((champ_s > 0.5).astype(float), champ_s)
    challenger = ((chal_s > 0.5).astype(float), chal_s)
    return rng, y, champion, challenger


def test_weighted_metrics_equal_sklearn_on_ones_and_on_an_explicit_resample() -> None:
    rng, y, _, (pred, score) = _two_models()
    score = np.round(score, 2)  # ties must count one half, as in sklearn
    ones = np.ones((1, len(y)))
    assert weighted_metric("roc_auc", ones, y, pred, score)[0] == pytest.approx(
        skm.roc_auc_score(y, score), abs=1e-12
    )
    assert weighted_metric("f1", ones, y, pred)[0] == pytest.approx(skm.f1_score(y, pred))
    assert weighted_metric("log_loss", ones, y, pred, score)[0] == pytest.approx(
        skm.log_loss(y, score)
    )
    idx = rng.integers(0, len(y), len(y))
    counts = np.bincount(idx, minlength=len(y))[None, :]
    assert weighted_metric("roc_auc", counts, y, pred, score)[0] == pytest.approx(
        skm.roc_auc_score(y[idx], score[idx]), abs=1e-12
    )
    assert weighted_metric("accuracy", counts, y, pred)[0] == pytest.approx(
        skm.accuracy_score(y[idx], pred[idx])
    )
    assert weighted_metric("rmse", counts, y, score)[0] == pytest.approx(
        np.sqrt(skm.mean_squared_error(y[idx], score[idx]))
    )


def test_paired_bootstrap_golden_intervals() -> None:
    _, y, champion, challenger = _two_models()
    auc = paired_bootstrap("roc_auc", y, champion, challenger, resamples=1000, seed=0)
    assert auc.difference == pytest.approx(0.10598452380952372, abs=1e-12)
    assert (auc.lower, auc.upper) == pytest.approx((0.08096585775519075, 0.13184057928903367))
    assert auc.resamples == 1000 and auc.confidence == 0.95
    loss = paired_bootstrap("log_loss", y, champion, challenger, resamples=1000, seed=0)
    assert (loss.lower, loss.upper) == pytest.approx((-0.1286220106391157, -0.0839229551399685))
    same = paired_bootstrap("accuracy", y, champion, champion, resamples=200, seed=0)
    assert (same.difference, same.lower, same.upper) == (0.0, 0.0, 0.0)


def test_mcnemar_counts_discordant_pairs() -> None:
    _, y, champion, challenger = _two_models()
    result = mcnemar(y, champion[0], challenger[0])
    assert (result.challenger_only, result.champion_only) == (500, 308)
    assert result.p_value == pytest.approx(1.4724815460008205e-11, rel=1e-9)
    assert mcnemar(y, champion[0], champion[0]).p_value == 1.0


def test_bootstrap_of_10k_rows_is_fast() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(10_000) < 0.3).astype(float)
    a, b = rng.random(10_000), np.clip(y * 0.2 + rng.random(10_000), 0, 1)
    started = time.perf_counter()
    paired_bootstrap("roc_auc", y, (a > 0.5, a), (b > 0.5, b), resamples=1000)
    # About 0.8 s on an idle core here; the bound leaves room for busy neighbours (2 shared
    # cores): it catches an accidental Python loop over resamples, not small regressions.
    assert time.perf_counter() - started < 10.0


def test_fairness_golden_disparate_impact_and_equal_opportunity() -> None:
    rng, y, _, challenger = _two_models()
    groups = pd.Series(np.where(rng.random(len(y)) < 0.5, "a", "b"))
    pred = challenger[0].copy()
    pred[(groups == "b").to_numpy() & (rng.random(len(y)) < 0.5)] = 0  # b selected half as often
    result = fairness(groups, y, pred, FairnessConfig(attribute="g"))
    assert result["reference_group"] == "a"
    assert result["disparate_impact"] == pytest.approx(0.5244232580037664)
    assert result["equal_opportunity_difference"] == pytest.approx(0.35394085374013107)
    privileged_b = fairness(groups, y, pred, FairnessConfig(attribute="g", privileged="b"))
    assert privileged_b["disparate_impact"] == pytest.approx(1 / 0.5244232580037664)
    tiny = fairness(groups, y, pred, FairnessConfig(attribute="g", min_group_size=5000))
    assert tiny["disparate_impact"] is None  # too small to judge: a gate rule on it fails


def test_slices_in_bin_order_with_small_slices_skipped() -> None:
    rng, y, champion, challenger = _two_models()
    frame = pd.DataFrame(
        {"x": rng.normal(size=len(y)), "g": np.where(rng.random(len(y)) < 0.9, "big", "small")}
    )
    slices = slice_metrics(
        frame,
        y,
        champion,
        challenger,
        metric="roc_auc",
        config=SliceConfig(columns=["x", "g"], min_size=300, bins=4),
        higher_is_better=True,
    )
    assert [s["slice"] for s in slices][:4] == [
        "(-inf, -0.699]",
        "(-0.699, -0.0275]",
        "(-0.0275, 0.601]",
        "(0.601, inf]",
    ]
    assert [s["rows"] for s in slices[:4]] == [500, 500, 500, 500]
    small = next(s for s in slices if s["slice"] == "small")
    assert "skipped" in small and "gain" not in small
    big = next(s for s in slices if s["slice"] == "big")
    assert big["gain"] == pytest.approx(big["challenger"] - big["champion"])
    assert all(s["gain"] > 0 for s in slices if "gain" in s)


def test_unpaired_bootstrap_matches_the_normal_interval_of_two_proportions() -> None:
    """Accuracy 0.5 on 400 rows vs 0.8 on 400 others: 0.3 ± 1.96·√(.25/400 + .16/400)."""
    from retrainer.evaluation.bootstrap import unpaired_bootstrap

    def side(hits: int, n: int) -> tuple[np.ndarray, np.ndarray, None]:
        y = np.ones(n)
        return y, (np.arange(n) < hits).astype(float), None

    a, b = side(200, 400), side(320, 400)
    interval = unpaired_bootstrap("accuracy", a, b, resamples=2000, seed=3)
    half = 1.96 * np.sqrt(0.25 / 400 + 0.16 / 400)
    assert interval.difference == pytest.approx(0.3)
    assert interval.lower == pytest.approx(0.3 - half, abs=0.01)
    assert interval.upper == pytest.approx(0.3 + half, abs=0.01)
    assert unpaired_bootstrap("accuracy", a, b, resamples=2000, seed=3) == interval
    same = unpaired_bootstrap("accuracy", a, side(200, 400), resamples=2000, seed=3)
    assert same.lower < 0 < same.upper
