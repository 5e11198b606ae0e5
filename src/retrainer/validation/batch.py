"""Validate a landed batch: accept it, quarantine some of its rows, or block it.

Each failed check has a severity from the model config: ``block`` (the whole batch goes
to quarantine), ``quarantine_rows`` (the failing rows go to quarantine with reason codes,
the rest continues, unless their share passes ``max_quarantined_fraction``) or ``warn``.
Nothing is ever deleted or moved: the original stays in ``incoming/``; quarantine keeps a
copy of the original (or of the rejected rows), the full validation result and a summary.
A file over ``validation.max_batch_bytes`` or ``validation.max_columns`` is blocked before
it is parsed (:mod:`retrainer.validation.precheck`); one too big to read is not copied.

A batch of an online model (``data.serving``) is split first: its inputs are validated
against the suite, its served columns by :mod:`retrainer.validation.served`, and the
accepted served rows are kept beside the data in ``served.parquet``, row for row.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from retrainer.errors import InputDataError, ValidationFailed
from retrainer.lake import keep_accepted, keys
from retrainer.tables import read_table
from retrainer.validation.docs import render_data_docs
from retrainer.validation.precheck import size_check, width_check
from retrainer.validation.rows import row_failures
from retrainer.validation.runner import (
    FailedCheck,
    ValidationResult,
    validate_frame,
)

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage
    from retrainer.validation.served import ServedContext
    from retrainer.validation.suite import SuiteSpec

__all__ = [
    "REASONS_COLUMN",
    "BatchValidation",
    "SeverityOutcome",
    "apply_severities",
    "quarantine",
    "validate_batch",
]

REASONS_COLUMN = "_retrainer_reasons"
Status = Literal["accepted", "rows_quarantined", "blocked"]


@dataclass(frozen=True)
class BatchValidation:
    status: Status
    batch_key: str | None
    result: ValidationResult
    rows: int = 0
    quarantined_rows: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    quarantine_prefix: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status != "blocked"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "batch_key": self.batch_key,
            "rows": self.rows,
            "quarantined_rows": self.quarantined_rows,
            "reasons": dict(self.reasons),
            "warnings": list(self.warnings),
            "quarantine_prefix": self.quarantine_prefix,
            **self.result.to_dict(),
        }


def quarantine(
    storage: Storage,
    model: str,
    batch_id: str,
    source_key: str,
    raw: bytes | None,
    result: ValidationResult,
    *,
    summary: str | None = None,
    extra: dict[str, Any] | None = None,
    prefix: str | None = None,
) -> str:
    """Write the evidence of a blocked batch; return the folder's key prefix.

    ``raw`` is the original's bytes, copied beside the evidence; None for a file too big
    to read, which is only referred to (it stays at ``source_key``).
    """
    prefix = prefix or keys.quarantine(model, batch_id)
    if raw is not None:
        storage.write_bytes(f"{prefix}/{PurePosixPath(source_key).name}", raw)
    _write_evidence(storage, prefix, model, batch_id, source_key, result, summary, extra)
    return prefix


def _write_evidence(
    storage: Storage,
    prefix: str,
    model: str,
    batch_id: str,
    source_key: str,
    result: ValidationResult,
    summary: str | None,
    extra: dict[str, Any] | None,
) -> None:
    storage.write_json(
        f"{prefix}/{keys.VALIDATION_RESULT}",
        {
            "model": model,
            "batch_id": batch_id,
            "source_key": source_key,
            "retrainer": result.to_dict() | (extra or {}),
            "great_expectations": result.gx_result,
        },
    )
    text = summary or result.summary()
    storage.write_bytes(f"{prefix}/{keys.SUMMARY}", (text + "\n").encode("utf-8"))
    html = render_data_docs(result, text)
    if html is not None:
        storage.write_bytes(f"{prefix}/{keys.DATA_DOCS}", html.encode("utf-8"))


def _block(
    storage: Storage,
    config: ModelConfig,
    batch_id: str,
    source_key: str,
    raw: bytes | None,
    result: ValidationResult,
    checks: list[str],
    prefix: str,
) -> ValidationFailed:
    summary = result.summary() + "\nblocking: " + "; ".join(checks)
    if raw is None:
        summary += f"\nnot copied here: the original stays in {source_key}"
    quarantine(
        storage, config.name, batch_id, source_key, raw, result, summary=summary, prefix=prefix
    )
    return ValidationFailed(
        f"batch {batch_id!r} of {config.name!r} blocked and kept in {prefix}/: "
        + "; ".join(checks),
        batch_id=batch_id,
        failed_checks=checks,
        report_key=f"{prefix}/validation_result.json",
        evidence=result.to_dict()
        | {
            "quarantine_prefix": prefix,
            "data_docs_key": f"{prefix}/{keys.DATA_DOCS}" if result.gx_object is not None else None,
        },
    )


def _row_quarantine(
    frame: pd.DataFrame, masks: dict[tuple[str, str], Any], config: ModelConfig
) -> tuple[Any, list[str], dict[str, int]]:
    """The rows to quarantine, each row's reason codes, and counts per reason."""
    import numpy as np

    selected = np.zeros(len(frame), dtype=bool)
    if not masks:
        return selected, [], {}
    reasons = np.full(len(frame), "", dtype=object)
    counts: dict[str, int] = {}
    for (check, column), mask in masks.items():
        if config.validation.severity(check, column) != "quarantine_rows":
            continue
        code = f"{check}:{column}"
        counts[code] = int(mask.sum())
        selected |= mask
        reasons[mask] = [f"{r};{code}" if r else code for r in reasons[mask]]
    return selected, list(reasons), counts


@dataclass(frozen=True)
class SeverityOutcome:
    """What the severities make of a validation result, before anything is written."""

    status: Status
    blocking: tuple[str, ...]
    warnings: tuple[str, ...]
    selected: Any  # boolean mask of the rows to quarantine
    reasons: tuple[str, ...]  # per row: ";"-joined reason codes ("" for good rows)
    counts: dict[str, int]

    @property
    def quarantined_rows(self) -> int:
        return int(self.selected.sum())

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "blocking": list(self.blocking),
            "warnings": list(self.warnings),
            "quarantined_rows": self.quarantined_rows,
            "reasons": dict(self.counts),
        }


def apply_severities(
    frame: pd.DataFrame,
    result: ValidationResult,
    spec: SuiteSpec,
    config: ModelConfig,
    *,
    require_target: bool = False,
) -> SeverityOutcome:
    """Apply the configured severities to a validation result and the failing rows.

    A ``range`` check with severity ``block`` or ``warn`` tolerates up to
    ``max_out_of_range_fraction`` of the rows; ``quarantine_rows`` takes every failing row.
    """
    blocking, warnings = [], []
    row_checks: set[tuple[str, str]] = set()
    rows = max(result.row_count, 1)
    for check in result.failed_checks:
        severity = config.validation.severity(check.check, check.column)
        if (
            check.check == "range"
            and severity != "quarantine_rows"
            and (check.unexpected_count or 0) / rows <= config.validation.max_out_of_range_fraction
        ):
            continue  # within the configured tolerance
        if severity == "block":
            blocking.append(check.describe())
        elif severity == "warn":
            warnings.append(check.describe())
        elif check.column is not None:
            row_checks.add((check.check, check.column))
    masks = (
        row_failures(frame, spec, require_target=require_target, only=row_checks)
        if row_checks and not blocking
        else {}
    )
    selected, reasons, counts = _row_quarantine(frame, masks, config)
    if not blocking:
        # Fail closed: a row check that failed must name its rows, or the batch is blocked.
        unexplained = sorted(f"{c}:{col}" for c, col in row_checks if f"{c}:{col}" not in counts)
        blocking += [f"{code} (failed, but no failing row was identified)" for code in unexplained]
    n_bad, n = int(selected.sum()), len(frame)
    limit = config.validation.max_quarantined_fraction
    if n_bad and (n_bad / n > limit or n - n_bad < spec.min_rows):
        share = f"{n_bad:,} of {n:,} rows ({n_bad / n:.1%}) fail row checks {counts}"
        blocking.append(
            f"quarantined_share ({share}, more than the {limit:.0%} allowed)"
            if n_bad / n > limit
            else f"row_count ({share}; fewer than {spec.min_rows} left)"
        )
    status: Status = "blocked" if blocking else ("rows_quarantined" if n_bad else "accepted")
    return SeverityOutcome(
        status, tuple(blocking), tuple(warnings), selected, tuple(reasons), counts
    )


def _parse(raw: bytes, name: str, config: ModelConfig) -> pd.DataFrame | FailedCheck:
    """The batch as a table, or the check it fails before it can be one (too wide, unreadable)."""
    try:
        too_wide = width_check(raw, name, config.validation)
        return too_wide or read_table(raw, name, times=config.data)
    except InputDataError as exc:
        return FailedCheck("readable", None, str(exc))


def validate_batch(
    storage: Storage,
    config: ModelConfig,
    batch_id: str,
    source_key: str,
    spec: SuiteSpec,
    *,
    require_target: bool = False,
    accepted_key: str | None = None,
    quarantine_prefix: str | None = None,
    served: ServedContext | None = None,
) -> BatchValidation:
    """Read, validate, and accept / partly quarantine / block one batch.

    Accepted rows go to ``accepted_key`` (default ``batches/<m>/<batch>/data.parquet``);
    evidence and rejected rows to ``quarantine_prefix`` (default ``quarantine/<m>/<batch>``).

    Accepted rows are written once: a rerun that accepts the same rows is a no-op.

    With ``served`` (a model that declares ``data.serving``), the served columns are
    checked against it and kept in ``batches/<m>/<batch>/served.parquet``.

    Raises:
        ValidationFailed: the batch was blocked (and quarantined whole); carries the evidence.
        LakeConflict: ``accepted_key`` already holds other rows (they are not replaced).
    """
    key = accepted_key or keys.batch_data(config.name, batch_id)
    prefix = quarantine_prefix or keys.quarantine(config.name, batch_id)
    too_big = size_check(storage.size(source_key), config.validation)
    if too_big is not None:
        result = ValidationResult(False, batch_id, 0, (too_big,))
        raise _block(
            storage, config, batch_id, source_key, None, result, [too_big.describe()], prefix
        )
    raw = storage.read_bytes(source_key)
    name = PurePosixPath(source_key).name
    frame = _parse(raw, name, config)
    if isinstance(frame, FailedCheck):
        result = ValidationResult(False, batch_id, 0, (frame,))
        raise _block(storage, config, batch_id, source_key, raw, result, [frame.describe()], prefix)
    original = frame
    served_rows = None
    if served is not None and config.data.serving is not None:
        from retrainer.validation.served import check_served, split_served

        frame, served_rows = split_served(frame, config.data.serving)
    result = validate_frame(frame, spec, name=batch_id, require_target=require_target)
    if served_rows is not None:
        assert served is not None
        wrong = check_served(served_rows, config, served)
        if wrong:
            result = replace(result, success=False, failed_checks=(*result.failed_checks, *wrong))
    decision = apply_severities(frame, result, spec, config, require_target=require_target)
    if decision.status == "blocked":
        raise _block(
            storage, config, batch_id, source_key, raw, result, list(decision.blocking), prefix
        )

    n, n_bad = len(frame), decision.quarantined_rows
    served_key = keys.batch_served(config.name, batch_id)
    if decision.status == "accepted":
        keep_accepted(storage, key, frame)
        if served_rows is not None:
            keep_accepted(storage, served_key, served_rows.reset_index(drop=True))
        return BatchValidation("accepted", key, result, n, warnings=decision.warnings)

    selected = decision.selected
    # First: a rerun that would replace other accepted rows stops before touching anything.
    keep_accepted(storage, key, frame[~selected].reset_index(drop=True))
    if served_rows is not None:
        keep_accepted(storage, served_key, served_rows[~selected].reset_index(drop=True))
    bad = original[selected].copy()
    bad[REASONS_COLUMN] = [r for r, s in zip(decision.reasons, selected, strict=True) if s]
    storage.write_frame(f"{prefix}/{keys.QUARANTINED_ROWS}", bad)
    lines = [f"{batch_id}: {n_bad:,} of {n:,} rows quarantined, {n - n_bad:,} accepted"]
    lines += [f"  - {code}: {count:,} row(s)" for code, count in decision.counts.items()]
    lines += [f"  warning: {w}" for w in decision.warnings]
    _write_evidence(
        storage,
        prefix,
        config.name,
        batch_id,
        source_key,
        result,
        "\n".join(lines),
        decision.to_dict(),
    )
    return BatchValidation(
        "rows_quarantined", key, result, n, n_bad, decision.counts, decision.warnings, prefix
    )
