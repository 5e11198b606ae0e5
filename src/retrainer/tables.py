"""Read a landed file (CSV or Parquet bytes) into a DataFrame, or say clearly why not."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from retrainer.errors import InputDataError

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config.data import DataConfig

__all__ = ["column_names", "read_table"]

_PARQUET_MAGIC = b"PAR1"


def _format(data: bytes, name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix == ".csv":
        return "csv"
    if data[:4] == _PARQUET_MAGIC:
        return "parquet"
    raise InputDataError(
        f"{name}: unknown file format {suffix or '(no extension)'!r}; expected .csv or .parquet"
    )


def _check_not_truncated(text: str, name: str) -> None:
    """A CSV cut off mid-row (an interrupted upload) has a short last line; pandas would
    silently fill the missing fields with NaN, so say it instead."""
    import csv

    if not text or text.endswith(("\n", "\r")):
        return
    lines = text.splitlines()
    if len(lines) < 2:
        return
    header, last = next(csv.reader([lines[0]])), next(csv.reader([lines[-1]]), [])
    if len(last) < len(header):
        raise InputDataError(
            f"{name}: truncated CSV: the last line has {len(last)} of {len(header)} fields "
            "and no line end (an interrupted upload?)"
        )


def _check_names(names: list[str], name: str) -> None:
    """Two columns of one name: pandas renames one (``x.1``) and pyarrow refuses both."""
    from collections import Counter

    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        shown = ", ".join(repr(n) for n in repeated[:10])
        more = f" and {len(repeated) - 10:,} more" if len(repeated) > 10 else ""
        raise InputDataError(
            f"{name}: duplicate column name(s) {shown}{more}: each column must appear once"
        )


def _header(data: bytes, kind: str, name: str) -> list[str]:
    """The column names, from the Parquet footer or the CSV header line (no rows read)."""
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(pa.BufferReader(data)).names)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise InputDataError(f"{name}: corrupt Parquet file: {exc}") from exc
    import csv

    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    return next(csv.reader([first]), [])


def column_names(data: bytes, name: str) -> list[str]:
    """The column names of file ``name`` from its header alone, before any row is parsed.

    Raises:
        InputDataError: unknown format, or a Parquet file whose footer cannot be read.
    """
    return _header(data, _format(data, name), name)


def read_table(data: bytes, name: str, *, times: DataConfig | None = None) -> pd.DataFrame:
    """Parse ``data`` (the bytes of file ``name``) as a table.

    A header-only file gives an empty frame (validation then blocks it for too few rows);
    everything unreadable raises. With ``times`` (the model's ``data:``), its time column
    is read as declared there, as tz-aware UTC (:func:`retrainer.times.parse_times`).

    Raises:
        InputDataError: zero bytes, corrupt Parquet, non-UTF-8 or malformed CSV, unknown
            format, repeated column names, a time column not in the declared format; the
            message names the file and the problem.
    """
    import pandas as pd

    if not data:
        raise InputDataError(f"{name}: the file is empty (0 bytes)")
    kind = _format(data, name)
    if kind == "parquet" and (data[:4] != _PARQUET_MAGIC or data[-4:] != _PARQUET_MAGIC):
        raise InputDataError(
            f"{name}: not a valid Parquet file (missing PAR1 magic bytes; truncated or not Parquet)"
        )
    _check_names(_header(data, kind, name), name)
    if kind == "parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise InputDataError(f"{name}: corrupt Parquet file: {exc}") from exc
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputDataError(
                f"{name}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
                "save the CSV as UTF-8"
            ) from exc
        _check_not_truncated(text, name)
        try:
            frame = pd.read_csv(io.StringIO(text), on_bad_lines="error")
        except pd.errors.EmptyDataError as exc:
            raise InputDataError(f"{name}: no header and no data") from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise InputDataError(f"{name}: malformed CSV: {str(exc).strip()}") from exc
        if len(frame.columns) == 1 and any(sep in str(frame.columns[0]) for sep in ";\t|"):
            raise InputDataError(
                f"{name}: only one column {str(frame.columns[0])[:60]!r}: the file seems to use "
                "another delimiter than ','"
            )
        unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
        if unnamed and unnamed == [frame.columns[0]]:
            frame = frame.drop(columns=unnamed)  # an index column written by to_csv
    if times is not None:
        from retrainer.times import with_times

        frame = with_times(frame, times, name=name)
    return frame
