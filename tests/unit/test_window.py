"""The default training window widens over the newest batches until it can train."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retrainer.config import ModelConfig, WindowConfig
from retrainer.errors import InputDataError
from retrainer.lake import BatchMeta, accept_batch
from retrainer.storage import LocalStorage
from retrainer.training import assemble_window
from retrainer.training.window import choose_batches

pytestmark = pytest.mark.unit

COMMON = {"min_rows": 200, "holdout_fraction": 0.3}


def _metas(sizes: list[int]) -> list[BatchMeta]:
    return [BatchMeta(f"b{i:02d}", rows=n, labelled_rows=n) for i, n in enumerate(sizes)]


def _ids(chosen: list[BatchMeta]) -> list[str]:
    return [m.batch_id for m in chosen]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_default_window_is_the_fewest_newest_batches_that_reach_min_rows(seed: int) -> None:
    sizes = np.random.default_rng(seed).integers(20, 40, size=24).tolist()
    metas = _metas(sizes)
    chosen, note = choose_batches(metas, WindowConfig(), **COMMON)
    train_rows = sum(m.labelled_rows for m in chosen) * 0.7
    one_fewer = sum(m.labelled_rows for m in chosen[1:]) * 0.7
    assert chosen == metas[-len(chosen) :], "the newest batches, oldest first"
    assert train_rows >= 200 > one_fewer, "as many as needed, not one more"
    assert f"newest {len(chosen)} batches as one" in note
    assert f"widened back to {chosen[0].batch_id}" in note and "training.min_rows 200" in note


def test_a_big_newest_batch_keeps_the_default_window_to_itself() -> None:
    chosen, note = choose_batches(_metas([30, 30, 500]), WindowConfig(), **COMMON)
    assert _ids(chosen) == ["b02"]
    assert "the newest batch alone gives 350 training rows" in note


def test_a_lake_with_too_few_rows_gives_all_it_has_and_says_so() -> None:
    chosen, note = choose_batches(_metas([30, 30]), WindowConfig(), **COMMON)
    assert _ids(chosen) == ["b00", "b01"]
    assert "all 2 accepted batches: 42 training rows, fewer than training.min_rows 200" in note


def test_an_explicit_sliding_size_means_exactly_that_many() -> None:
    chosen, note = choose_batches(
        _metas([30] * 12), WindowConfig(kind="sliding", batches=2), **COMMON
    )
    assert _ids(chosen) == ["b10", "b11"]
    assert note == "sliding: last 2 batches (training.window.batches)"


def test_since_break_without_a_break_widens_back_unless_sized() -> None:
    metas = _metas([30] * 12)
    widened, _ = choose_batches(metas, WindowConfig(kind="since_break"), **COMMON)
    # Older batches train in full, the newest gives 70%: 30 * 6 + 21 = 201 rows.
    assert _ids(widened) == [f"b{i:02d}" for i in range(5, 12)]
    sized, _ = choose_batches(metas, WindowConfig(kind="since_break", batches=3), **COMMON)
    assert _ids(sized) == ["b09", "b10", "b11"]


def _monthly_lake(tmp_path):  # type: ignore[no-untyped-def]
    """Daily rows of 14 whole months in monthly batches (28-31 rows), a label that follows x."""
    config = ModelConfig.model_validate(
        {
            "name": "daily",
            "data": {"time_column": "date"},
            "numeric_features": ["x"],
            "target": {"column": "y"},
        }
    )
    storage = LocalStorage(tmp_path)
    rng = np.random.default_rng(7)
    days = pd.date_range("2021-01-01", "2022-02-28", freq="D", tz="UTC")
    frame = pd.DataFrame({"date": days, "x": rng.normal(size=len(days))})
    frame["y"] = (frame["x"] + rng.normal(scale=0.5, size=len(days)) > 0).astype(int)
    months = frame["date"].dt.strftime("%Y-%m")
    for month, part in frame.groupby(months):
        key = f"batches/daily/{month}/data.parquet"
        storage.write_frame(key, part.reset_index(drop=True))
        accept_batch(storage, config, str(month), key)
    return storage, config


def test_default_window_on_monthly_batches_trains_and_holds_out_the_newest_rows(  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    storage, config = _monthly_lake(tmp_path)
    window = assemble_window(storage, config)
    # 200 / 0.7 = 286 rows: May 2021 - Feb 2022 hold 304 (213 to train), June on only 273.
    assert len(window.batch_ids) == 10
    assert window.batch_ids[-1] == "2022-02"
    assert len(window.train) >= config.training.min_rows
    # The holdout is the newest 30% of the merged months, strictly after every training row.
    assert len(window.holdout) == round((len(window.train) + len(window.holdout)) * 0.3)
    assert window.train["date"].max() < window.holdout["date"].min()
    assert window.holdout_strategy == "time"
    assert window.holdout_from == "the window's 10 batches as one (default window)"
    assert window.policy.startswith("sliding: newest 10 batches as one (widened back to 2021-05")


def test_an_explicit_window_on_monthly_batches_says_how_many_rows_are_missing(  # type: ignore[no-untyped-def]
    tmp_path,
) -> None:
    storage, config = _monthly_lake(tmp_path)
    one = config.model_copy(
        update={
            "training": config.training.model_copy(
                update={"window": WindowConfig(kind="sliding", batches=1)}
            )
        }
    )
    with pytest.raises(InputDataError, match=r"has 2\d labelled rows, fewer than training\.min"):
        assemble_window(storage, one)
