"""Has the label-free estimate stopped following the labels?

Judged once labels land, on the metric the trigger watches (the one the estimate stands in
for), within the band that sampling alone allows: a metric realized on 300 rows with 4.5%
positives moves by more than 0.1 from one batch to the next with nothing wrong, so the
band is the larger of ``monitoring.estimate_band`` and half the realized metric's 95%
bootstrap interval on the batch. Other metrics' divergences are reported, not alerted:
precision on a rare class swings far more than the AUC the trigger relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrainer.metric_specs import metric_spec

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = ["EstimateHealth", "estimate_health"]

_RESAMPLES = 200  # enough for a 95% band's half-width to 0.005 on AUC; ~50 ms at 10k rows


@dataclass(frozen=True)
class EstimateHealth:
    """The trigger metric's estimate against its realized value, and the band allowed."""

    metric: str
    divergence: float | None
    band: float
    broken: bool


def _encoded(
    config: ModelConfig, metric: str, scores: dict[str, Any], truth: Any
) -> tuple[Any, Any, Any] | None:
    """Truth, prediction and score as the bootstrap takes them, or None if it cannot."""
    import numpy as np

    task = config.target.task
    if task not in metric_spec(metric).bootstrap_tasks:
        return None
    prediction = np.asarray(scores["prediction"])
    if task == "regression":
        return np.asarray(truth, dtype=float), prediction.astype(float), None
    if task == "multiclass":
        return np.asarray(truth), prediction, None
    positive = config.target.positive_label
    classes = list(scores.get("classes") or [])
    score = None
    if "proba" in scores and positive in classes:
        score = np.asarray(scores["proba"][:, classes.index(positive)], dtype=float)
    hits = (np.asarray(truth) == positive).astype(float)
    return hits, (prediction == positive).astype(float), score


def _noise(config: ModelConfig, metric: str, log_frame: pd.DataFrame, y: pd.Series) -> float:
    from retrainer.evaluation.bootstrap import metric_interval
    from retrainer.monitoring.realized import labelled_truth

    found = labelled_truth(log_frame, y, config)
    if found is None:
        return 0.0
    encoded = _encoded(config, metric, *found)
    if encoded is None or (metric in {"roc_auc", "log_loss"} and encoded[2] is None):
        return 0.0
    interval = metric_interval(metric, *encoded, resamples=_RESAMPLES, seed=0)
    return 0.0 if interval is None else (interval[1] - interval[0]) / 2.0


def estimate_health(
    config: ModelConfig,
    log_frame: pd.DataFrame,
    y: pd.Series | None,
    estimated: dict[str, float],
    realized: dict[str, float],
) -> EstimateHealth:
    """Judge the estimate of the trigger metric against the labels of one batch."""
    metric = config.trigger_metric
    floor = config.monitoring.estimate_band
    if y is None or metric not in estimated or metric not in realized:
        return EstimateHealth(metric, None, floor, False)
    divergence = estimated[metric] - realized[metric]
    band = max(floor, _noise(config, metric, log_frame, y))
    return EstimateHealth(metric, divergence, band, abs(divergence) > band)
