"""The one boundary where a user's frame becomes what scikit-learn's preprocessing takes.

Pandas' nullable dtypes (``string``, ``Int64``, ``Float64``, ``boolean``) mark a missing
value with ``pd.NA``, which ``SimpleImputer`` cannot compare (``boolean value of NA is
ambiguous``), and it refuses numpy ``bool`` outright. So the features are converted here,
once, by feature kind, for fitting and for every scoring path alike:

- numeric features holding numbers or booleans become ``float64`` with ``NaN`` missing;
- categorical features with an extension dtype (``string``, ``category``, ``boolean``,
  ``Int64``...) or numpy ``bool`` become ``object`` with ``np.nan`` missing (the marker
  the imputer looks for; ``None`` would be taken for a category).

pandas 3's default ``str`` dtype is an extension dtype too: its text comes out the same,
as ``object``. Plain numpy numbers and ``object`` columns pass unchanged, so a version
trained before this conversion sees at scoring exactly the inputs it was fitted on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = ["model_inputs", "numpy_friendly"]


def _needs_conversion(series: pd.Series) -> bool:
    import pandas as pd

    return isinstance(series.dtype, pd.api.extensions.ExtensionDtype) or (
        pd.api.types.is_bool_dtype(series)
    )


def _as_float(series: pd.Series) -> pd.Series:
    import numpy as np
    import pandas as pd

    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        return series  # not numbers: left for the estimator's own error (validation names it)
    return pd.Series(
        series.to_numpy(dtype="float64", na_value=np.nan), index=series.index, name=series.name
    )


def _as_object(series: pd.Series) -> pd.Series:
    import numpy as np

    values = series.astype(object)
    return values.where(series.notna(), np.nan)


def numpy_friendly(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """``frame``'s ``numeric`` then ``categorical`` columns, with numpy-friendly dtypes."""
    columns = [*numeric, *categorical]
    out = frame[columns].copy()
    for name in numeric:
        if _needs_conversion(out[name]):
            out[name] = _as_float(out[name])
    for name in categorical:
        if _needs_conversion(out[name]):
            out[name] = _as_object(out[name])
    return out[columns]


def model_inputs(frame: pd.DataFrame, config: ModelConfig) -> pd.DataFrame:
    """The model's features of ``frame`` (in ``config.features`` order), ready to fit or score."""
    out = numpy_friendly(frame, list(config.numeric_features), list(config.categorical_features))
    return out[list(config.features)]
