"""Assemble a training window from accepted batches and cut the shared holdout.

The holdout is ``holdout_fraction`` of the newest batch in the window, cut as
``training.holdout`` says (:mod:`retrainer.training.holdout`): the challenger never trains
on it, and the champion is scored on the same rows. A window bigger than
``training.sample.max_rows`` then has its training rows sampled
(:mod:`retrainer.training.sample`); the holdout stays whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrainer.errors import InputDataError
from retrainer.lake import BatchMeta, accepted_batches, keys
from retrainer.times import with_times
from retrainer.training.holdout import cut_holdout
from retrainer.training.sample import SampleLineage, sample_training_rows

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig, WindowConfig
    from retrainer.storage import Storage

__all__ = [
    "TrainingWindow",
    "assemble_window",
    "choose_batches",
    "choose_window",
    "window_columns",
]


@dataclass(frozen=True)
class TrainingWindow:
    batch_ids: tuple[str, ...]
    train: pd.DataFrame
    holdout: pd.DataFrame
    start: str | None
    end: str | None
    policy: str = "sliding"
    holdout_strategy: str = "time"
    holdout_reason: str = ""
    sample: SampleLineage | None = None

    def lineage(self) -> dict[str, Any]:
        """Which data the model learned from (policy, batches, rows, time span): JSON-safe."""
        sample = {"sample": self.sample.to_dict()} if self.sample is not None else {}
        return {
            **sample,
            "policy": self.policy,
            "batches": list(self.batch_ids),
            "train_rows": len(self.train),
            "holdout_rows": len(self.holdout),
            "holdout_strategy": self.holdout_strategy,
            "start": self.start,
            "end": self.end,
        }


def choose_batches(
    metas: Sequence[BatchMeta],
    window: WindowConfig,
    *,
    min_rows: int,
    holdout_fraction: float,
    champion_batches: Sequence[str] = (),
    flagged: Sequence[str] = (),
) -> tuple[list[BatchMeta], str]:
    """Pick the batches of a training window; return them (oldest first) and a description.

    since_break starts at the first flagged batch after the champion's newest training
    batch and widens back one batch at a time until the rows reach ``min_rows``: right
    after a break a few batches may be all there is of the new regime.
    """
    if window.kind == "expanding":
        return list(metas), f"expanding: all {len(metas)} accepted batches"
    if window.kind == "since_break":
        ids = [m.batch_id for m in metas]
        seen = [ids.index(b) for b in champion_batches if b in ids]
        after = max(seen) + 1 if seen else 0
        breaks = [i for i in range(after, len(ids)) if ids[i] in set(flagged)]
        if breaks:
            start = breaks[0]

            def train_rows(first: int) -> float:
                chosen = metas[first:]
                newest = chosen[-1].labelled_rows
                older = sum(m.labelled_rows for m in chosen[:-1])
                return older + newest * (1.0 - holdout_fraction)

            while start > 0 and train_rows(start) < min_rows:
                start -= 1
            note = f"since_break: from {ids[breaks[0]]} (first flagged batch after the champion)"
            if start < breaks[0]:
                note += f", widened back to {ids[start]} for min_rows {min_rows}"
            return list(metas[start:]), note
        chosen = list(metas[-window.batches :])
        return chosen, f"since_break: no flagged batch yet, last {len(chosen)} batches"
    chosen = list(metas[-window.batches :])
    return chosen, f"sliding: last {len(chosen)} batches"


def choose_window(
    metas: Sequence[BatchMeta],
    config: ModelConfig,
    window: WindowConfig | None = None,
    window_batches: int | None = None,
    *,
    champion_batches: Sequence[str] = (),
    flagged: Sequence[str] = (),
) -> tuple[list[BatchMeta], str]:
    """The batches the model's window policy picks from ``metas``, and the policy's name.

    ``window_batches`` (a manual override) means a sliding window of that many batches;
    otherwise ``window`` or the config's ``training.window`` decides.
    """
    from retrainer.config import WindowConfig

    if window_batches:
        window = WindowConfig(kind="sliding", batches=window_batches)
    return choose_batches(
        metas,
        window or config.training.window,
        min_rows=config.training.min_rows,
        holdout_fraction=config.training.holdout_fraction,
        champion_batches=champion_batches,
        flagged=flagged,
    )


def window_columns(config: ModelConfig) -> list[str]:
    """The columns training, validation and evaluation read from a window's batches.

    Features, target, time and id, the holdout's group column, the evaluation's slice
    and fairness columns: any other column of a batch is never read.
    """
    evaluation = config.evaluation
    named = [
        *config.features,
        config.target.column,
        config.data.time_column,
        config.data.id_column,
        config.training.holdout.group_column,
        *evaluation.slices.columns,
        evaluation.fairness.attribute if evaluation.fairness is not None else None,
    ]
    return list(dict.fromkeys(c for c in named if c is not None))


def assemble_window(
    storage: Storage,
    config: ModelConfig,
    *,
    window_batches: int | None = None,
    until_batch: str | None = None,
    window: WindowConfig | None = None,
    champion_batches: Sequence[str] = (),
    flagged: Sequence[str] = (),
) -> TrainingWindow:
    """Read the batches the window policy picks (ending at ``until_batch``).

    ``window_batches`` (a manual override) means a sliding window of that many batches;
    otherwise ``window`` or the config's ``training.window`` decides.

    Raises:
        InputDataError: there are no accepted batches, or too few rows to train on.
    """
    import pandas as pd

    metas = accepted_batches(storage, config.name)
    if until_batch is not None:
        ids = [m.batch_id for m in metas]
        if until_batch not in ids:
            raise InputDataError(f"batch {until_batch!r} of {config.name!r} was never accepted")
        metas = metas[: ids.index(until_batch) + 1]
    if not metas:
        raise InputDataError(
            f"no accepted batches for {config.name!r} under {keys.batches(config.name)}: "
            "land data first (retrainer land)"
        )
    chosen, policy = choose_window(
        metas, config, window, window_batches, champion_batches=champion_batches, flagged=flagged
    )
    # Batches accepted by older versions may hold naive times: read every one the same way.
    columns = window_columns(config)
    frames = [
        with_times(storage.read_frame(m.data_key, columns), config.data, name=m.data_key)
        for m in chosen
    ]
    time_col = config.data.time_column
    cut = cut_holdout(frames[-1], config)
    holdout = cut.holdout
    train = pd.concat([*frames[:-1], cut.train], ignore_index=True)
    train = train.dropna(subset=[config.target.column])
    holdout = holdout.dropna(subset=[config.target.column]).reset_index(drop=True)
    if len(train) < config.training.min_rows:
        raise InputDataError(
            f"training window {[m.batch_id for m in chosen]} of {config.name!r} has "
            f"{len(train)} labelled rows, fewer than training.min_rows={config.training.min_rows}"
        )
    # After the min_rows check: that counts the window, whatever is then fitted on.
    train, sample = sample_training_rows(train, config)
    start = end = None
    if time_col and time_col in train.columns:
        start = str(pd.Timestamp(train[time_col].min()).date())
        # A shuffled holdout may hold older rows than training: the span covers both sets.
        end = str(pd.Timestamp(pd.concat([train[time_col], holdout[time_col]]).max()).date())
    return TrainingWindow(
        batch_ids=tuple(m.batch_id for m in chosen),
        train=train,
        holdout=holdout,
        start=start,
        end=end,
        policy=policy,
        holdout_strategy=cut.strategy,
        holdout_reason=cut.reason,
        sample=sample,
    )
