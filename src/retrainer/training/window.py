"""Assemble a training window from accepted batches and cut the shared holdout.

The holdout is ``holdout_fraction`` of the newest batch in the window, cut as
``training.holdout`` says (:mod:`retrainer.training.holdout`): the challenger never trains
on it, and the champion is scored on the same rows. The default window (sliding, no
``batches``) takes as many of the newest batches as it needs for ``training.min_rows`` and
cuts the holdout from them as from one batch: with monthly batches of 30 rows a holdout
from the newest alone would be 9 rows, too few for the gate to tell two models apart. A
window bigger than ``training.sample.max_rows`` then has its training rows sampled
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
    "expected_train_rows",
    "merges_newest",
    "resolve_window",
    "widen_back",
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
    holdout_from: str = ""  # which batches the holdout was cut from
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
            "holdout_from": self.holdout_from,
            "start": self.start,
            "end": self.end,
        }


def expected_train_rows(chosen: Sequence[BatchMeta], holdout_fraction: float) -> float:
    """Labelled training rows ``chosen`` holds once the newest batch's holdout is cut."""
    if not chosen:
        return 0.0
    older = sum(m.labelled_rows for m in chosen[:-1])
    return older + chosen[-1].labelled_rows * (1.0 - holdout_fraction)


def widen_back(
    metas: Sequence[BatchMeta], start: int, *, min_rows: int, holdout_fraction: float
) -> int:
    """The latest first index at or before ``start`` whose window reaches ``min_rows``.

    Stops at the oldest batch: a lake that holds too few rows in all gives all it has, and
    the row check in :func:`assemble_window` then says how many are missing.
    """
    while start > 0 and expected_train_rows(metas[start:], holdout_fraction) < min_rows:
        start -= 1
    return start


def merges_newest(window: WindowConfig) -> bool:
    """Whether ``window`` is the default one that merges the newest batches into one.

    The default window (sliding, ``batches`` unset) treats the newest batches it takes as
    one batch: the holdout is cut from all of them, as it would be from a batch big enough
    alone. Explicit windows keep today's meaning: the holdout comes from the newest batch.
    """
    return window.kind == "sliding" and window.batches is None


def _newest_enough(
    metas: Sequence[BatchMeta], *, min_rows: int, holdout_fraction: float, label: str
) -> tuple[list[BatchMeta], str]:
    # Merged into one batch, the window's rows all share the holdout fraction.
    def rows(first: int) -> float:
        return sum(m.labelled_rows for m in metas[first:]) * (1.0 - holdout_fraction)

    first = len(metas) - 1
    while first > 0 and rows(first) < min_rows:
        first -= 1
    chosen = list(metas[first:])
    have = rows(first)
    if len(chosen) == 1:
        why = (
            f"the newest batch alone gives {have:.0f} training rows >= training.min_rows {min_rows}"
        )
        if have < min_rows:
            why = (
                f"the only batch: {have:.0f} training rows, fewer than training.min_rows {min_rows}"
            )
    elif have >= min_rows:
        why = (
            f"widened back to {chosen[0].batch_id}: {have:.0f} training rows after the holdout "
            f">= training.min_rows {min_rows}"
        )
    else:
        why = (
            f"all {len(chosen)} accepted batches: {have:.0f} training rows, fewer than "
            f"training.min_rows {min_rows}"
        )
    return chosen, f"{label}: newest {len(chosen)} batches as one ({why})"


def choose_batches(
    metas: Sequence[BatchMeta],
    window: WindowConfig,
    *,
    min_rows: int,
    holdout_fraction: float,
    champion_batches: Sequence[str] = (),
    flagged: Sequence[str] = (),
) -> tuple[list[BatchMeta], str]:
    """Pick the batches of a training window; return them (oldest first) and why.

    sliding with ``batches`` unset takes the newest batches, as many as it takes to hold
    ``min_rows`` training rows once the holdout is cut from them as one batch
    (:func:`merges_newest`), at least one; an explicit ``batches`` means exactly that many.
    since_break starts at the first flagged batch after the champion's newest training
    batch and widens back one batch at a time until the rows reach ``min_rows``: right
    after a break a few batches may be all there is of the new regime (with no flagged
    batch and ``batches`` unset it widens back from the newest batch the same way).
    """
    if window.kind == "expanding":
        return list(metas), f"expanding: all {len(metas)} accepted batches"
    if window.kind == "since_break":
        ids = [m.batch_id for m in metas]
        seen = [ids.index(b) for b in champion_batches if b in ids]
        after = max(seen) + 1 if seen else 0
        breaks = [i for i in range(after, len(ids)) if ids[i] in set(flagged)]
        if breaks:
            start = widen_back(
                metas, breaks[0], min_rows=min_rows, holdout_fraction=holdout_fraction
            )
            note = f"since_break: from {ids[breaks[0]]} (first flagged batch after the champion)"
            if start < breaks[0]:
                note += f", widened back to {ids[start]} for min_rows {min_rows}"
            return list(metas[start:]), note
        # Unset batches: widen back to min_rows from the newest batch, like a break there.
        start = widen_back(
            metas,
            max(0, len(metas) - (window.batches or 1)),
            min_rows=min_rows if window.batches is None else 0,
            holdout_fraction=holdout_fraction,
        )
        chosen = list(metas[start:])
        return chosen, f"since_break: no flagged batch yet, last {len(chosen)} batches"
    if window.batches is None:
        return _newest_enough(
            metas, min_rows=min_rows, holdout_fraction=holdout_fraction, label="sliding"
        )
    chosen = list(metas[-window.batches :])
    return chosen, f"sliding: last {len(chosen)} batches (training.window.batches)"


def resolve_window(
    config: ModelConfig, window: WindowConfig | None = None, window_batches: int | None = None
) -> WindowConfig:
    """The window a retrain uses: the manual override, this run's policy, or the config's."""
    from retrainer.config import WindowConfig

    if window_batches:
        return WindowConfig(kind="sliding", batches=window_batches)
    return window or config.training.window


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
    return choose_batches(
        metas,
        resolve_window(config, window, window_batches),
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
    holdout_from = f"newest batch {chosen[-1].batch_id}"
    if merges_newest(resolve_window(config, window, window_batches)) and len(frames) > 1:
        frames = [pd.concat(frames, ignore_index=True)]
        holdout_from = f"the window's {len(chosen)} batches as one (default window)"
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
        holdout_from=holdout_from,
        sample=sample,
    )
