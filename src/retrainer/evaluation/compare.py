"""Gather the evidence the gate judges: intervals, McNemar, slices, fairness, latency, size.

Everything is computed on the same holdout rows for both models (the challenger's holdout:
the most recent labelled rows of its window, which it never trained on).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from retrainer.evaluation.bootstrap import mcnemar, paired_bootstrap
from retrainer.evaluation.metrics import chance_metrics, predict_scores
from retrainer.evaluation.slices import fairness, slice_metrics
from retrainer.metric_specs import bootstrap_metrics, greater_is_better

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = ["Scored", "compare_models", "score_rows", "timed_score_rows"]

log = logging.getLogger(__name__)

Scored = tuple["np.ndarray", "np.ndarray | None"]


def score_rows(model: Any, frame: pd.DataFrame, config: ModelConfig) -> tuple[np.ndarray, Scored]:
    """Truth and (prediction, positive-class score) encoded for the bootstrap.

    Binary tasks become 1.0 (positive) / 0.0, so every metric is arithmetic on arrays.
    """
    import numpy as np

    truth = frame[config.target.column].to_numpy()
    out = predict_scores(model, frame, config)
    prediction = np.asarray(out["prediction"])
    if config.target.task == "regression":
        return truth.astype(float), (prediction.astype(float), None)
    if config.target.task == "multiclass":
        return truth, (prediction, None)
    positive = config.target.positive_label
    score = None
    if "proba" in out and positive in out["classes"]:
        score = np.asarray(out["proba"][:, out["classes"].index(positive)], dtype=float)
    return (truth == positive).astype(float), ((prediction == positive).astype(float), score)


def timed_score_rows(
    model: Any, frame: pd.DataFrame, config: ModelConfig
) -> tuple[np.ndarray, Scored, float]:
    """:func:`score_rows` plus its wall-clock cost in milliseconds per 1,000 rows.

    The scoring the evaluation needs anyway is the measurement: timing extra runs would
    double the evaluation's cost on a busy machine for little more precision.
    """
    start = time.perf_counter()
    y, scored = score_rows(model, frame, config)
    elapsed = time.perf_counter() - start
    return y, scored, elapsed * 1000.0 * 1000.0 / max(len(frame), 1)


def model_size_mb(model: Any) -> float:
    """Serialized size of the fitted object in the format it is stored in (skops)."""
    import skops.io

    return len(skops.io.dumps(model)) / 1e6


def compare_models(
    holdout: pd.DataFrame, challenger: Any, champion: Any | None, config: ModelConfig
) -> dict[str, Any]:
    """Measure both models on the labelled holdout rows; the gate reads the result.

    A champion that fails to score is left out (``champion_error``), so every rule that
    needs it fails closed instead of being skipped.
    """
    labelled = holdout.dropna(subset=[config.target.column]).reset_index(drop=True)
    evaluation = config.evaluation
    y, mine, mine_latency = timed_score_rows(challenger, labelled, config)
    evidence: dict[str, Any] = {
        "rows": len(labelled),
        "intervals": {},
        "mcnemar": None,
        # What a label-prior predictor scores on these rows: the gate's floor of skill.
        "chance": chance_metrics(labelled[config.target.column], config),
    }
    latency = {"challenger": mine_latency}
    size = {"challenger": model_size_mb(challenger)}
    theirs: Scored | None = None
    if champion is not None:
        try:
            _, theirs, latency["champion"] = timed_score_rows(champion, labelled, config)
            size["champion"] = model_size_mb(champion)
        except Exception as exc:
            log.error("the champion could not be scored on the holdout: %s", exc)
            evidence["champion_error"] = str(exc)
    if theirs is not None and len(labelled):
        for metric in bootstrap_metrics(config.target.task):
            if metric in {"roc_auc", "log_loss"} and (mine[1] is None or theirs[1] is None):
                continue
            started = time.perf_counter()
            interval = paired_bootstrap(
                metric,
                y,
                theirs,
                mine,
                resamples=evaluation.bootstrap_resamples,
                confidence=evaluation.confidence,
                seed=evaluation.seed,
            )
            log.info("bootstrap of %s took %.3f s", metric, time.perf_counter() - started)
            if interval.resamples:
                evidence["intervals"][metric] = interval.to_dict()
        if config.target.task != "regression":
            evidence["mcnemar"] = mcnemar(y, theirs[0], mine[0]).to_dict()
    if evaluation.slices.columns:
        # Slices are judged on the gate metric where it can be computed from arrays.
        supported = bootstrap_metrics(config.target.task)
        metric = config.gate.metric if config.gate.metric in supported else supported[0]
        if metric in {"roc_auc", "log_loss"} and mine[1] is None:
            metric = "accuracy"
        evidence["slice_metric"] = metric
        evidence["slices"] = slice_metrics(
            labelled,
            y,
            theirs,
            mine,
            metric=metric,
            config=evaluation.slices,
            higher_is_better=greater_is_better(metric),
        )
    if evaluation.fairness is not None and config.target.task == "binary":
        groups = labelled[evaluation.fairness.attribute]
        evidence["fairness"] = {
            "challenger": fairness(groups, y, mine[0], evaluation.fairness),
            "champion": None
            if theirs is None
            else fairness(groups, y, theirs[0], evaluation.fairness),
        }
    evidence["latency_ms_per_1k_rows"] = latency
    evidence["model_size_mb"] = size
    return evidence
