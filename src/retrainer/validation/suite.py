"""What a valid batch looks like, learned from the reference (training) data.

A :class:`SuiteSpec` is plain JSON stored with each model version, so a rollback brings
its suite back; the Great Expectations suite is built from it when a batch is validated.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = ["ColumnSpec", "SuiteSpec", "apply_overrides", "build_suite_spec", "spec_from_config"]

Kind = Literal["numeric", "categorical", "target", "time", "id"]


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: Kind
    dtype: Literal["numeric", "string", "datetime", "any"]
    max_null_fraction: float = 0.0
    min: float | None = None
    max: float | None = None
    allowed: tuple[str | int | float, ...] | None = None
    unique: bool = False


@dataclass(frozen=True)
class SuiteSpec:
    model: str
    columns: tuple[ColumnSpec, ...]
    min_rows: int
    target: str
    learned_from_rows: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    max_rows: int | None = None
    # The time column may not run later than now plus this (data.max_future_hours).
    max_future_hours: float | None = None

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    def expected_columns(self, *, require_target: bool) -> list[str]:
        return [c.name for c in self.columns if require_target or c.kind != "target"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for column in data["columns"]:
            if column["allowed"] is not None:
                column["allowed"] = list(column["allowed"])
        data["notes"] = list(self.notes)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuiteSpec:
        columns = tuple(
            ColumnSpec(
                **{**c, "allowed": None if c.get("allowed") is None else tuple(c["allowed"])}
            )
            for c in data["columns"]
        )
        return cls(
            model=data["model"],
            columns=columns,
            min_rows=int(data["min_rows"]),
            target=data["target"],
            learned_from_rows=int(data.get("learned_from_rows", 0)),
            notes=tuple(data.get("notes", ())),
            max_rows=data.get("max_rows"),
            max_future_hours=data.get("max_future_hours"),
        )

    @classmethod
    def from_json(cls, text: str) -> SuiteSpec:
        return cls.from_dict(json.loads(text))


def _kinds(config: ModelConfig) -> list[tuple[str, Kind]]:
    kinds: list[tuple[str, Kind]] = [(c, "numeric") for c in config.numeric_features]
    kinds += [(c, "categorical") for c in config.categorical_features]
    kinds.append((config.target.column, "target"))
    if config.data.time_column:
        kinds.append((config.data.time_column, "time"))
    if config.data.id_column:
        kinds.append((config.data.id_column, "id"))
    return kinds


def _dtype(kind: Kind, config: ModelConfig) -> Literal["numeric", "string", "datetime", "any"]:
    if kind == "numeric" or (kind == "target" and config.target.task == "regression"):
        return "numeric"
    if kind == "time":
        return "datetime"
    return "any"


def apply_overrides(spec: SuiteSpec, config: ModelConfig) -> SuiteSpec:
    """Lay the model YAML's explicit expectations over a suite (learned or stored).

    What was learned travels with the model version (a rollback brings it back); what a
    person wrote in ``validation.columns`` and the row bounds always apply as written now.
    """
    columns = []
    for column in spec.columns:
        rule = config.validation.columns.get(column.name)
        if rule is not None:
            changes: dict[str, Any] = {
                key: getattr(rule, key)
                for key in ("min", "max", "max_null_fraction", "unique")
                if getattr(rule, key) is not None
            }
            if rule.allowed is not None:
                changes["allowed"] = tuple(rule.allowed)
            column = replace(column, **changes)
        columns.append(column)
    return replace(
        spec,
        columns=tuple(columns),
        min_rows=config.validation.min_rows,
        max_rows=config.validation.max_rows,
        max_future_hours=config.data.max_future_hours,
    )


def spec_from_config(config: ModelConfig) -> SuiteSpec:
    """Columns and types from the config alone (before any model, hence any reference)."""
    columns = tuple(
        ColumnSpec(
            name,
            kind,
            _dtype(kind, config),
            config.validation.max_null_fraction if kind in {"numeric", "categorical"} else 0.0,
            unique=kind == "id",
        )
        for name, kind in _kinds(config)
    )
    spec = SuiteSpec(
        config.name,
        columns,
        config.validation.min_rows,
        config.target.column,
        notes=("schema from config only: no reference data yet",),
    )
    return apply_overrides(spec, config)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def build_suite_spec(reference: pd.DataFrame, config: ModelConfig) -> SuiteSpec:
    """Learn ranges, domains and null tolerances from the reference data.

    Numeric ranges are the 0.1% and 99.9% quantiles widened on each side by
    ``range_margin`` times their distance. Validation is there to stop *impossible*
    values (a unit change, x1000, a sentinel like -9999), not to judge distribution shift:
    that is drift's job, and a batch blocked here never reaches the drift check that
    would retrain the model. On the rainfall data a margin of 2 accepts every real period
    (including the 1981 break) while a x1000 error still lands far outside.
    """
    import pandas as pd

    tolerance = config.validation.max_null_fraction
    columns: list[ColumnSpec] = []
    for name, kind in _kinds(config):
        series = reference[name] if name in reference.columns else pd.Series(dtype="float64")
        null_rate = float(series.isna().mean()) if len(series) else 0.0
        max_null = min(1.0, null_rate + tolerance) if kind in {"numeric", "categorical"} else 0.0
        spec = ColumnSpec(name, kind, _dtype(kind, config), round(max_null, 6), unique=kind == "id")
        if spec.dtype == "numeric" and len(series.dropna()):
            # float64: a boolean flag (numbers 0/1 to the model) has no subtraction of its own.
            values = pd.to_numeric(series, errors="coerce").dropna().astype("float64")
            lo, hi = values.quantile([0.001, 0.999]).tolist()
            margin = config.validation.range_margin * max(hi - lo, 1e-9)
            spec = ColumnSpec(
                name,
                kind,
                "numeric",
                spec.max_null_fraction,
                _finite(lo - margin),
                _finite(hi + margin),
                unique=spec.unique,
            )
        elif kind == "categorical" or (kind == "target" and config.target.task != "regression"):
            values = sorted(series.dropna().unique().tolist(), key=str)
            allowed = tuple(v.item() if hasattr(v, "item") else v for v in values)
            spec = replace(spec, allowed=allowed)
        columns.append(spec)
    learned = SuiteSpec(
        config.name,
        tuple(columns),
        config.validation.min_rows,
        config.target.column,
        learned_from_rows=len(reference),
    )
    return apply_overrides(learned, config)
