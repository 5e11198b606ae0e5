"""The prediction log of a batch and the join of late labels to it.

``predictions/<m>/<batch>.parquet`` holds, per scored row: its key (the id column, the
time column, and always the row number), the prediction, one ``proba_<class>`` column per
class, the model version, the batch id and when it was scored. Realized and estimated
performance are computed from it, so the model is loaded only once per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.errors import InputDataError
from retrainer.lake import keys

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig
    from retrainer.config.data import DataConfig
    from retrainer.storage import Storage

__all__ = [
    "PROBA_PREFIX",
    "ROW_COLUMN",
    "join_key",
    "join_labels",
    "log_scores",
    "served_scores",
    "write_prediction_log",
]

PROBA_PREFIX = "proba_"
ROW_COLUMN = "row"


def join_key(config: ModelConfig) -> str:
    """The column labels are joined on: the request id of served predictions, else the id
    column, else the time column, else the row."""
    if config.data.serving is not None:
        return config.data.serving.request_id_column
    return config.data.id_column or config.data.time_column or ROW_COLUMN


def write_prediction_log(
    storage: Storage,
    config: ModelConfig,
    batch_id: str,
    frame: pd.DataFrame,
    scores: dict[str, Any],
    version: str | Sequence[str],
) -> str:
    """Write the prediction log of a scored batch; returns its key.

    ``version`` is the model version that scored every row, or one per row (served).
    """
    import pandas as pd

    log_frame = pd.DataFrame({ROW_COLUMN: range(len(frame)), "prediction": scores["prediction"]})
    served = config.data.serving
    request = served.request_id_column if served is not None else None
    # Key columns first, in the order join_key prefers them.
    for position, column in enumerate(
        c for c in (request, config.data.id_column, config.data.time_column) if c
    ):
        if column in frame.columns:
            log_frame.insert(position, column, frame[column].to_numpy())
    if "proba" in scores:
        for i, cls in enumerate(scores["classes"]):
            log_frame[f"{PROBA_PREFIX}{cls}"] = scores["proba"][:, i]
    log_frame["model_version"] = version if isinstance(version, str) else list(version)
    log_frame["batch_id"] = batch_id
    log_frame["scored_at"] = datetime.now(UTC).isoformat()
    key = keys.prediction_log(config.name, batch_id)
    storage.write_frame(key, log_frame)
    return key


def _typed(names: list[str], prediction: pd.Series) -> list[Any]:
    """Class values back from ``proba_<class>`` column names, typed like the predictions."""
    import pandas as pd

    if pd.api.types.is_integer_dtype(prediction.dtype) or pd.api.types.is_bool_dtype(
        prediction.dtype
    ):
        return [int(n) if n.lstrip("-").isdigit() else n for n in names]
    return list(names)


def log_scores(log: pd.DataFrame) -> dict[str, Any]:
    """The scores of a prediction log in :func:`predict_scores`' shape."""
    import numpy as np

    scores: dict[str, Any] = {"prediction": log["prediction"].to_numpy()}
    proba_columns = [c for c in log.columns if c.startswith(PROBA_PREFIX)]
    if proba_columns:
        names = [c.removeprefix(PROBA_PREFIX) for c in proba_columns]
        scores["classes"] = _typed(names, log["prediction"])
        scores["proba"] = np.asarray(log[proba_columns].to_numpy(), dtype=float)
    return scores


def served_scores(served: pd.DataFrame, config: ModelConfig) -> tuple[dict[str, Any], list[str]]:
    """What an online model served (``batches/<m>/<batch>/served.parquet``), in
    :func:`predict_scores`' shape, and the version that served each row.

    The classes are those of the probability columns, typed like the predictions.
    """
    import numpy as np

    from retrainer.validation.served import version_text

    serving = config.data.serving
    assert serving is not None  # only for a model that declares data.serving
    prediction = served[serving.prediction_column]
    scores: dict[str, Any] = {"prediction": prediction.to_numpy()}
    if config.target.task == "regression":
        scores["prediction"] = prediction.to_numpy(dtype=float)
    prefix = serving.proba_prefix
    columns = [c for c in served.columns if prefix and c.startswith(prefix)]
    if columns and prefix:
        scores["classes"] = _typed([c.removeprefix(prefix) for c in columns], prediction)
        scores["proba"] = np.asarray(served[columns].to_numpy(), dtype=float)
    return scores, [version_text(v) for v in served[serving.version_column]]


def _comparable(values: pd.Series, data: DataConfig | None, source: str) -> pd.Series:
    """Join keys as values both sides agree on: times as UTC instants, the rest as text."""
    if data is not None:
        from retrainer.times import parse_times

        return parse_times(values, data, name=source)
    return values.astype(str)


def join_labels(
    log: pd.DataFrame,
    labels: pd.DataFrame,
    config: ModelConfig,
    *,
    source: str = "labels",
) -> tuple[pd.Series, int]:
    """Align late labels with the rows of a prediction log by the join key.

    Args:
        log: the batch's prediction log.
        labels: a labels file (join key + target column).
        source: where the labels came from, for error messages.

    Returns:
        The label of each log row (missing where no label arrived) and the number of
        label rows whose key is not in this batch (kept in the lake, reported, not lost).

    Raises:
        InputDataError: the key or target column is missing on either side, or a key is
            repeated (a label would be counted twice).
    """
    key = join_key(config)
    target = config.target.column
    for frame, name, needed in ((labels, source, (key, target)), (log, "prediction log", (key,))):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InputDataError(
                f"{config.name}: {name} lacks column(s) {missing} needed to join labels on "
                f"{key!r} (data.id_column / data.time_column of the model config)"
            )
    is_time = key == config.data.time_column and key != ROW_COLUMN
    times = config.data if is_time else None
    label_keys = _comparable(labels[key], times, source)
    log_keys = _comparable(log[key], times, "prediction log")
    for values, name in ((label_keys, source), (log_keys, "prediction log")):
        repeated = values[values.duplicated() & values.notna()]
        if len(repeated):
            raise InputDataError(
                f"{config.name}: {name} repeats join key {key!r} values "
                f"{sorted(map(str, repeated.unique()))[:5]}: each row needs a unique key"
            )
    if label_keys.isna().any():
        raise InputDataError(
            f"{config.name}: {source} has {int(label_keys.isna().sum())} row(s) without a "
            f"usable {key!r}"
        )
    by_key = dict(zip(label_keys.tolist(), labels[target].tolist(), strict=True))
    aligned = log_keys.map(by_key)
    unmatched = len(set(by_key) - set(log_keys.tolist()))
    return aligned.rename(target), unmatched
