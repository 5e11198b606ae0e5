"""Read a batch's time column as the model declares it: every value a tz-aware UTC timestamp.

One function for every step that reads time (reading a landed file, assembling a training
window from accepted batches, joining late labels on time), so a batch written naive and
one written with offsets mean the same instants and sort together. ``data.time_format``
says what the values are:

- ``iso8601`` (default): ISO strings, each with its own offset or none, or a Parquet
  timestamp column; values without an offset are in ``data.timezone``. Numbers are
  refused: ``19490101`` would otherwise be read as nanoseconds since 1970.
- ``epoch_s`` / ``epoch_ms``: seconds / milliseconds since 1970-01-01 UTC.
- a ``strftime`` pattern such as ``"%Y%m%d"``: strings or integers written that way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrainer.errors import InputDataError

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config.data import DataConfig

__all__ = ["EPOCH_UNITS", "parse_times", "with_times"]

EPOCH_UNITS = {"epoch_s": "s", "epoch_ms": "ms"}
# An offset after a time of day: "T10:00+02:00", "10:00:00.5Z" (a date's "-01" is not one).
_OFFSET = r"[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_EXAMPLES = 3


def _numbers_refused(series: pd.Series, column: str, name: str) -> InputDataError:
    example = series.dropna().head(1).tolist()
    return InputDataError(
        f"{name}: column {column!r} holds numbers (e.g. {example}), not times: say what "
        "they mean with data.time_format in the model YAML (epoch_s, epoch_ms, or a "
        'pattern such as "%Y%m%d")'
    )


def _iso(series: pd.Series, zone: str) -> pd.Series:
    import pandas as pd

    text = series.astype("string")
    with_offset = text.str.contains(_OFFSET, regex=True, na=False).to_numpy()
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    if with_offset.any():
        # utc=True converts each value by its own offset: two offsets in one file are fine.
        out[with_offset] = pd.to_datetime(
            text[with_offset], format="ISO8601", utc=True, errors="coerce"
        )
    if (~with_offset).any():
        naive = pd.to_datetime(text[~with_offset], format="ISO8601", errors="coerce")
        out[~with_offset] = _localize(naive, zone)
    return out


def _localize(values: pd.Series, zone: str) -> pd.Series:
    if values.dt.tz is None:
        values = values.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return values.dt.tz_convert("UTC")


def _parse(series: pd.Series, column: str, name: str, data: DataConfig) -> pd.Series:
    import pandas as pd

    fmt, zone = data.time_format, data.timezone
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if pd.api.types.is_datetime64_any_dtype(series):
        return _localize(series, zone)
    if fmt in EPOCH_UNITS:
        values = pd.to_numeric(series, errors="coerce") if not numeric else series
        return pd.to_datetime(values, unit=EPOCH_UNITS[fmt], utc=True, errors="coerce")
    if fmt == "iso8601":
        if numeric:
            raise _numbers_refused(series, column, name)
        return _iso(series, zone)
    if numeric:  # a pattern such as %Y%m%d written as integers (CSV reads them so)
        whole = series.dropna()
        if (whole != whole.round()).any():
            raise InputDataError(
                f"{name}: column {column!r} holds fractional numbers (e.g. "
                f"{whole[whole != whole.round()].head(1).tolist()}), not {fmt!r} times"
            )
        series = series.astype("Int64").astype("string")
    parsed = pd.to_datetime(series.astype("string"), format=fmt, errors="coerce", utc="%z" in fmt)
    return _localize(parsed, zone)


def parse_times(series: pd.Series, data: DataConfig, *, name: str) -> pd.Series:
    """Return ``series`` as tz-aware UTC timestamps, read as ``data`` declares.

    Missing values stay missing (NaT); the nulls check judges them.

    Raises:
        InputDataError: numbers without a format that says what they mean, or values
            that are not times in the declared format; names file ``name``, the column
            and examples.
    """
    column = str(series.name)
    try:
        parsed = _parse(series, column, name, data)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputDataError(
            f"{name}: column {column!r} holds values that are not {data.time_format} times: {exc}"
        ) from exc
    bad = parsed.isna().to_numpy() & series.notna().to_numpy()
    if bad.any():
        examples: list[Any] = [str(v)[:40] for v in series[bad].head(_EXAMPLES)]
        raise InputDataError(
            f"{name}: column {column!r} holds {int(bad.sum()):,} value(s) that are not "
            f"{data.time_format} times in {data.timezone} (e.g. {examples}); "
            "data.time_format and data.timezone in the model YAML say how times are read"
        )
    return parsed.rename(series.name)


def with_times(frame: pd.DataFrame, data: DataConfig, *, name: str) -> pd.DataFrame:
    """``frame`` with its time column (if the model has one and it is there) parsed."""
    column = data.time_column
    if not column or column not in frame.columns or not len(frame):
        return frame
    return frame.assign(**{column: parse_times(frame[column], data, name=name)})
