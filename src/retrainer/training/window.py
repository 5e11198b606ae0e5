"""Assemble a training window from accepted batches and cut the shared holdout.

The holdout is the most recent ``holdout_fraction`` of the newest batch in the window,
by time: the challenger never trains on it, and the champion is scored on the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrainer.errors import InputDataError

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage

__all__ = ["TrainingWindow", "accepted_batches", "assemble_window"]


@dataclass(frozen=True)
class TrainingWindow:
    batch_ids: tuple[str, ...]
    train: pd.DataFrame
    holdout: pd.DataFrame
    start: str | None
    end: str | None

    def describe(self) -> dict[str, Any]:
        return {
            "batches": list(self.batch_ids),
            "train_rows": len(self.train),
            "holdout_rows": len(self.holdout),
            "start": self.start,
            "end": self.end,
        }


def accepted_batches(storage: Storage, model: str) -> list[dict[str, Any]]:
    """Return the metadata of every accepted batch, oldest data first."""
    metas = [
        storage.read_json(key)
        for key in storage.list(f"batches/{model}/")
        if key.endswith("/meta.json")
    ]
    return sorted(metas, key=lambda m: (m.get("end") or "", m.get("accepted_at") or ""))


def assemble_window(
    storage: Storage,
    config: ModelConfig,
    *,
    window_batches: int | None = None,
    until_batch: str | None = None,
) -> TrainingWindow:
    """Read the last ``window_batches`` accepted batches (ending at ``until_batch``).

    Raises:
        InputDataError: there are no accepted batches, or too few rows to train on.
    """
    import pandas as pd

    metas = accepted_batches(storage, config.name)
    if until_batch is not None:
        ids = [m["batch_id"] for m in metas]
        if until_batch not in ids:
            raise InputDataError(f"batch {until_batch!r} of {config.name!r} was never accepted")
        metas = metas[: ids.index(until_batch) + 1]
    if not metas:
        raise InputDataError(
            f"no accepted batches for {config.name!r} under batches/{config.name}/: "
            "land data first (retrainer land)"
        )
    size = window_batches or config.training.window_batches
    chosen = metas[-size:]
    frames = [storage.read_frame(m["data_key"]) for m in chosen]
    time_col = config.data.time_column
    newest = frames[-1]
    if time_col and time_col in newest.columns:
        newest = newest.sort_values(time_col, kind="stable")
    n_holdout = max(1, round(len(newest) * config.training.holdout_fraction))
    holdout = newest.iloc[len(newest) - n_holdout :]
    train = pd.concat([*frames[:-1], newest.iloc[: len(newest) - n_holdout]], ignore_index=True)
    train = train.dropna(subset=[config.target.column])
    holdout = holdout.dropna(subset=[config.target.column]).reset_index(drop=True)
    if len(train) < config.training.min_rows:
        raise InputDataError(
            f"training window {[m['batch_id'] for m in chosen]} of {config.name!r} has "
            f"{len(train)} labelled rows, fewer than training.min_rows={config.training.min_rows}"
        )
    start = end = None
    if time_col and time_col in train.columns:
        start = str(pd.Timestamp(train[time_col].min()).date())
        end = str(pd.Timestamp(holdout[time_col].max()).date())
    return TrainingWindow(
        batch_ids=tuple(m["batch_id"] for m in chosen),
        train=train,
        holdout=holdout,
        start=start,
        end=end,
    )
