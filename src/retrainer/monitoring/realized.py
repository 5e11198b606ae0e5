"""Realized performance: the labels a batch has, joined to its prediction log, and metrics.

Labels come with the batch (its target column, aligned by row number) or land later in
``labels/<m>/<batch>.parquet`` and join by key; where both exist the late labels win.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from retrainer.evaluation.metrics import metrics_from_scores
from retrainer.lake import keys
from retrainer.monitoring.prediction_log import ROW_COLUMN, join_labels, log_scores

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage

__all__ = ["batch_labels", "labelled_truth", "labels_digest", "realized_metrics"]

log = logging.getLogger(__name__)


def realized_metrics(
    log_frame: pd.DataFrame, y: pd.Series, config: ModelConfig
) -> dict[str, float]:
    """The task's metrics on the labelled rows of a prediction log (``y`` aligned to it)."""
    found = labelled_truth(log_frame, y, config)
    if found is None:
        return {}
    scores, truth = found
    result = metrics_from_scores(truth, scores, config)
    result.pop("rows", None)
    return result


def labelled_truth(
    log_frame: pd.DataFrame, y: pd.Series, config: ModelConfig
) -> tuple[dict[str, Any], Any] | None:
    """The scores of the labelled rows and their truth in the model's own label type."""
    mask = y.notna().to_numpy()
    if not mask.any():
        return None
    labelled = log_frame.loc[mask]
    scores = log_scores(labelled)
    labels = y[mask]
    if config.target.task == "regression":
        truth = labels.astype(float).to_numpy()
    else:
        classes = scores.get("classes") or sorted(set(labelled["prediction"]))
        # Labels read from CSV may be floats (1.0) where the model's classes are ints.
        if classes and all(isinstance(c, int) for c in classes):
            truth = labels.astype(float).astype("int64").to_numpy()
        else:
            truth = labels.astype(str).to_numpy()
        unknown = sorted(set(map(str, truth)) - set(map(str, classes)))
        if unknown:
            # A class the model never saw is itself news: count it wrong, do not fail
            # (log loss and AUC are left out: they are undefined for it).
            log.warning(
                "%s: labels %s are not classes of the model %s", config.name, unknown, classes
            )
    return scores, truth


def _inline_labels(
    storage: Storage, config: ModelConfig, batch_id: str, log_frame: pd.DataFrame
) -> pd.Series | None:
    """Labels that came with the batch itself (the target column), aligned by row number."""
    import pandas as pd

    key = keys.batch_data(config.name, batch_id)
    if not storage.exists(key):
        return None
    data = storage.read_frame(key)
    if config.target.column not in data.columns:
        return None
    target = data[config.target.column].reset_index(drop=True)
    rows = log_frame[ROW_COLUMN].to_numpy() if ROW_COLUMN in log_frame else range(len(log_frame))
    return pd.Series(target.reindex(rows).to_numpy(), name=config.target.column)


def labels_digest(storage: Storage, model: str, batch_id: str) -> str | None:
    """SHA-256 of the batch's late labels file, ``None`` if none landed."""
    key = keys.labels_file(model, batch_id)
    if not storage.exists(key):
        return None
    return hashlib.sha256(storage.read_bytes(key)).hexdigest()


def batch_labels(
    storage: Storage, config: ModelConfig, batch_id: str, log_frame: pd.DataFrame
) -> pd.Series | None:
    """Every label of a batch aligned to its prediction log; ``None`` when it has none.

    Raises:
        InputDataError: late labels cannot be joined to the prediction log (the message
            names the missing or repeated key).
    """
    y = _inline_labels(storage, config, batch_id, log_frame)
    labels_key = keys.labels_file(config.name, batch_id)
    if not storage.exists(labels_key):
        return y
    late, unmatched = join_labels(
        log_frame, storage.read_frame(labels_key), config, source=labels_key
    )
    if unmatched:
        log.warning(
            "%s: %d label row(s) in %s match no row of batch %s (kept, not used)",
            config.name,
            unmatched,
            labels_key,
            batch_id,
        )
    return late if y is None else late.combine_first(y)
