"""Live A/B evidence: when served rows carry two versions, how each did on its own rows.

A service that sends a share of traffic to a challenger logs which version served each
row (``data.serving.version_column``). Once labels land, each version's realized metrics
are computed on the rows it served, and every other version is compared with the
baseline (the version that served most rows) by the gate's interval statistics. The
rows differ between versions, so the bootstrap is unpaired
(:func:`retrainer.evaluation.bootstrap.unpaired_bootstrap`). This is evidence, reported
in ``performance.json`` under ``by_version``; nothing is promoted on it here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrainer.evaluation.bootstrap import unpaired_bootstrap
from retrainer.evaluation.metrics import metrics_from_scores
from retrainer.metric_specs import bootstrap_metrics
from retrainer.monitoring.realized import labelled_truth

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = ["compare_versions"]

Side = tuple["np.ndarray", "np.ndarray", "np.ndarray | None"]


def _encode(scores: dict[str, Any], truth: Any, config: ModelConfig) -> Side:
    """Truth, prediction and positive-class score as the bootstrap reads them."""
    import numpy as np

    prediction = np.asarray(scores["prediction"])
    if config.target.task == "regression":
        return np.asarray(truth, dtype=float), prediction.astype(float), None
    if config.target.task == "multiclass":
        return np.asarray(truth), prediction, None
    positive = config.target.positive_label
    classes = list(scores.get("classes", []))
    score = None
    if "proba" in scores and positive in classes:
        score = np.asarray(scores["proba"][:, classes.index(positive)], dtype=float)
    y = (np.asarray(truth) == positive).astype(float)
    return y, (prediction == positive).astype(float), score


def compare_versions(
    log_frame: pd.DataFrame, y: pd.Series | None, config: ModelConfig, baseline: str | None
) -> dict[str, Any]:
    """Per-version realized metrics and intervals against ``baseline``; ``{}`` for one version.

    Args:
        log_frame: the batch's prediction log (``model_version`` per row).
        y: the labels aligned to it (missing where none arrived).
        baseline: the version the others are compared with.

    Returns:
        ``{"baseline", "paired": False, "versions": {v: {"rows", "labelled_rows",
        "realized"}}, "intervals": {v: {metric: other minus baseline}}}``.
    """
    if y is None or baseline is None:
        return {}
    versions = log_frame["model_version"].astype(str)
    served = sorted(versions.dropna().unique())
    if len(served) < 2:
        return {}
    labelled = y.notna().to_numpy()
    evaluation = config.evaluation
    sides: dict[str, Side] = {}
    out: dict[str, Any] = {"baseline": baseline, "paired": False, "versions": {}, "intervals": {}}
    for version in served:
        rows = (versions == version).to_numpy()
        found = labelled_truth(
            log_frame.loc[rows].reset_index(drop=True), y[rows].reset_index(drop=True), config
        )
        realized: dict[str, float] = {}
        if found is not None:
            scores, truth = found
            realized = metrics_from_scores(truth, scores, config)
            realized.pop("rows", None)
            sides[version] = _encode(scores, truth, config)
        out["versions"][version] = {
            "rows": int(rows.sum()),
            "labelled_rows": int((rows & labelled).sum()),
            "realized": realized,
        }
    if baseline not in sides:
        return out
    for version, side in sides.items():
        if version == baseline:
            continue
        intervals = {}
        for metric in bootstrap_metrics(config.target.task):
            if metric in {"roc_auc", "log_loss"} and (
                side[2] is None or sides[baseline][2] is None
            ):
                continue
            interval = unpaired_bootstrap(
                metric,
                sides[baseline],
                side,
                resamples=evaluation.bootstrap_resamples,
                confidence=evaluation.confidence,
                seed=evaluation.seed,
            )
            if interval.resamples:
                intervals[metric] = interval.to_dict()
        out["intervals"][version] = intervals
    return out
