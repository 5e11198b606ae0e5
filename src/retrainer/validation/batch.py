"""Validate a landed batch: accept it into ``batches/`` or keep it in ``quarantine/``.

Nothing is ever deleted or moved: the original stays in ``incoming/``; a quarantined batch
gets a copy of the original file, the full validation result and a human summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from retrainer.errors import InputDataError, ValidationFailed
from retrainer.tables import read_table
from retrainer.validation.runner import FailedCheck, ValidationResult, validate_frame

if TYPE_CHECKING:
    from retrainer.config import ModelConfig
    from retrainer.storage import Storage
    from retrainer.validation.suite import SuiteSpec

__all__ = ["BatchValidation", "quarantine", "validate_batch"]


@dataclass(frozen=True)
class BatchValidation:
    accepted: bool
    batch_key: str | None
    result: ValidationResult


def quarantine(
    storage: Storage,
    model: str,
    batch_id: str,
    source_key: str,
    raw: bytes,
    result: ValidationResult,
) -> str:
    """Write the evidence of a blocked batch; return the folder's key prefix."""
    prefix = f"quarantine/{model}/{batch_id}"
    storage.write_bytes(f"{prefix}/{PurePosixPath(source_key).name}", raw)
    storage.write_json(
        f"{prefix}/validation_result.json",
        {
            "model": model,
            "batch_id": batch_id,
            "source_key": source_key,
            "retrainer": result.to_dict(),
            "great_expectations": result.gx_result,
        },
    )
    storage.write_bytes(f"{prefix}/summary.txt", (result.summary() + "\n").encode("utf-8"))
    return prefix


def validate_batch(
    storage: Storage,
    config: ModelConfig,
    batch_id: str,
    source_key: str,
    spec: SuiteSpec,
    *,
    require_target: bool = False,
) -> BatchValidation:
    """Read, validate and accept or quarantine one batch.

    Raises:
        ValidationFailed: the batch was blocked (and quarantined); carries the evidence.
    """
    raw = storage.read_bytes(source_key)
    name = PurePosixPath(source_key).name
    try:
        frame = read_table(raw, name, time_column=config.data.time_column)
    except InputDataError as exc:
        result = ValidationResult(False, batch_id, 0, (FailedCheck("readable", None, str(exc)),))
    else:
        result = validate_frame(frame, spec, name=batch_id, require_target=require_target)
    if not result.success:
        prefix = quarantine(storage, config.name, batch_id, source_key, raw, result)
        checks = [c.describe() for c in result.failed_checks]
        raise ValidationFailed(
            f"batch {batch_id!r} of {config.name!r} blocked and kept in {prefix}/: "
            + "; ".join(checks),
            batch_id=batch_id,
            failed_checks=checks,
            report_key=f"{prefix}/validation_result.json",
            evidence=result.to_dict(),
        )
    key = f"batches/{config.name}/{batch_id}/data.parquet"
    storage.write_frame(key, frame)
    return BatchValidation(True, key, result)
