"""Paired bootstrap of a metric difference, and McNemar's test for accuracy.

(Live traffic split between two versions is not paired: :func:`unpaired_bootstrap`.)

Both models are scored on the same holdout rows, so the comparison is *paired*: every
resample draws rows once and scores both models on them. Resampling rows with replacement
is the same as giving each original row an integer weight (how often it was drawn), so every
metric here is written as a function of a weight matrix ``W`` (resamples x rows). All
resamples are then computed at once with matrix products; AUC uses the rank formula on
score groups sorted once, so 1,000 resamples of 10,000 rows take well under a second.

Notes:
    Weighted AUC with ties counted as one half:

    ``AUC = sum_g P_g * (N_<g + N_g / 2) / (sum P * sum N)``

    where for each distinct score ``g`` (ascending) ``P_g`` and ``N_g`` are the weights of the
    positive and negative rows with that score and ``N_<g`` the negative weight below it.
    The percentile interval of ``metric(challenger) - metric(champion)`` is reported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.metric_specs import BOOTSTRAP_METRICS

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    import numpy.typing as npt

__all__ = [
    "DiffInterval",
    "McNemar",
    "mcnemar",
    "metric_interval",
    "paired_bootstrap",
    "unpaired_bootstrap",
    "weighted_metric",
]

_CHUNK = 250  # resamples per matrix block: bounds memory at 250 x rows weights


@dataclass(frozen=True)
class DiffInterval:
    """Challenger minus champion for one metric, with its bootstrap percentile interval."""

    metric: str
    difference: float
    lower: float
    upper: float
    confidence: float
    resamples: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test on the rows where exactly one model is right."""

    challenger_only: int
    champion_only: int
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _auc(w: np.ndarray, y: np.ndarray, score: np.ndarray) -> np.ndarray:
    import numpy as np

    order = np.argsort(score, kind="stable")
    s, yy = score[order], y[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ws = w[:, order]
    pos = np.add.reduceat(ws * yy, starts, axis=1)
    neg = np.add.reduceat(ws, starts, axis=1) - pos
    below = np.cumsum(neg, axis=1) - neg
    denom = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((pos * (below + 0.5 * neg)).sum(axis=1) / denom)


def weighted_metric(
    metric: str,
    weights: npt.ArrayLike,
    y: np.ndarray,
    prediction: np.ndarray,
    score: np.ndarray | None = None,
) -> np.ndarray:
    """Compute ``metric`` for every row of ``weights`` (one resample per row).

    Args:
        metric: one of :data:`retrainer.metric_specs.BOOTSTRAP_METRICS`.
        weights: (resamples, rows) non-negative row weights; ones give the plain metric.
        y: the truth; for binary metrics 1.0 for the positive class, else 0.0.
        prediction: predicted labels (binary: 1.0/0.0) or values (regression).
        score: the positive-class probability (roc_auc, log_loss).

    Returns:
        One value per resample (NaN where the metric is undefined, e.g. one class only).
    """
    import numpy as np

    w = np.atleast_2d(np.asarray(weights, dtype=float))
    total = w.sum(axis=1)
    if metric == "accuracy":
        return np.asarray(w @ (prediction == y).astype(float) / total)
    if metric == "mae":
        return np.asarray(w @ np.abs(prediction - y) / total)
    if metric == "rmse":
        return np.asarray(np.sqrt(w @ (prediction - y) ** 2 / total))
    if metric == "f1":
        tp = w @ ((prediction == 1) & (y == 1)).astype(float)
        wrong = w @ (prediction != y).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = 2 * tp / (2 * tp + wrong)
        return np.asarray(np.where(2 * tp + wrong > 0, f1, 0.0))
    if score is None:
        raise ValueError(f"{metric} needs scores (probabilities)")
    if metric == "log_loss":
        p = np.clip(score, 1e-15, 1 - 1e-15)
        loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return np.asarray(w @ loss / total)
    if metric == "roc_auc":
        return _auc(w, y.astype(float), score)
    raise ValueError(f"no bootstrap for metric {metric!r}; expected one of {BOOTSTRAP_METRICS}")


def _resample_weights(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Bootstrap resamples of ``n`` rows as (chunk, n) weight matrices, seeded."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        # Counting the drawn row indices per resample turns "draw n rows with replacement"
        # into weights (bincount over offset indices: far faster than rng.multinomial).
        drawn = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        yield np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n).astype(float)


def metric_interval(
    metric: str,
    y: np.ndarray,
    prediction: np.ndarray,
    score: np.ndarray | None = None,
    *,
    resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile interval of one model's ``metric`` on these rows (None: undefined here).

    How much the metric moves from sampling alone: wide on a small batch or a rare class.
    """
    import numpy as np

    values = np.concatenate(
        [
            weighted_metric(metric, w, y, prediction, score)
            for w in _resample_weights(len(y), resamples, seed)
        ]
    )
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    alpha = (1.0 - confidence) / 2.0
    lower, upper = np.quantile(values, [alpha, 1.0 - alpha])
    return float(lower), float(upper)


def paired_bootstrap(
    metric: str,
    y: np.ndarray,
    champion: tuple[np.ndarray, np.ndarray | None],
    challenger: tuple[np.ndarray, np.ndarray | None],
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> DiffInterval:
    """Percentile interval of ``metric(challenger) - metric(champion)`` over paired resamples.

    Args:
        metric: one of :data:`retrainer.metric_specs.BOOTSTRAP_METRICS`.
        y: truth, as for :func:`weighted_metric`.
        champion: (prediction, score) of the champion on the rows of ``y``.
        challenger: (prediction, score) of the challenger on the same rows.
        resamples: number of bootstrap resamples.
        confidence: coverage of the two-sided interval.
        seed: seeds the resampling, so a decision can be reproduced exactly.
    """
    import numpy as np

    n = len(y)
    ones = np.ones((1, n))
    point = float(
        weighted_metric(metric, ones, y, *challenger)[0]
        - weighted_metric(metric, ones, y, *champion)[0]
    )
    diffs = [
        weighted_metric(metric, w, y, *challenger) - weighted_metric(metric, w, y, *champion)
        for w in _resample_weights(n, resamples, seed)
    ]
    d = np.concatenate(diffs)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return DiffInterval(metric, point, float("nan"), float("nan"), confidence, 0)
    alpha = (1.0 - confidence) / 2.0
    lower, upper = np.quantile(d, [alpha, 1.0 - alpha])
    return DiffInterval(metric, point, float(lower), float(upper), confidence, int(d.size))


def unpaired_bootstrap(
    metric: str,
    baseline: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    other: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> DiffInterval:
    """Percentile interval of ``metric(other) - metric(baseline)`` on different rows.

    Live traffic split between two versions gives each its own rows (no row is scored by
    both), so each side is resampled on its own, with the same seeded resampling as
    :func:`paired_bootstrap`, and the differences of the k-th resamples are taken.

    Args:
        metric: one of :data:`retrainer.metric_specs.BOOTSTRAP_METRICS`.
        baseline: (truth, prediction, score) of the rows the baseline version served.
        other: the same for the rows the other version served.
    """
    import numpy as np

    def one(side: tuple[np.ndarray, np.ndarray, np.ndarray | None], w: Any) -> np.ndarray:
        y, prediction, score = side
        return weighted_metric(metric, w, y, prediction, score)

    point = float(one(other, np.ones((1, len(other[0]))))[0]) - float(
        one(baseline, np.ones((1, len(baseline[0]))))[0]
    )
    # Different seeds per side: the same seed would draw the same row positions twice.
    d = np.concatenate(
        [
            one(other, w_other) - one(baseline, w_base)
            for w_base, w_other in zip(
                _resample_weights(len(baseline[0]), resamples, seed),
                _resample_weights(len(other[0]), resamples, seed + 1),
                strict=True,
            )
        ]
    )
    d = d[np.isfinite(d)]
    if d.size == 0:
        return DiffInterval(metric, point, float("nan"), float("nan"), confidence, 0)
    alpha = (1.0 - confidence) / 2.0
    lower, upper = np.quantile(d, [alpha, 1.0 - alpha])
    return DiffInterval(metric, point, float(lower), float(upper), confidence, int(d.size))


def mcnemar(y: np.ndarray, champion_pred: np.ndarray, challenger_pred: np.ndarray) -> McNemar:
    """Exact McNemar test: do the models' errors differ more than chance allows?"""
    from scipy.stats import binomtest

    mine = challenger_pred == y
    theirs = champion_pred == y
    b = int((mine & ~theirs).sum())
    c = int((~mine & theirs).sum())
    p = 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)
    return McNemar(b, c, p)
