"""Golden cuts of the holdout: each strategy's sizes and the property it promises."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from retrainer.config import ModelConfig
from retrainer.errors import InputDataError
from retrainer.training.holdout import cut_holdout


def _config(holdout: dict[str, Any], task: str = "binary", time: str | None = "t") -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": "m",
            "data": {"time_column": time},
            "numeric_features": ["x"],
            "target": {"column": "y", "task": task},
            "training": {"holdout": holdout, "holdout_fraction": 0.3},
        }
    )


def _frame(times: Any, rows: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "t": times,
            "x": rng.normal(size=rows),
            "y": (rng.random(rows) < 0.2).astype(int),  # 20% positives
            "customer": rng.integers(0, 120, size=rows),
        }
    )


def _hourly(rows: int = 1000) -> pd.Series:
    # Shuffled in the file: the time cut must sort, not take file order.
    times = pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC")
    return pd.Series(times).sample(frac=1.0, random_state=1).to_numpy()


def test_time_puts_the_holdout_strictly_after_the_training_rows() -> None:
    cut = cut_holdout(_frame(_hourly()), _config({"strategy": "time"}))
    assert (len(cut.train), len(cut.holdout), cut.strategy) == (700, 300, "time")
    assert cut.holdout["t"].min() > cut.train["t"].max()


def test_auto_takes_time_when_the_time_column_orders_the_rows() -> None:
    cut = cut_holdout(_frame(_hourly()), _config({}))
    assert cut.strategy == "time"
    assert "orders the rows" in cut.reason


@pytest.mark.parametrize(
    ("times", "why"),
    [(pd.Timestamp("2024-01-01", tz="UTC"), "1 distinct value"), (None, "no time column")],
    ids=["one time per batch", "no time column"],
)
def test_auto_stratifies_a_classifier_when_time_cannot_order_the_rows(times: Any, why: str) -> None:
    frame = _frame(times) if times is not None else _frame(None).drop(columns="t")
    cut = cut_holdout(frame, _config({}, time="t" if times is not None else None))
    assert cut.strategy == "stratified"
    assert why in cut.reason


def test_auto_shuffles_a_regressor_when_time_cannot_order_the_rows() -> None:
    cut = cut_holdout(_frame(pd.Timestamp("2024-01-01", tz="UTC")), _config({}, task="regression"))
    assert cut.strategy == "random"


def test_stratified_keeps_the_class_shares_equal_within_a_row() -> None:
    cut = cut_holdout(_frame(_hourly()), _config({"strategy": "stratified", "seed": 3}))
    assert (len(cut.train), len(cut.holdout)) == (700, 300)
    assert abs(cut.train["y"].mean() - cut.holdout["y"].mean()) <= 1 / len(cut.holdout)


def test_random_is_seeded_and_disjoint() -> None:
    frame = _frame(_hourly())
    first = cut_holdout(frame, _config({"strategy": "random", "seed": 5}))
    again = cut_holdout(frame, _config({"strategy": "random", "seed": 5}))
    other = cut_holdout(frame, _config({"strategy": "random", "seed": 6}))
    assert (len(first.train), len(first.holdout)) == (700, 300)
    assert first.holdout.index.equals(again.holdout.index)
    assert not first.holdout.index.equals(other.holdout.index)
    assert not set(first.train.index) & set(first.holdout.index)


def test_group_keeps_every_row_of_an_id_on_one_side() -> None:
    config = _config({"strategy": "group", "group_column": "customer", "seed": 0})
    cut = cut_holdout(_frame(_hourly()), config)
    assert not set(cut.train["customer"]) & set(cut.holdout["customer"])
    assert len(cut.train) + len(cut.holdout) == 1000
    assert 0.2 < len(cut.holdout) / 1000 < 0.4  # a share of the groups, near 30% of rows


def test_group_names_a_missing_group_column() -> None:
    config = _config({"strategy": "group", "group_column": "account", "seed": 0})
    with pytest.raises(InputDataError, match="'account'"):
        cut_holdout(_frame(_hourly()), config)


@pytest.mark.parametrize(
    ("holdout", "task", "message"),
    [
        ({"strategy": "group"}, "binary", "needs training.holdout.group_column"),
        ({"group_column": "c"}, "binary", "only used by strategy group"),
        ({"strategy": "stratified"}, "regression", "needs a classifier"),
    ],
)
def test_a_holdout_config_that_cannot_work_is_refused(
    holdout: dict[str, Any], task: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _config(holdout, task=task)
