"""The public drifting data sets of the default-policy replays load from package files."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrainer.config import load_model_config
from retrainer.datasets import replay_batches, write_replay_batches
from retrainer.errors import ConfigError

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "replay" / "config" / "models"
SETS = ("rainfall", "seattle_weather", "gapminder", "sp500")


@pytest.mark.parametrize("name", SETS)
def test_each_replay_batch_can_train_a_model_on_the_default_min_rows(name: str) -> None:
    batches = replay_batches(name)
    config = load_model_config(EXAMPLES / f"{name}.yaml")
    columns = {config.data.time_column, config.target.column, *config.features}
    ends = [part["date"].max() for _, part in batches]
    starts = [part["date"].min() for _, part in batches]
    assert all(a < b for a, b in zip(ends, starts[1:], strict=False)), "batches in time order"
    assert [b for b, _ in batches] == sorted(b for b, _ in batches), "names sort as time"
    for _, part in batches:
        assert set(part.columns) == columns, "a batch holds exactly the YAML's columns"
        training_rows = len(part) * (1 - config.training.holdout_fraction)
        assert training_rows >= config.training.min_rows


def test_gapminder_and_sp500_are_the_packaged_files() -> None:
    gapminder = replay_batches("gapminder")
    assert [b for b, _ in gapminder] == ["1952", "1967", "1982", "1997"]
    assert sum(len(p) for _, p in gapminder) == 1704  # 142 countries x 12 surveys
    # Life expectancy rose by 14.5 years over the four batches (51.4 -> 65.9 on average).
    means = [p["life_exp"].mean() for _, p in gapminder]
    assert means[0] == pytest.approx(51.4, abs=0.05) and means[-1] == pytest.approx(65.9, abs=0.05)
    sp500 = replay_batches("sp500")
    assert sum(len(p) for _, p in sp500) == 1257
    assert str(sp500[0][1]["date"].min().date()) == "2013-02-11"


def test_replay_batches_are_written_once_and_never_over_a_file(tmp_path: Path) -> None:
    written = write_replay_batches("gapminder", tmp_path / "past")
    assert [p.name for p in written] == [f"{y}.parquet" for y in (1952, 1967, 1982, 1997)]
    before = written[0].read_bytes()
    with pytest.raises(FileExistsError, match="write replay batches to an empty folder"):
        write_replay_batches("gapminder", tmp_path / "past")
    assert written[0].read_bytes() == before


def test_an_unknown_source_or_a_missing_package_is_named() -> None:
    from retrainer import datasets

    with pytest.raises(ConfigError, match="unknown data source 'nope'"):
        replay_batches("nope")
    with pytest.raises(ConfigError, match=r"ships in the package 'no-such-dist'.*not installed"):
        datasets._packaged("no-such-dist", "x.csv")
