"""Run a :class:`SuiteSpec` against a DataFrame through Great Expectations 1.x Core.

GX evaluates the expectations (columns, row count, nulls, ranges, domains, uniqueness)
and its validation result is kept as evidence, together with GX Data Docs rendered from
it (:mod:`retrainer.validation.docs`). Two checks GX cannot express well run in pandas
first: a column whose values are not numbers at all, and non-finite numbers (inf).

Range expectations allow no exception (``mostly=1``): every impossible value is counted,
so the decision step can quarantine exactly those rows; tolerances are the decision's.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from retrainer.validation.rows import nested_values

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.validation.suite import SuiteSpec

__all__ = ["FailedCheck", "ValidationResult", "validate_frame"]

log = logging.getLogger(__name__)
_EXAMPLES = 5
_FORMAT: Final = "SUMMARY"


@dataclass(frozen=True)
class FailedCheck:
    check: str
    column: str | None
    detail: str
    unexpected_count: int | None = None
    examples: tuple[Any, ...] = ()

    def describe(self) -> str:
        where = f"{self.column}: " if self.column else ""
        return f"{self.check} ({where}{self.detail})"


@dataclass(frozen=True)
class ValidationResult:
    success: bool
    name: str
    row_count: int
    failed_checks: tuple[FailedCheck, ...]
    gx_result: dict[str, Any] = field(default_factory=dict)
    # The GX result object itself, to render Data Docs from; not part of equality.
    gx_object: Any = field(default=None, compare=False, repr=False)

    def summary(self) -> str:
        if self.success:
            return f"{self.name}: all checks passed on {self.row_count:,} rows"
        lines = [
            f"{self.name}: {len(self.failed_checks)} failed check(s) on {self.row_count:,} rows"
        ]
        for check in self.failed_checks:
            example = f"; e.g. {list(check.examples)}" if check.examples else ""
            lines.append(f"  - {check.describe()}{example}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "name": self.name,
            "row_count": self.row_count,
            "failed_checks": [
                asdict(c) | {"examples": list(c.examples)} for c in self.failed_checks
            ],
        }


_MAX_EXAMPLE_CHARS = 80


def _json_safe(value: Any) -> Any:
    """A JSON-safe, short example value (a 10 MB field must not flood logs and alerts)."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a numpy scalar
        value = value.item()
    elif hasattr(value, "tolist"):  # an array read from a Parquet list column
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    text = value if isinstance(value, str) else str(value)
    if len(text) > _MAX_EXAMPLE_CHARS:
        return f"{text[:_MAX_EXAMPLE_CHARS]}... ({len(text):,} characters)"
    return text


_BATCH_DEFINITION: Any = None


def _batch_definition() -> Any:
    """One ephemeral GX context per process: building it is the slow part."""
    global _BATCH_DEFINITION
    if _BATCH_DEFINITION is None:
        # GX logs ~200 INFO lines while building a context; in an Airflow task log they
        # bury the failed checks a person opens the log for.
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_pandas("retrainer")
        asset = source.add_dataframe_asset("batch")
        _BATCH_DEFINITION = asset.add_batch_definition_whole_dataframe("whole_batch")
    return _BATCH_DEFINITION


def _future_times(series: pd.Series, hours: float | None) -> list[FailedCheck]:
    """Times later than now plus the tolerance: a wrong clock, unit or year (2999), which
    would also sort the batch newest forever."""
    import pandas as pd

    if hours is None or not series.notna().any():
        return []
    limit = pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=hours)
    if series.dt.tz is None:  # a frame not read through retrainer.times: naive means UTC
        limit = limit.tz_localize(None)
    late = (series > limit).to_numpy()
    if not late.any():
        return []
    return [
        FailedCheck(
            "time_range",
            str(series.name),
            f"{int(late.sum()):,} time(s) after now + {hours:g} h ({limit.isoformat()}); "
            f"the latest is {series.max().isoformat()} (data.max_future_hours sets the "
            "tolerance)",
            int(late.sum()),
            tuple(_json_safe(v.isoformat()) for v in series[late].head(_EXAMPLES)),
        )
    ]


def _pandas_checks(
    frame: pd.DataFrame, spec: SuiteSpec, present: list[str]
) -> tuple[list[FailedCheck], set[str]]:
    """Type and finiteness checks; returns failures and columns too broken for GX ranges."""
    import numpy as np
    import pandas as pd

    failed: list[FailedCheck] = []
    broken: set[str] = set()
    for column in spec.columns:
        if column.name not in present:
            continue
        series = frame[column.name]
        nested, found = nested_values(series)
        if nested.any():
            failed.append(
                FailedCheck(
                    "column_type",
                    column.name,
                    f"{int(nested.sum()):,} value(s) are of type {found}: a {column.kind} "
                    "column holds one single value per row",
                    int(nested.sum()),
                    tuple(_json_safe(v) for v in series[nested].head(_EXAMPLES)),
                )
            )
            broken.add(column.name)
            continue
        if column.dtype == "numeric":
            # Booleans are numbers (0/1) to every estimator: a flag may be a numeric feature.
            if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
                coerced = pd.to_numeric(series, errors="coerce")
                bad = series[coerced.isna() & series.notna()]
                failed.append(
                    FailedCheck(
                        "column_type",
                        column.name,
                        f"{len(bad):,} value(s) are not numbers (dtype {series.dtype})",
                        len(bad),
                        tuple(_json_safe(v) for v in bad.head(_EXAMPLES)),
                    )
                )
                broken.add(column.name)
                continue
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            infinite = np.isinf(values)
            if infinite.any():
                failed.append(
                    FailedCheck(
                        "finite_values",
                        column.name,
                        f"{int(infinite.sum()):,} infinite value(s)",
                        int(infinite.sum()),
                        tuple(_json_safe(v) for v in values[infinite][:_EXAMPLES]),
                    )
                )
        elif column.dtype == "datetime" and pd.api.types.is_datetime64_any_dtype(series):
            failed += _future_times(series, spec.max_future_hours)
        elif column.dtype == "datetime":
            parsed = pd.to_datetime(series, errors="coerce")
            bad = series[parsed.isna() & series.notna()]
            if len(bad):
                failed.append(
                    FailedCheck(
                        "column_type",
                        column.name,
                        f"{len(bad):,} value(s) are not dates",
                        len(bad),
                        tuple(_json_safe(v) for v in bad.head(_EXAMPLES)),
                    )
                )
                broken.add(column.name)
    return failed, broken


def _expectations(
    spec: SuiteSpec, expected: list[str], present: list[str], broken: set[str], require_target: bool
) -> list[Any]:
    import great_expectations as gx

    ex = gx.expectations
    items: list[Any] = [
        ex.ExpectTableColumnsToMatchSet(column_set=expected, exact_match=True),
        ex.ExpectTableRowCountToBeBetween(min_value=spec.min_rows, max_value=spec.max_rows),
    ]
    for column in spec.columns:
        name = column.name
        if name not in present or name in broken:
            continue
        if column.kind == "target" and not require_target:
            continue
        mostly = max(0.0, 1.0 - column.max_null_fraction)
        if mostly > 0:
            items.append(ex.ExpectColumnValuesToNotBeNull(column=name, mostly=mostly))
        if column.min is not None or column.max is not None:
            items.append(
                ex.ExpectColumnValuesToBeBetween(
                    column=name, min_value=column.min, max_value=column.max
                )
            )
        if column.allowed is not None:
            items.append(
                ex.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.allowed))
            )
        if column.unique:
            items.append(ex.ExpectColumnValuesToBeUnique(column=name))
    return items


_NAMES = {
    "expect_table_columns_to_match_set": "columns",
    "expect_table_row_count_to_be_between": "row_count",
    "expect_column_values_to_not_be_null": "nulls",
    "expect_column_values_to_be_between": "range",
    "expect_column_values_to_be_in_set": "domain",
    "expect_column_values_to_be_unique": "unique",
}


# A batch of another layout can have thousands of columns: a check names the first ones
# and counts the rest (the validation result in the lake keeps the observed column list).
_COLUMN_NAMES = 10


def _names(columns: list[str]) -> str:
    """``['a', 'b']``, or the first :data:`_COLUMN_NAMES` names and how many more."""
    shown = repr([_json_safe(c) for c in columns[:_COLUMN_NAMES]])
    more = len(columns) - _COLUMN_NAMES
    return shown if more <= 0 else f"{shown} and {more:,} more"


def _bound(value: Any) -> str:
    return "unbounded" if value is None else f"{value:.4g}"


def _describe(item: Any, expected: list[str], rows: int) -> FailedCheck:
    kind = item.expectation_config.type
    kwargs = item.expectation_config.kwargs
    result = item.result or {}
    column = kwargs.get("column")
    check = _NAMES.get(kind, kind)
    count = result.get("unexpected_count")
    examples = tuple(
        _json_safe(v) for v in (result.get("partial_unexpected_list") or [])[:_EXAMPLES]
    )
    share = f" ({count / rows:.1%})" if count is not None and rows else ""
    if check == "columns":
        observed = list(result.get("observed_value") or [])
        missing = [c for c in expected if c not in observed]
        extra = [c for c in observed if c not in expected]
        parts = []
        if missing:
            parts.append(f"missing {_names(missing)}")
        if extra:
            parts.append(f"unexpected {_names(extra)}")
        if expected and not set(expected) & set(observed):
            parts.append("none of this model's columns is present: a file of another model?")
        return FailedCheck(
            "columns",
            None,
            "; ".join(parts) or "column set differs",
            len(missing) + len(extra),
            tuple(_json_safe(c) for c in (missing + extra)[:_COLUMN_NAMES]),
        )
    if check == "row_count":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        need = f"at least {low}" if high is None else f"between {low} and {high}"
        return FailedCheck("row_count", None, f"{result.get('observed_value')} rows, need {need}")
    if check == "nulls":
        allowed = 1 - float(kwargs.get("mostly", 1.0))
        return FailedCheck(
            "nulls",
            column,
            f"{count:,} of {rows:,} values missing{share}, at most {allowed:.1%} allowed",
            count,
            (),
        )
    if check == "range":
        return FailedCheck(
            "range",
            column,
            f"{count:,} of {rows:,} values{share} outside "
            f"[{_bound(kwargs.get('min_value'))}, {_bound(kwargs.get('max_value'))}]",
            count,
            examples,
        )
    if check == "unique":
        return FailedCheck(
            "unique",
            column,
            f"{count:,} of {rows:,} values{share} are repeated ids",
            count,
            examples,
        )
    if check == "domain":
        return FailedCheck(
            "domain",
            column,
            f"{count:,} of {rows:,} values{share} not in {list(kwargs.get('value_set'))[:10]}",
            count,
            examples,
        )
    return FailedCheck(check, column, str(result)[:200], count, examples)


def validate_frame(
    frame: pd.DataFrame, spec: SuiteSpec, *, name: str = "batch", require_target: bool = True
) -> ValidationResult:
    """Validate ``frame`` against ``spec``; never raises on bad data, only reports it."""
    import great_expectations as gx

    expected = spec.expected_columns(require_target=require_target)
    if not require_target and spec.target in frame.columns:
        expected.append(spec.target)  # labels may come with the batch; then they are checked
    present = [str(c) for c in frame.columns]
    failed, broken = _pandas_checks(frame, spec, present)
    batch_definition = _batch_definition()  # also makes the GX context current
    suite = gx.ExpectationSuite(name=f"{spec.model}-{name}")
    for expectation in _expectations(
        spec, expected, present, broken, require_target or spec.target in present
    ):
        suite.add_expectation(expectation)
    # The validator Batch.validate() would build, made directly: Batch.validate() loads
    # the batch a second time, and each load hashes the whole frame (0.3 s per 1M rows).
    from great_expectations.validator.v1_validator import Validator

    result = Validator(
        batch_definition=batch_definition,
        batch_parameters={"dataframe": frame},
        result_format=_FORMAT,
    ).validate_expectation_suite(suite)
    for item in result.results:
        if not item.success:
            failed.append(_describe(item, expected, len(frame)))
    gx_json = result.to_json_dict()
    return ValidationResult(not failed, name, len(frame), tuple(failed), gx_json, result)
