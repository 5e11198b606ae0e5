"""Sampling a big training window: seeded, exact sizes, class shares, the holdout untouched."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from retrainer.config import ModelConfig, SampleConfig, load_model_config
from retrainer.lake import accept_batch
from retrainer.storage import LocalStorage
from retrainer.training import assemble_window
from retrainer.training.sample import class_quotas, sample_training_rows

pytestmark = pytest.mark.unit


def _config(sample: dict[str, Any] | None, task: str = "multiclass") -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": "m",
            "data": {"time_column": "t"},
            "numeric_features": ["x"],
            "target": {"column": "y", "task": task},
            "training": {"sample": sample, "min_rows": 50, "random_state": 3},
        }
    )


def _window(rows: int = 10_000) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "t": pd.date_range("2020-01-01", periods=rows, freq="h", tz="UTC"),
            "x": rng.normal(size=rows),
            # 70% / 25% / 4.97% / 3 rows: the rare class has a share below one row.
            "y": rng.choice(["a", "b", "c"], size=rows, p=[0.7, 0.25, 0.05]),
        }
    ).assign(y=lambda f: f["y"].where(f.index >= 3, "rare"))


def test_a_window_over_max_rows_is_sampled_to_exactly_max_rows_in_time_order() -> None:
    window = _window()
    sample, lineage = sample_training_rows(window, _config({"max_rows": 1234, "seed": 9}))
    assert len(sample) == 1234
    assert lineage is not None
    assert (lineage.window_rows, lineage.sampled_rows, lineage.seed) == (10_000, 1234, 9)
    assert lineage.sampled and not lineage.stratified
    # Rows keep the window's order: a time-ordered window gives a time-ordered sample.
    assert sample["t"].is_monotonic_increasing
    assert sample["t"].is_unique
    assert set(sample["t"]) <= set(window["t"])


def test_the_same_seed_draws_the_same_rows_and_another_seed_others() -> None:
    window = _window()
    first, _ = sample_training_rows(window, _config({"max_rows": 500, "seed": 1}))
    again, _ = sample_training_rows(window, _config({"max_rows": 500, "seed": 1}))
    other, _ = sample_training_rows(window, _config({"max_rows": 500, "seed": 2}))
    pd.testing.assert_frame_equal(first, again)
    assert not first["t"].equals(other["t"])


def test_the_seed_defaults_to_training_random_state() -> None:
    _, lineage = sample_training_rows(_window(), _config({"max_rows": 500}))
    assert lineage is not None and lineage.seed == 3


def test_a_stratified_sample_keeps_every_class_share_within_one_row() -> None:
    window = _window()
    sample, lineage = sample_training_rows(window, _config({"max_rows": 1001, "stratify": True}))
    assert len(sample) == 1001
    counts = window["y"].value_counts()
    drawn = sample["y"].value_counts()
    for label, count in counts.items():
        share = 1001 * count / len(window)
        assert abs(drawn.get(label, 0) - share) < 1, label
    # The class with 3 rows in 10,000 (0.3 of a row) still gets one.
    assert drawn["rare"] == 1
    assert lineage is not None and lineage.stratified
    assert lineage.sampled_classes == {str(k): int(v) for k, v in drawn.items()}
    assert lineage.window_classes == {str(k): int(v) for k, v in counts.items()}
    assert sample["t"].is_monotonic_increasing


def test_class_quotas_sum_to_the_total_and_round_ties_to_the_earlier_class() -> None:
    # Two classes of equal size and an odd total: largest remainders, ties to the first.
    assert class_quotas(np.array([5, 5]), 3).tolist() == [2, 1]
    quotas = class_quotas(np.array([700, 250, 47, 3]), 100)
    assert quotas.sum() == 100
    assert quotas.tolist() == [70, 25, 4, 1]  # 4.7 and 0.3 would be 5 and 0; 0.3 takes 1


def test_a_window_within_max_rows_is_kept_whole_and_says_so() -> None:
    window = _window(300)
    sample, lineage = sample_training_rows(window, _config({"max_rows": 300, "stratify": True}))
    assert sample is window
    assert lineage is not None and not lineage.sampled
    assert lineage.params()["sample.rows"] == 300


def test_without_a_policy_nothing_is_sampled_or_logged() -> None:
    window = _window(300)
    sample, lineage = sample_training_rows(window, _config(None))
    assert sample is window and lineage is None


def test_a_regression_window_is_sampled_without_class_counts() -> None:
    window = _window().assign(y=lambda f: f["x"] * 2.0)
    sample, lineage = sample_training_rows(window, _config({"max_rows": 700}, task="regression"))
    assert len(sample) == 700
    assert lineage is not None and lineage.sampled_classes == {}
    assert "sample.class_counts" not in lineage.params()


@pytest.mark.parametrize(
    ("sample", "task", "message"),
    [
        ({"max_rows": 20}, "binary", r"max_rows 20 is below training\.min_rows 50"),
        ({"max_rows": 500, "stratify": True}, "regression", "stratify needs a classifier"),
        ({"max_rows": "500"}, "binary", "max_rows"),  # strict: text is not a number
        ({"max_rows": 500, "stratify": "yes"}, "binary", "stratify"),
        ({"max_rows": 500, "size": 3}, "binary", "size"),
        ({"stratify": True}, "binary", "max_rows"),
    ],
)
def test_a_bad_sample_policy_is_a_config_error_naming_the_field(
    sample: dict[str, Any], task: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _config(sample, task=task)


def test_the_window_samples_only_training_rows_and_keeps_the_holdout_whole(
    tmp_path, rainfall_periods, repo_root
) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    config = load_model_config(repo_root / "config/models/rainfall.yaml")
    for index in (0, 1):
        key = f"batches/rainfall/p{index}/data.parquet"
        # An extra column training never uses: the window does not read it.
        storage.write_frame(key, rainfall_periods[index].assign(station_note="x"))
        accept_batch(storage, config, f"p{index}", key)
    whole = assemble_window(storage, config, window_batches=2)
    policy = SampleConfig(max_rows=1000, stratify=True, seed=5)
    training = config.training.model_copy(update={"sample": policy})
    sampled_config = config.model_copy(update={"training": training})
    window = assemble_window(storage, sampled_config, window_batches=2)

    pd.testing.assert_frame_equal(window.holdout, whole.holdout)
    assert len(window.train) == 1000
    assert window.sample is not None and window.sample.window_rows == len(whole.train)
    # Every sampled row is a training row of the whole window, none a holdout row.
    assert set(window.train["date"]) <= set(whole.train["date"])
    assert not set(window.train["date"]) & set(window.holdout["date"])
    assert "station_note" not in window.train.columns
    assert window.lineage()["sample"]["sampled_rows"] == 1000
