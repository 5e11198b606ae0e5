"""Which rows fail which row-level check, exactly.

Great Expectations reports counts and a capped sample of unexpected values; quarantining
rows needs every failing row, so the row-level checks of a suite are also evaluated here
as vectorised masks (one boolean array per check and column).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from retrainer.validation.suite import SuiteSpec

__all__ = ["nested_values", "row_failures"]

# What pandas' infer_dtype calls a column that can only hold scalars: no per-value look.
_SCALAR_KINDS = frozenset(
    {
        "string",
        "integer",
        "floating",
        "boolean",
        "decimal",
        "empty",
        "categorical",
        "mixed-integer-float",
        "datetime64",
        "datetime",
        "date",
        "timedelta64",
        "timedelta",
        "period",
        "time",
        "bytes",
        "complex",
    }
)


def nested_values(series: pd.Series) -> tuple[np.ndarray, str | None]:
    """Rows holding a list, array or mapping (a Parquet list/struct column), and its type.

    A model's column holds one value per row; a nested value is not a category, number
    or id, and comparing it to a domain or hashing it breaks later steps.
    """
    import numpy as np
    import pandas as pd

    if series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) in _SCALAR_KINDS:
        return np.zeros(len(series), dtype=bool), None
    nested = series.map(lambda v: isinstance(v, list | tuple | set | dict | np.ndarray))
    mask = nested.to_numpy(dtype=bool)
    if not mask.any():
        return mask, None
    first = series[nested].iloc[0]
    return mask, "dict (struct)" if isinstance(first, dict) else "list"


def row_failures(
    frame: pd.DataFrame,
    spec: SuiteSpec,
    *,
    require_target: bool = True,
    only: set[tuple[str, str]] | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """Return ``{(check, column): mask}`` for every row-level check with a failing row.

    ``only`` limits the work to the (check, column) pairs that failed, so a clean batch
    costs nothing here.
    """
    import numpy as np
    import pandas as pd

    masks: dict[tuple[str, str], np.ndarray] = {}
    for column in spec.columns:
        name = column.name
        if name not in frame.columns:
            continue  # a missing column is a batch-level failure ("columns")
        if only is not None and not any(column_name == name for _, column_name in only):
            continue
        if column.kind == "target" and not require_target and frame[name].isna().all():
            continue
        series = frame[name]
        nested, _ = nested_values(series)
        if nested.any():
            masks[("column_type", name)] = nested
            continue  # nothing else can be judged on such values
        present = series.notna().to_numpy()
        if column.kind != "target" or require_target:
            nulls = ~present
            if nulls.any() and column.max_null_fraction < 1.0:
                masks[("nulls", name)] = nulls
        if column.dtype == "numeric":
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
            not_numbers = np.isnan(numbers) & present
            if not_numbers.any():
                masks[("column_type", name)] = not_numbers
            infinite = np.isinf(numbers)
            if infinite.any():
                masks[("finite_values", name)] = infinite
            with np.errstate(invalid="ignore"):
                outside = np.zeros(len(frame), dtype=bool)
                if column.min is not None:
                    outside |= numbers < column.min
                if column.max is not None:
                    outside |= numbers > column.max
            if outside.any():
                masks[("range", name)] = outside
        if column.allowed is not None:
            unknown = (~series.isin(list(column.allowed))).to_numpy() & present
            if unknown.any():
                masks[("domain", name)] = unknown
        if column.unique:
            # The first row of an id stays; its repeats are the suspects.
            repeated = series.duplicated(keep="first").to_numpy() & present
            if repeated.any():
                masks[("unique", name)] = repeated
    if only is not None:
        masks = {key: mask for key, mask in masks.items() if key in only}
    return masks
