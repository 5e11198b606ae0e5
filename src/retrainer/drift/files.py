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

    from retrainer.drift.profile import Profile

__all__ = ["champion_reference", "profile_input", "read_input"]

_STREAMED = {".parquet", ".pq", ".csv"}


def read_input(path: Path, time_column: str | None) -> pd.DataFrame:
    """Read a CSV/Parquet file whole.

    Raises:
        InputDataError: the file is missing or not a readable table.
    """
    from retrainer.tables import read_table

    try:
        return read_table(path.read_bytes(), path.name, time_column=time_column)
    except FileNotFoundError:
        raise InputDataError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputDataError(str(exc)) from exc


def profile_input(
    path: Path, reference: Profile, features: list[str], time_column: str | None
) -> Profile:
    """Profile a batch file on ``reference``'s bins, streaming Parquet and CSV.

    Raises:
        InputDataError: the file is missing, empty, unreadable or lacks a feature column.
    """
    from retrainer.drift.build import profile_batch
    from retrainer.drift.stream import columns_of, profile_file

    frame = None
    if path.suffix.lower() not in _STREAMED:
        frame = read_input(path, time_column)
        columns = list(frame.columns)
    else:
        if not path.is_file():
            raise InputDataError(f"{path}: file not found")
        if path.stat().st_size == 0:
            raise InputDataError(f"{path}: empty (0 bytes)")
        try:
            columns = columns_of(path)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise InputDataError(f"{path}: unreadable ({exc})") from exc
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
