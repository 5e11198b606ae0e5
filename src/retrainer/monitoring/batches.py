"""Landing and accepting batches: ``incoming/`` → validation → ``batches/`` or ``quarantine/``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrainer.errors import InputDataError, ObjectNotFound

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage

__all__ = ["BATCH_ID", "accept_batch", "find_incoming", "land_file", "load_suite_spec"]

BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]{0,127}$")
_SUFFIXES = (".parquet", ".csv")


def _check_batch_id(batch_id: str) -> str:
    if not BATCH_ID.match(batch_id):
        raise InputDataError(
            f"batch id {batch_id!r} is not valid: use letters, digits, '.', '_', '-', '=' "
            "(it becomes part of lake keys)"
        )
    return batch_id


def land_file(
    storage: Storage,
    model: str,
    path: str | Path,
    batch_id: str | None = None,
    *,
    zone: str | None = None,
) -> str:
    """Copy a local CSV/Parquet file into ``incoming/<model>/[<zone>/]<batch>.<ext>``.

    Returns the key. ``zone="labels"`` lands ground truth beside the batches it labels.
    """
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise InputDataError(f"{path}: only .csv and .parquet files can be landed")
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    batch_id = _check_batch_id(batch_id or path.stem)
    folder = f"incoming/{model}/{zone}" if zone else f"incoming/{model}"
    key = f"{folder}/{batch_id}{path.suffix.lower()}"
    storage.write_bytes(key, path.read_bytes())
    return key


def find_incoming(storage: Storage, model: str, batch_id: str) -> str:
    """Return the landing-zone key of a batch.

    Raises:
        ObjectNotFound: nothing was landed under that batch id.
    """
    _check_batch_id(batch_id)
    for suffix in _SUFFIXES:
        key = f"incoming/{model}/{batch_id}{suffix}"
        if storage.exists(key):
            return key
    raise ObjectNotFound(
        f"no landed file for batch {batch_id!r} of {model!r} under incoming/{model}/ "
        f"(looked for {', '.join(batch_id + s for s in _SUFFIXES)})"
    )


def accept_batch(
    storage: Storage, config: ModelConfig, batch_id: str, data_key: str
) -> dict[str, Any]:
    """Record an accepted batch's metadata next to its data (training windows read it)."""
    frame = storage.read_frame(data_key)
    meta: dict[str, Any] = {
        "batch_id": batch_id,
        "data_key": data_key,
        "rows": len(frame),
        "accepted_at": datetime.now(UTC).isoformat(),
        "start": None,
        "end": None,
        "labelled_rows": int(frame[config.target.column].notna().sum())
        if config.target.column in frame.columns
        else 0,
    }
    time_col = config.data.time_column
    if time_col and time_col in frame.columns and len(frame):
        import pandas as pd

        meta["start"] = pd.Timestamp(frame[time_col].min()).isoformat()
        meta["end"] = pd.Timestamp(frame[time_col].max()).isoformat()
    storage.write_json(f"batches/{config.name}/{batch_id}/meta.json", meta)
    return meta


def load_suite_spec(
    config: ModelConfig, champion_run_id: str | None, *, client: MlflowClient | None = None
) -> Any:
    """The champion's suite if there is a champion, else the schema from config alone.

    ``client`` reads the suite; without one, a client of the store ``connect`` set.
    """
    from retrainer.validation import SuiteSpec, apply_overrides, spec_from_config

    if champion_run_id is None:
        return spec_from_config(config)
    import mlflow

    from retrainer.registry.artifacts import read_artifact

    stored = SuiteSpec.from_dict(
        read_artifact(client or mlflow.MlflowClient(), champion_run_id, "suite")
    )
    return apply_overrides(stored, config)
