"""Untuned models decide right: a YAML with columns and target only, on real drifting data.

The trigger and gate sections are removed from the shipped models, so the defaults of
``retrainer.config.defaults`` decide (a quarter of the champion's skill over chance lost in
2 of 3 batches; a gate of skill over chance and superiority on the bootstrap interval).
Before them, nothing ever retrained and the gate refused even the first model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.stories import Stream
from tests.integration.test_trigger_stories import _save

pytestmark = pytest.mark.integration

UNTUNED = {"trigger": None, "gate": None}


def _gate_reason(stream: Stream, version: str) -> str:
    from retrainer.registry.tags import GATE_REASON

    return stream.client.get_model_version(stream.model, version).tags.get(GATE_REASON, "")


@pytest.fixture(scope="module")
def root(tmp_path_factory):  # type: ignore[no-untyped-def]
    return tmp_path_factory.mktemp("defaults")


def test_untuned_rainfall_replayed_crowns_a_first_model_and_retrains_after_the_break(
    root: Path, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    """Through ``retrainer replay``: the backtest a team runs before going live."""
    import json

    from typer.testing import CliRunner

    from retrainer.cli import app
    from tests.conftest import make_config_dir

    folder = root / "rainfall-batches"
    folder.mkdir()
    for index, period in enumerate(rainfall_periods):
        period.to_parquet(folder / f"p{index}.parquet", index=False)
    config_dir = make_config_dir(root / "rainfall")
    result = CliRunner().invoke(
        app,
        [
            "replay", "rainfall", str(folder), "--json", "--config-dir", str(config_dir),
            "--set", "trigger=null", "--set", "gate=null",
            "--set", "evaluation.bootstrap_resamples=200",
            "--set", "evaluation.slices.columns=[]",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Downloading artifacts" not in result.output, "progress bars bury the table"
    rows = {r["batch_id"]: r for r in json.loads(result.stdout)["rows"]}
    print("\n".join(f"{b}: {r['decision']} {r['action']} {r['reasons']}" for b, r in rows.items()))
    assert rows["p0"]["action"] == "v1 promoted", "the default gate crowns a first model"
    assert all(rows[f"p{i}"]["decision"] == "none" for i in range(1, 6)), "none before the break"
    # The break (p6) is one breach; the second (p7) retrains, and the new model is crowned.
    assert rows["p6"]["decision"] == "none" and "1 of last 3" in rows["p6"]["reasons"][-1]
    assert rows["p7"]["decision"] == "retrain" and rows["p7"]["event"] == "decay"
    assert rows["p7"]["action"] == "v2 promoted"
    assert all(rows[f"p{i}"]["decision"] == "none" for i in (8, 9)), "the new champion holds"
    # The user's own home was never touched: the replay ran in a scratch store.
    assert not (root / "rainfall" / "home").exists()


def test_replay_refuses_bad_inputs_by_name(root: Path) -> None:
    from typer.testing import CliRunner

    from retrainer.cli import app
    from tests.conftest import make_config_dir

    config_dir = str(make_config_dir(root / "bad"))
    runner = CliRunner()
    missing = runner.invoke(
        app, ["replay", "rainfall", str(root / "nope"), "--config-dir", config_dir]
    )
    assert missing.exit_code == 2 and "is not a folder of batch files" in missing.output
    empty = root / "empty"
    empty.mkdir()
    none = runner.invoke(app, ["replay", "rainfall", str(empty), "--config-dir", config_dir])
    assert none.exit_code == 2 and "holds no .csv or .parquet" in none.output
    bad_pair = runner.invoke(
        app, ["replay", "rainfall", str(empty), "--set", "trigger", "--config-dir", config_dir]
    )
    assert bad_pair.exit_code == 2 and "expected key=value" in bad_pair.output
    bad_value = runner.invoke(
        app,
        [
            "replay",
            "rainfall",
            str(empty),
            "--set",
            "trigger.breaches=9",
            "--config-dir",
            config_dir,
        ],
    )
    assert bad_value.exit_code == 2 and "breaches 9 cannot exceed of_last" in bad_value.output


def test_untuned_seattle_retrains_on_decay(root: Path) -> None:
    from retrainer.config import WindowConfig
    from retrainer.datasets import load_seattle_weather

    stream = Stream.open(
        root, "seattle_weather", {**UNTUNED, "evaluation": {"bootstrap_resamples": 200}}
    )
    frame = load_seattle_weather()
    months = frame.groupby([frame["date"].dt.year, frame["date"].dt.month])
    for (year, month), batch in months:
        if year == 2012:
            stream.accept(f"{year}-{month:02d}", batch.reset_index(drop=True))
    version, promoted = stream.retrain(
        "manual", "initial champion on 2012", window=WindowConfig(kind="expanding")
    )
    assert (version, promoted) == ("1", True), _gate_reason(stream, version)
    # The first eight months of 2013: the label's meaning drifts in spring (wet days turn
    # from "rain" into "fog"). Unvalidated: validation has its own tests, and a champion
    # of a few months holds a seasonal feature's range too tight for later months.
    for (year, month), batch in months:
        if year == 2013 and month <= 8:
            stream.step(f"{year}-{month:02d}", batch.reset_index(drop=True), validate=False)
    _save(stream, "seattle_defaults", "Seattle weather, untuned YAML: monthly 2013-01..08")
    rows = stream.rows
    assert [r.decision for r in rows[:3]] == ["none"] * 3, "2013 starts like 2012"
    retrains = [r for r in rows if r.decision == "retrain"]
    assert [r.batch_id for r in retrains] == ["2013-05"]
    assert retrains[0].event == "decay" and "promoted" in retrains[0].action
    assert any("2 of last 3 batches" in reason for reason in retrains[0].reasons)
