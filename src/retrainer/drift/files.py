"""Drift of a batch file: read or stream-profile it, against a file or the champion's profile.

What ``retrainer drift MODEL FILE`` compares, without a lake or a DAG run: Parquet and CSV
files are profiled chunk by chunk in bounded memory (:func:`retrainer.drift.profile_file`),
any other table format is read whole. Every reason a file cannot be used raises
:class:`~retrainer.errors.InputDataError` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrainer.errors import InputDataError

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from retrainer.config.data import DataConfig
    from retrainer.drift.profile import Profile

__all__ = ["champion_reference", "profile_input", "read_input"]

_STREAMED = {".parquet", ".pq", ".csv"}


def _nested_error(path: Path, nested: dict[str, str]) -> InputDataError:
    listed = ", ".join(f"{name!r} ({kind})" for name, kind in nested.items())
    return InputDataError(
        f"{path}: feature column(s) {listed} hold nested values (list/struct/map), which "
        "drift does not support: each feature holds one value per row; flatten them first"
    )


def read_input(
    path: Path, times: DataConfig | None, features: list[str] | None = None
) -> pd.DataFrame:
    """Read a CSV/Parquet file whole.

    Raises:
        InputDataError: the file is missing or not a readable table, repeats a column
            name, or one of ``features`` holds lists or structs.
    """
    from retrainer.tables import read_table
    from retrainer.validation.rows import nested_values

    try:
        frame = read_table(path.read_bytes(), path.name, times=times)
    except FileNotFoundError:
        raise InputDataError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputDataError(str(exc)) from exc
    nested = {
        f: kind
        for f in features or []
        if f in frame.columns and (kind := nested_values(frame[f])[1]) is not None
    }
    if nested:
        raise _nested_error(path, nested)
    return frame


def _streamed_columns(path: Path, features: list[str]) -> list[str]:
    """Column names from the schema or header, refusing what the streaming reader would
    misread: a repeated name (pyarrow cannot pick one) or a nested feature column (its
    values would be counted as missing)."""
    from retrainer.drift.stream import columns_of

    try:
        columns = columns_of(path)
        nested: dict[str, str] = {}
        if path.suffix.lower() != ".csv":
            import pyarrow as pa
            import pyarrow.parquet as pq

            nested = {
                field.name: str(field.type)
                for field in pq.read_schema(str(path))
                if field.name in features and pa.types.is_nested(field.type)
            }
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise InputDataError(f"{path}: unreadable ({exc})") from exc
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InputDataError(
            f"{path}: duplicate column name(s) {repeated[:10]}: each column must appear once"
        )
    if nested:
        raise _nested_error(path, nested)
    return columns


def profile_input(
    path: Path, reference: Profile, features: list[str], times: DataConfig | None
) -> Profile:
    """Profile a batch file on ``reference``'s bins, streaming Parquet and CSV.

    Raises:
        InputDataError: the file is missing, empty, unreadable, lacks a feature column,
            repeats a column name or has a nested (list/struct) feature column.
    """
    from retrainer.drift.build import profile_batch
    from retrainer.drift.stream import profile_file

    frame = None
    if path.suffix.lower() not in _STREAMED:
        frame = read_input(path, times, features)
        columns = list(frame.columns)
    else:
        if not path.is_file():
            raise InputDataError(f"{path}: file not found")
        if path.stat().st_size == 0:
            raise InputDataError(f"{path}: empty (0 bytes)")
        columns = _streamed_columns(path, features)
    missing = [f for f in features if f not in columns]
    if missing:
        raise InputDataError(f"{path}: missing feature column(s) {missing}")
    if frame is not None:
        return profile_batch(frame, reference)
    try:
        return profile_file(path, reference)
    except (OSError, ValueError) as exc:
        raise InputDataError(f"{path}: unreadable ({exc})") from exc


def champion_reference(client: MlflowClient, run_id: str) -> tuple[Profile, dict[str, Any]]:
    """The reference profile and feature importances the champion's training run logged."""
    from retrainer.drift.profile import Profile
    from retrainer.registry.artifacts import read_artifact

    profile = Profile.from_dict(read_artifact(client, run_id, "profile"))
    return profile, read_artifact(client, run_id, "importance")
