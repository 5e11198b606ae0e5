"""What a model's batches look like: data source, target, and the checks a batch must pass."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from retrainer.config.base import Frozen
from retrainer.config.serving import ServingConfig
from retrainer.limits import DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_COLUMNS

__all__ = [
    "DEFAULT_SEVERITY",
    "ROW_CHECKS",
    "CheckName",
    "ColumnExpectation",
    "DataConfig",
    "Severity",
    "SeverityRule",
    "TargetConfig",
    "ValidationConfig",
]


class DataConfig(Frozen):
    """Where demo/test data comes from, which columns are bookkeeping, how time is written."""

    source: str | None = Field(
        default=None, description="Name of a packaged data source in retrainer.datasets."
    )
    time_column: str | None = None
    id_column: str | None = None
    time_format: str = Field(
        default="iso8601",
        description=(
            "How the time column is written: iso8601 (strings or Parquet timestamps), "
            'epoch_s, epoch_ms, or a strftime pattern such as "%Y%m%d". Numbers are '
            "refused unless this says what they mean."
        ),
    )
    timezone: str = Field(
        default="UTC",
        description="IANA zone of times written without an offset (all are read as UTC).",
    )
    max_future_hours: Annotated[float, Field(ge=0.0)] = Field(
        default=24.0,
        description="Block a batch with a time later than now plus this many hours.",
    )
    serving: ServingConfig | None = Field(
        default=None,
        description="Columns of a batch that carry the predictions an online service "
        "served; when set the monitor judges those instead of re-scoring the batch.",
    )

    @field_validator("time_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in {"iso8601", "epoch_s", "epoch_ms"} and "%" not in value:
            raise ValueError(
                f"time_format {value!r} is not iso8601, epoch_s, epoch_ms or a strftime "
                'pattern (such as "%Y%m%d")'
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timezone {value!r} is not an IANA time zone (such as UTC or Europe/Berlin)"
            ) from None
        return value


class TargetConfig(Frozen):
    column: str
    task: Literal["binary", "multiclass", "regression"] = "binary"
    positive_label: int | str | None = 1


CheckName = Literal[
    "readable",
    "columns",
    "row_count",
    "column_type",
    "nulls",
    "range",
    "finite_values",
    "domain",
    "unique",
    "time_range",
]
Severity = Literal["block", "quarantine_rows", "warn"]
# Checks that can name the rows that fail them (and so can quarantine rows, not batches).
ROW_CHECKS = frozenset({"column_type", "nulls", "range", "finite_values", "domain", "unique"})
DEFAULT_SEVERITY: dict[str, Severity] = {
    "readable": "block",
    "columns": "block",
    "row_count": "block",
    "column_type": "block",
    "nulls": "block",
    "range": "quarantine_rows",
    "finite_values": "quarantine_rows",
    "domain": "quarantine_rows",
    # A repeated id keeps its first row; the repeats go to quarantine.
    "unique": "quarantine_rows",
    # A time far in the future is a wrong clock or unit, and would sort newest forever.
    "time_range": "block",
}


class SeverityRule(Frozen):
    """What happens when a check fails: for one column, or for every column when omitted."""

    check: CheckName
    column: str | None = None
    severity: Severity

    @model_validator(mode="after")
    def _row_level(self) -> SeverityRule:
        if self.severity == "quarantine_rows" and self.check not in ROW_CHECKS:
            raise ValueError(
                f"check {self.check!r} is about the whole batch and cannot quarantine rows; "
                f"use block or warn (row-level checks: {sorted(ROW_CHECKS)})"
            )
        return self


class ColumnExpectation(Frozen):
    """Expectations for one column that replace (or add to) what is learned from the reference.

    Unset fields keep the learned value; ``allowed`` replaces a learned domain (or adds one
    to a numeric column), ``unique`` adds a uniqueness check to any column.
    """

    min: float | None = None
    max: float | None = None
    allowed: list[str | int | float] | None = None
    max_null_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    unique: bool | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ColumnExpectation:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.allowed is not None and not self.allowed:
            raise ValueError("allowed must list at least one value")
        return self


class ValidationConfig(Frozen):
    rules: list[SeverityRule] = Field(default_factory=list)
    columns: dict[str, ColumnExpectation] = Field(
        default_factory=dict,
        description="Per-column expectations that override or add to the learned suite.",
    )
    max_quarantined_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.05,
        description="Block the whole batch when more of its rows than this would be quarantined.",
    )
    max_null_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    range_margin: Annotated[float, Field(ge=0.0)] = Field(
        default=2.0,
        description="Widen the reference's 0.1%-99.9% range by this many times its width.",
    )
    max_out_of_range_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    # A short batch is data, not bad data (a February of daily rows is 28): whether it is
    # enough to judge is trigger.min_rows' call, and the training window widens to
    # training.min_rows. Blocking it here would keep it out of training and monitoring.
    min_rows: Annotated[int, Field(ge=1)] = Field(
        default=1, description="Block batches with fewer rows than this (default: empty ones)."
    )
    max_rows: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Block batches with more rows than this (none: no limit)."
    )
    max_batch_bytes: Annotated[int, Field(ge=1)] = Field(
        default=DEFAULT_MAX_BATCH_BYTES,
        description=(
            "Refuse to land, and block without reading, a batch or labels file larger than "
            "this many bytes (default 2 GiB)."
        ),
    )
    max_columns: Annotated[int, Field(ge=1)] = Field(
        default=DEFAULT_MAX_COLUMNS,
        description="Block a batch with more columns than this, counted from its header.",
    )

    @model_validator(mode="after")
    def _row_bounds(self) -> ValidationConfig:
        if self.max_rows is not None and self.max_rows < self.min_rows:
            raise ValueError(f"max_rows {self.max_rows} is below min_rows {self.min_rows}")
        return self

    def severity(self, check: str, column: str | None) -> Severity:
        """The configured severity of a failed check: column rule, then check rule, then default."""
        for rule in self.rules:
            if rule.check == check and rule.column is not None and rule.column == column:
                return rule.severity
        for rule in self.rules:
            if rule.check == check and rule.column is None:
                return rule.severity
        return DEFAULT_SEVERITY.get(check, "block")
