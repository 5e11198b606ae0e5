"""The batch catalogue: land a file, find it, accept a batch, list batches by outcome.

A batch lands in ``incoming/`` and is validated; accepted rows go to ``batches/`` with a
:class:`~retrainer.lake.records.BatchMeta` record, rejected ones to ``quarantine/``. The
catalogue answers "which batches are there" from key listings and those records.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from retrainer.errors import InputDataError, LakeConflict, ObjectNotFound
from retrainer.lake import keys
from retrainer.lake.records import BatchMeta, write_meta
from retrainer.limits import DEFAULT_MAX_BATCH_BYTES, size_excess

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage

__all__ = [
    "BATCH_ID",
    "accept_batch",
    "accepted_batches",
    "accepted_ids",
    "find_incoming",
    "keep_accepted",
    "labelled_ids",
    "land_file",
    "quarantined_ids",
]

# Matched whole (fullmatch): "$" would also let a trailing newline through.
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.=-]{0,127}")


def _check_batch_id(batch_id: str) -> str:
    if not BATCH_ID.fullmatch(batch_id):
        raise InputDataError(
            f"batch id {batch_id!r} is not valid: use letters, digits, '.', '_', '-', '=' "
            "(it becomes part of lake keys)"
        )
    # Folders of rejected labels files are named after their batch with this prefix, so a
    # batch named like one would share its quarantine folder. Case-blind: some disks are.
    if batch_id.lower().startswith(keys.LABELS_QUARANTINE):
        raise InputDataError(
            f"batch id {batch_id!r} is not valid: ids starting with "
            f"{keys.LABELS_QUARANTINE!r} are reserved for quarantined labels files"
        )
    return batch_id


def _landed(storage: Storage, model: str, batch_id: str, zone: str | None) -> list[str]:
    """Every landed file of a batch in a zone, whatever its format."""
    return [
        key
        for suffix in keys.INCOMING_SUFFIXES
        if storage.exists(key := keys.incoming_file(model, batch_id, suffix, zone))
    ]


def _relanding(model: str, batch_id: str, existing: str, zone: str | None) -> LakeConflict:
    what = f"labels of batch {batch_id!r}" if zone else f"batch {batch_id!r}"
    how = (
        f"the lake keeps originals: to replace them, delete {existing} (and "
        f"{keys.labels_file(model, batch_id)} if accepted) on purpose, then land again"
        if zone
        else "land the new file under a new batch id (--batch-id)"
    )
    return LakeConflict(f"{what} of {model!r} was landed already as {existing}; {how}")


def land_file(
    storage: Storage,
    model: str,
    path: str | Path,
    batch_id: str | None = None,
    *,
    zone: str | None = None,
    max_bytes: int = DEFAULT_MAX_BATCH_BYTES,
) -> str:
    """Copy a local CSV/Parquet file into ``incoming/<model>/[<zone>/]<batch>.<ext>``.

    Returns the key. ``zone="labels"`` lands ground truth beside the batches it labels.
    Originals are kept: landing the very same bytes again is a no-op, anything else under
    a batch id that was landed already (in any format) is refused. A file larger than
    ``max_bytes`` (the model's ``validation.max_batch_bytes``) is refused before a byte
    of it is read or written.

    Raises:
        InputDataError: the file or the batch id is not acceptable, or the file is too big.
        LakeConflict: the batch id was landed already with other content or format.
    """
    path = Path(path)
    if path.suffix.lower() not in keys.INCOMING_SUFFIXES:
        raise InputDataError(f"{path}: only .csv and .parquet files can be landed")
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    batch_id = _check_batch_id(batch_id or path.stem)
    _check_size(path, path.stat().st_size, max_bytes)
    key = keys.incoming_file(model, batch_id, path.suffix.lower(), zone)
    others = [k for k in _landed(storage, model, batch_id, zone) if k != key]
    if others:
        raise _relanding(model, batch_id, others[0], zone)
    with path.open("rb") as handle:
        # Never more than the limit in memory, even when the file grows after stat().
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        _check_size(path, max(len(data), path.stat().st_size), max_bytes)
    # One atomic create: of two racing landings of one key, one wins and the other is told.
    if not storage.create_new(key, data) and storage.read_bytes(key) != data:
        raise _relanding(model, batch_id, key, zone)
    return key


def _check_size(path: Path, size: int, max_bytes: int) -> None:
    excess = size_excess(size, max_bytes)
    if excess is not None:
        raise InputDataError(
            f"{path}: not landed: {excess}; split it into smaller batches, or raise the "
            "limit in the model's YAML if the workers have the memory"
        )


def find_incoming(storage: Storage, model: str, batch_id: str) -> str:
    """Return the landing-zone key of a batch.

    Raises:
        ObjectNotFound: nothing was landed under that batch id.
        LakeConflict: the batch was landed in two formats (which one is meant is unknown).
    """
    _check_batch_id(batch_id)
    found = _landed(storage, model, batch_id, None)
    if len(found) > 1:
        raise LakeConflict(
            f"batch {batch_id!r} of {model!r} was landed twice, as {' and '.join(found)}: "
            "which one to use is unknown; land the intended file under a new batch id"
        )
    if found:
        return found[0]
    raise ObjectNotFound(
        f"no landed file for batch {batch_id!r} of {model!r} under {keys.incoming(model)}/ "
        f"(looked for {', '.join(batch_id + s for s in keys.INCOMING_SUFFIXES)})"
    )


def keep_accepted(storage: Storage, key: str, frame: pd.DataFrame) -> str:
    """Write the accepted rows of a batch once; a rerun that accepts the same rows is a no-op.

    Raises:
        LakeConflict: ``key`` already holds other rows (the original would be lost).
    """
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)  # as Storage.write_frame stores a table
    data = buffer.getvalue()
    if storage.create_new(key, data):
        return storage.uri(key)
    existing = storage.read_bytes(key)
    if existing == data or _same_rows(existing, data):
        return storage.uri(key)
    raise LakeConflict(
        f"{storage.uri(key)} already holds other accepted rows: accepted data is never "
        "replaced; land the batch under a new batch id to accept it again"
    )


def _same_rows(a: bytes, b: bytes) -> bool:
    """Equal tables, though the bytes differ (another pyarrow writes other metadata)."""
    import pandas as pd

    return bool(pd.read_parquet(io.BytesIO(a)).equals(pd.read_parquet(io.BytesIO(b))))


def accept_batch(storage: Storage, config: ModelConfig, batch_id: str, data_key: str) -> BatchMeta:
    """Record an accepted batch's metadata next to its data (training windows read it)."""
    frame = storage.read_frame(data_key)
    start = end = None
    time_col = config.data.time_column
    if time_col and time_col in frame.columns and len(frame):
        import pandas as pd

        start = pd.Timestamp(frame[time_col].min()).isoformat()
        end = pd.Timestamp(frame[time_col].max()).isoformat()
    meta = BatchMeta(
        batch_id=batch_id,
        data_key=data_key,
        rows=len(frame),
        accepted_at=datetime.now(UTC).isoformat(),
        start=start,
        end=end,
        labelled_rows=int(frame[config.target.column].notna().sum())
        if config.target.column in frame.columns
        else 0,
    )
    write_meta(storage, config.name, meta)
    return meta


def _batch_of(key: str, prefix: str) -> str:
    return key[len(prefix) :].split("/", 1)[0]


def accepted_batches(storage: Storage, model: str) -> list[BatchMeta]:
    """Return the record of every accepted batch, oldest data first."""
    prefix = keys.batches(model)
    metas = [
        BatchMeta.from_dict({"batch_id": _batch_of(key, prefix), **storage.read_json(key)})
        for key in storage.list(prefix)
        if key.endswith(f"/{keys.BATCH_META}")
    ]
    return sorted(metas, key=lambda m: (m.end or "", m.accepted_at or ""))


def accepted_ids(storage: Storage, model: str) -> set[str]:
    """Ids of the accepted batches, from the key listing only (no reads)."""
    prefix = keys.batches(model)
    return {_batch_of(k, prefix) for k in storage.list(prefix) if k.endswith(f"/{keys.BATCH_META}")}


def quarantined_ids(storage: Storage, model: str) -> tuple[set[str], set[str]]:
    """Batches with validation evidence in quarantine, and folders holding rejected rows.

    From the key listing only. Folders of rejected labels files are not batches: they are
    left out of the first set.
    """
    prefix = keys.quarantined(model)
    listed = storage.list(prefix)

    def having(name: str) -> set[str]:
        return {_batch_of(k, prefix) for k in listed if k.endswith(f"/{name}")}

    folders = {
        b for b in having(keys.VALIDATION_RESULT) if not b.startswith(keys.LABELS_QUARANTINE)
    }
    return folders, having(keys.QUARANTINED_ROWS)


def labelled_ids(storage: Storage, model: str) -> list[str]:
    """Batches with accepted late labels (``labels/<m>/<batch>.parquet``), sorted."""
    prefix = keys.labels(model)
    return [
        key.removeprefix(prefix).removesuffix(".parquet")
        for key in sorted(storage.list(prefix))
        if key.endswith(".parquet")
    ]
