"""A canary on live traffic: the share is one registry tag; the live gate promotes or stops it.

Version 1 (trained on Seattle's 2012 weather) is the champion and serves ``sun`` on every
day. Version 2 is given 10% of the traffic with ``retrainer canary`` and serves the right
answer. Its evidence accumulates across batches (``gate.live.min_rows: 100``): 40
labelled rows in 2013 are too few (keep collecting), 70 more in 2014 make 110 and the
interval of v2 - v1 lies above the margin, so the monitor promotes v2 through the usual
promotion (claim, compare-and-set, ledger) and clears its share. Then version 3 gets 20%
and serves ``snow`` (nearly always wrong): on 2015 it is stopped, its share cleared, and
the ledger says why.

Runs the real monitor DAG with ``dag.test()`` against a SQLite MLflow store and a local
lake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

pytestmark = pytest.mark.integration

MODEL = "weather_canary"
CLASSES = ["drizzle", "fog", "rain", "snow", "sun"]
CONFIG = {
    "name": MODEL,
    "data": {
        "source": "seattle_weather",
        "time_column": "date",
        "serving": {
            "prediction_column": "served_prediction",
            "proba_prefix": "proba_",
            "version_column": "served_version",
            "request_id_column": "request_id",
        },
    },
    "numeric_features": ["precipitation", "temp_max", "temp_min", "wind", "doy_sin", "doy_cos"],
    "target": {"column": "weather", "task": "multiclass", "positive_label": None},
    "model": {"estimator": "hist_gradient_boosting", "params": {"max_iter": 30}},
    "training": {"window_batches": 1, "holdout_fraction": 0.3, "min_rows": 100},
    "validation": {"min_rows": 30},
    "gate": {"metric": "accuracy", "live": {"min_rows": 100}},
}


def _served(batch: Any, year: int, serving: dict[str, tuple[Any, str | None]]) -> Any:
    """The batch as the service logged it.

    ``serving`` maps a version to (rows it served, what it answered: a class, or None for
    the true label); the rows not named are served by ``"rest"``.
    """
    out = batch.drop(columns=["weather"]).copy()
    out["request_id"] = [f"req-{year}-{i:04d}" for i in range(len(out))]
    for version, (rows, answer) in serving.items():
        out.loc[rows, "served_version"] = int(version)
        out.loc[rows, "served_prediction"] = (
            batch.loc[rows, "weather"] if answer is None else answer
        )
    out["served_version"] = out["served_version"].astype(int)
    for cls in CLASSES:
        out[f"proba_{cls}"] = (out["served_prediction"] == cls) * 0.875 + 0.025
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("canary")
        patch.setenv("RETRAINER_CONFIG_DIR", str(root / "config"))
        yield _world(root)


def _world(root: Path) -> dict[str, Any]:
    from retrainer.config import load_model_config
    from retrainer.datasets import load_seattle_weather
    from retrainer.lake import accept_batch
    from retrainer.orchestration.dag_factory import build_dags
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage
    from retrainer.training.train import train_challenger

    config_dir = root / "config"
    (config_dir / "models").mkdir(parents=True)
    (config_dir / "models" / f"{MODEL}.yaml").write_text(yaml.safe_dump(CONFIG))
    (config_dir / "retrainer.yaml").write_text(
        yaml.safe_dump({"home": str(root / "home"), "airflow_url": "http://127.0.0.1:9"})
    )
    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    client = connect(settings)
    config = load_model_config(config_dir / "models" / f"{MODEL}.yaml")
    data = load_seattle_weather()
    key = f"batches/{MODEL}/2012/data.parquet"
    storage.write_frame(key, data[data["date"].dt.year == 2012].reset_index(drop=True))
    accept_batch(storage, config, "2012", key)
    trained = train_challenger(
        client, storage, settings, config, trigger="manual", reason="2012 model"
    )
    client.set_registered_model_alias(MODEL, "champion", trained.version)
    first = client.get_model_version(MODEL, trained.version)
    # Two more versions of the same model: what they serve is what the batches say.
    later = [
        str(client.create_model_version(MODEL, first.source, run_id=first.run_id).version)
        for _ in range(2)
    ]
    files = root / "files"
    files.mkdir()
    return {
        "dags": build_dags(config_dir),
        "config_dir": config_dir,
        "storage": storage,
        "client": client,
        "files": files,
        "data": data,
        "versions": [str(trained.version), *later],
    }


def _cli(world: dict[str, Any], *args: str) -> Any:
    from retrainer.cli import app

    return CliRunner().invoke(app, [*args, "--config-dir", str(world["config_dir"])])


def _run_batch(
    world: dict[str, Any],
    year: int,
    serving: dict[str, tuple[Any, str | None]],
    batch_id: str | None = None,
) -> Any:
    """Land a year as served, land its labels, run the monitor on it; return the run."""
    from retrainer.lake import land_file

    batch_id = batch_id or str(year)
    data = world["data"]
    batch = data[data["date"].dt.year == year].reset_index(drop=True)
    served = _served(batch, year, serving)
    path = world["files"] / f"{batch_id}.parquet"
    served.to_parquet(path, index=False)
    land_file(world["storage"], MODEL, path, batch_id)
    labels = world["files"] / f"labels-{batch_id}.parquet"
    served[["request_id"]].assign(weather=batch["weather"]).to_parquet(labels, index=False)
    result = _cli(world, "land-labels", MODEL, str(labels), "--batch-id", batch_id)
    assert result.exit_code == 0, result.output
    return world["dags"][f"{MODEL}_monitor"].test(run_conf={"batch_id": batch_id})


def _states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def _tags(world: dict[str, Any], version: str) -> dict[str, str]:
    return dict(world["client"].get_model_version(MODEL, version).tags)


def test_the_share_is_set_by_the_cli_checked_and_recorded(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry.ledger import read_ledger

    v1, v2, _ = world["versions"]
    bad = {
        ("--share", "1.5"): "traffic share must be between 0 and 1 (exclusive), got 1.5",
        ("--share", "0"): "traffic share must be between 0 and 1 (exclusive), got 0.0",
    }
    for args, message in bad.items():
        result = _cli(world, "canary", MODEL, v2, *args)
        assert result.exit_code == 2 and message in result.output, result.output
    result = _cli(world, "canary", MODEL, v1, "--share", "0.1")
    assert result.exit_code == 2 and f"version {v1} of '{MODEL}' is the champion" in result.output
    result = _cli(world, "canary", MODEL, "99", "--share", "0.1")
    assert result.exit_code == 2 and "99" in result.output, result.output
    result = _cli(world, "canary", MODEL, v2, "--stop")
    assert result.exit_code == 2 and "holds no traffic share" in result.output
    assert "retrainer.traffic_share" not in _tags(world, v2)

    result = _cli(
        world, "canary", MODEL, v2, "--share", "0.1", "--reason", "try v2", "--actor", "ana"
    )
    assert result.exit_code == 0, result.output
    assert f"{MODEL} v{v2}: traffic share 0.1 (champion serves the rest)" in result.output
    print(result.output)
    # What a serving process reads (README): the tag on the version.
    assert _tags(world, v2)["retrainer.traffic_share"] == "0.1"
    entry = read_ledger(world["storage"], MODEL)[-1]
    assert entry["event"] == "canary_start" and entry["version"] == v2
    assert entry["share"] == 0.1 and entry["actor"] == "ana" and entry["reason"] == "try v2"
    assert entry["champion_version"] == v1


def test_too_few_labelled_canary_rows_keep_collecting(world) -> None:  # type: ignore[no-untyped-def]
    v1, v2, _ = world["versions"]
    run = _run_batch(world, 2013, {v1: (slice(None), "sun"), v2: (slice(0, 39), None)})
    assert _states(run)["judge_canary"] == "success"
    record = world["storage"].read_json(f"reports/{MODEL}/2013/canary.json")
    (outcome,) = record["canaries"]
    assert outcome["action"] == "collect" and outcome["version"] == v2
    assert outcome["labelled_rows"] == {v1: 325, v2: 40}
    assert outcome["reason"] == (
        f"labelled served rows v{v1} 325, v{v2} 40; each needs 100 (gate.live.min_rows)"
    )
    tags = _tags(world, v2)
    assert tags["retrainer.canary.decision"] == "collect"
    # The batch's monitor run in MLflow carries the decision beside the drift report.
    (monitor,) = world["client"].search_runs(
        [world["client"].get_experiment_by_name(MODEL).experiment_id],
        filter_string="attributes.run_name = 'monitor-2013'",
    )
    assert monitor.data.tags[f"retrainer.canary.v{v2}"] == f"collect: {outcome['reason']}"
    assert monitor.data.metrics[f"canary_v{v2}_labelled_rows"] == 40
    assert tags["retrainer.traffic_share"] == "0.1"
    assert str(world["client"].get_model_version_by_alias(MODEL, "champion").version) == v1


def test_evidence_accumulates_across_batches_and_a_better_canary_is_promoted(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry.ledger import read_ledger

    v1, v2, _ = world["versions"]
    # 70 rows alone are too few; with 2013's 40 they make 110.
    run = _run_batch(world, 2014, {v1: (slice(None), "sun"), v2: (slice(0, 69), None)})
    assert _states(run)["judge_canary"] == "success"
    (outcome,) = world["storage"].read_json(f"reports/{MODEL}/2014/canary.json")["canaries"]
    assert outcome["action"] == "promote" and outcome["promoted"] is True
    assert outcome["batches"] == ["2013", "2014"]
    assert outcome["labelled_rows"] == {v1: 325 + 295, v2: 110}
    assert outcome["values"][v2] == 1.0
    assert outcome["interval"]["lower"] > 0
    print(outcome["reason"])

    client = world["client"]
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == v2
    tags = _tags(world, v2)
    assert "retrainer.traffic_share" not in tags  # the champion serves the rest
    assert tags["retrainer.promotion_reason"].startswith(
        "live gate: live accuracy: v2 1.0000 on 110 rows"
    )
    assert tags["retrainer.previous_champion"] == v1
    events = [(e["event"], e["version"]) for e in read_ledger(world["storage"], MODEL)]
    assert events[-2:] == [("promote", v2), ("canary_stop", v2)]
    history = _cli(world, "history", MODEL)
    print(history.output)
    assert "live gate:" in history.output


def test_a_worse_canary_is_stopped_and_its_share_cleared(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry.ledger import read_ledger

    _, v2, v3 = world["versions"]
    assert _cli(world, "canary", MODEL, v3, "--share", "0.2").exit_code == 0
    run = _run_batch(world, 2015, {v2: (slice(None), "sun"), v3: (slice(0, 119), "snow")})
    assert _states(run)["judge_canary"] == "success"
    (outcome,) = world["storage"].read_json(f"reports/{MODEL}/2015/canary.json")["canaries"]
    assert outcome["action"] == "stop" and outcome["champion_version"] == v2
    assert outcome["labelled_rows"] == {v2: 245, v3: 120}
    assert outcome["interval"]["upper"] < 0
    print(outcome["reason"])
    tags = _tags(world, v3)
    assert "retrainer.traffic_share" not in tags
    assert tags["retrainer.canary.decision"] == "stop"
    entry = read_ledger(world["storage"], MODEL)[-1]
    assert entry["event"] == "canary_stop" and entry["version"] == v3
    assert entry["previous_share"] == 0.2 and entry["reason"].startswith("live gate: live accuracy")
    assert entry["evidence"]["labelled_rows"][v3] == 120
    assert str(world["client"].get_model_version_by_alias(MODEL, "champion").version) == v2


def test_with_human_approval_a_winning_canary_waits_for_a_person(world) -> None:  # type: ignore[no-untyped-def]
    """``approval: airflow``: the live gate says promote, records it, and moves nothing."""
    from retrainer.orchestration.dag_factory import build_dags
    from retrainer.registry.ledger import read_ledger

    client, (v1, v2, _) = world["client"], world["versions"]
    first = client.get_model_version(MODEL, v1)
    v4 = str(client.create_model_version(MODEL, first.source, run_id=first.run_id).version)
    path = world["config_dir"] / "models" / f"{MODEL}.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "approval": {"mode": "airflow"}}))
    world["dags"] = build_dags(world["config_dir"])
    assert _cli(world, "canary", MODEL, v4, "--share", "0.3").exit_code == 0
    before = len(read_ledger(world["storage"], MODEL))
    # 2013's days again, as a new batch: v4 serves the truth on 120 of them.
    run = _run_batch(
        world, 2013, {v2: (slice(None), "sun"), v4: (slice(0, 119), None)}, batch_id="again"
    )
    assert _states(run)["judge_canary"] == "success"
    (outcome,) = world["storage"].read_json(f"reports/{MODEL}/again/canary.json")["canaries"]
    assert outcome["action"] == "promote" and outcome["promoted"] is False
    assert outcome["approval_mode"] == "airflow"
    tags = _tags(world, v4)
    assert tags["retrainer.canary.decision"] == "promote"
    assert tags["retrainer.traffic_share"] == "0.3"  # still serving: a person decides
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == v2
    assert len(read_ledger(world["storage"], MODEL)) == before  # nothing moved


def test_a_canary_made_champion_by_hand_loses_its_share(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry.ledger import read_ledger

    client = world["client"]
    v4 = str(max(int(mv.version) for mv in client.search_model_versions(f"name = '{MODEL}'")))
    assert _tags(world, v4)["retrainer.traffic_share"] == "0.3"
    client.set_registered_model_alias(MODEL, "champion", v4)  # as in the MLflow UI
    run = world["dags"][f"{MODEL}_monitor"].test(run_conf={"batch_id": None})
    assert _states(run)["judge_canary"] == "success"
    assert "retrainer.traffic_share" not in _tags(world, v4)
    # The hand edit is recorded too (reconcile_champion): find the canary's entry by event.
    (entry,) = [
        e
        for e in read_ledger(world["storage"], MODEL)
        if e["event"] == "canary_stop" and e["version"] == v4
    ]
    assert entry["reason"] == "the canary became champion outside the live gate"
    assert entry["previous_share"] == 0.3
