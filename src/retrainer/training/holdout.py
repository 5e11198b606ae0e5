"""Cut the newest batch of a training window into training rows and the shared holdout.

``auto`` takes the time column only when it really orders the rows: when a batch carries
one time per row (or one per batch, or none), "the newest 30%" would silently be file
order. Then a seeded shuffle is fairer: stratified by the target for a classifier (the
holdout keeps the class shares), plain random for a regressor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrainer.errors import InputDataError

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = ["MIN_DISTINCT_TIMES", "HoldoutCut", "cut_holdout"]

# Fewer distinct times than this and "the newest rows" is mostly a tie broken by file order.
MIN_DISTINCT_TIMES = 10


@dataclass(frozen=True)
class HoldoutCut:
    train: pd.DataFrame
    holdout: pd.DataFrame
    strategy: str
    reason: str


def _time_orders(frame: pd.DataFrame, time_col: str | None, n_holdout: int) -> str | None:
    """Why the time column cannot order ``frame``'s holdout, or None when it can."""
    if not time_col or time_col not in frame.columns:
        return "no time column"
    times = frame[time_col]
    distinct = times.nunique()
    if distinct < MIN_DISTINCT_TIMES:
        return f"the time column has {distinct} distinct value(s) in the batch"
    ordered = times.sort_values(kind="stable")
    first_holdout, last_train = ordered.iloc[len(ordered) - n_holdout], ordered.iloc[-n_holdout - 1]
    if not first_holdout > last_train:
        return f"the holdout's earliest time {first_holdout} is not after the training rows' latest"
    return None


def _auto(frame: pd.DataFrame, config: ModelConfig, n_holdout: int) -> tuple[str, str]:
    why_not = _time_orders(frame, config.data.time_column, n_holdout)
    if why_not is None:
        return "time", "auto: the time column orders the rows (holdout strictly after training)"
    fallback = "random" if config.target.task == "regression" else "stratified"
    return fallback, f"auto: {why_not}, so {fallback}"


def _shuffled(
    frame: pd.DataFrame, config: ModelConfig, strategy: str, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    fraction = config.training.holdout_fraction
    rows = np.arange(len(frame))
    if strategy == "group":
        column = config.training.holdout.group_column
        assert column is not None  # the config refuses group without a column
        if column not in frame.columns:
            raise InputDataError(
                f"training.holdout.group_column {column!r} of {config.name!r} is not a column "
                "of the newest batch"
            )
        # Missing ids form one group of their own (factorize gives them -1): kept, not lost.
        groups = pd.factorize(frame[column], use_na_sentinel=True)[0]
        if len(set(groups)) < 2:
            raise InputDataError(
                f"training.holdout.group_column {column!r} of {config.name!r} has one group "
                "in the newest batch: nothing to hold out apart from it"
            )
        split = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        train_rows, holdout_rows = next(split.split(rows, groups=groups))
    else:
        stratify = None
        if strategy == "stratified":
            labels = frame[config.target.column]
            if labels.value_counts().min() < 2:
                raise InputDataError(
                    f"training.holdout.strategy stratified of {config.name!r}: a class has "
                    "fewer than 2 labelled rows in the newest batch (use random)"
                )
            stratify = labels.to_numpy()
        train_rows, holdout_rows = train_test_split(
            rows, test_size=fraction, random_state=seed, stratify=stratify
        )
    # File order within each side: the cut picks rows, it does not reorder them.
    return frame.iloc[np.sort(train_rows)], frame.iloc[np.sort(holdout_rows)]


def cut_holdout(newest: pd.DataFrame, config: ModelConfig) -> HoldoutCut:
    """Split ``newest`` by the configured strategy (``auto`` decides and says why).

    Rows without a label are left out first for the shuffled strategies (a stratified cut
    needs a class per row); the time cut keeps today's order: cut, then drop them.

    Raises:
        InputDataError: the group column is missing or has a single group, or a class is
            too rare to stratify on.
    """
    holdout_config = config.training.holdout
    seed = holdout_config.seed if holdout_config.seed is not None else config.training.random_state
    n_holdout = max(1, round(len(newest) * config.training.holdout_fraction))
    strategy: str = holdout_config.strategy
    reason = f"configured: {strategy}"
    if strategy == "auto":
        strategy, reason = _auto(newest, config, n_holdout)
    time_col = config.data.time_column
    if strategy == "time":
        ordered = newest
        if time_col and time_col in newest.columns:
            ordered = newest.sort_values(time_col, kind="stable")
        return HoldoutCut(
            ordered.iloc[: len(ordered) - n_holdout],
            ordered.iloc[len(ordered) - n_holdout :],
            strategy,
            reason,
        )
    labelled = newest.dropna(subset=[config.target.column])
    train, holdout = _shuffled(labelled, config, strategy, seed)
    return HoldoutCut(train, holdout, strategy, reason)
