"""Every landed batch is checked exactly once, in data order, whatever events a run got.

Airflow folds a burst of landings into one run (or the event POST of a landing fails),
so a monitor run also takes in the landed batches nobody checked yet. On a real MLflow
store and lake, with ``dag.test()`` and the domain function the validate task calls.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from retrainer.errors import NothingToDo
from tests.conftest import make_config_dir

pytestmark = pytest.mark.integration


def _world(root, rainfall_periods, indexes):  # type: ignore[no-untyped-def]
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    config_dir = make_config_dir(root)
    settings = load_settings(config_dir)
    data = root / "data"
    data.mkdir()
    for index in indexes:
        rainfall_periods[index].to_parquet(data / f"p{index}.parquet", index=False)
    return {
        "config_dir": config_dir,
        "settings": settings,
        "storage": open_storage(settings.storage_root),
        "client": connect(settings),
        "data": data,
    }


def _land(world, *names: str) -> None:  # type: ignore[no-untyped-def]
    from retrainer.lake import land_file

    for name in names:
        land_file(world["storage"], "rainfall", world["data"] / f"{name}.parquet", name)


def _take_in(world, run: str, *events: str):  # type: ignore[no-untyped-def]
    from retrainer.config import load_model_config, model_file
    from retrainer.monitoring.intake import IntakeRequest, validate_landed_batches

    config = load_model_config(model_file(world["settings"].models_dir, "rainfall"))
    alerts: list[str] = []
    return validate_landed_batches(
        world["client"],
        world["storage"],
        lambda title, *_, **__: alerts.append(title),
        config,
        IntakeRequest(run=run, batch_ids=events),
    )


def test_a_run_with_an_event_for_one_batch_takes_in_every_landed_one_once(  # type: ignore[no-untyped-def]
    tmp_path, airflow_db, rainfall_periods
) -> None:
    world = _world(tmp_path, rainfall_periods, (3, 4, 5))
    _land(world, "p5", "p3", "p4")  # landing order is not data order

    intake = _take_in(world, "rainfall_monitor/run-1", "p4")

    assert intake.accepted == ("p3", "p4", "p5")  # data order, newest last
    for batch in ("p3", "p4", "p5"):
        assert world["storage"].exists(f"batches/rainfall/{batch}/meta.json")
    # An overlapping run, with its own event for p5: nothing is left to check.
    with pytest.raises(NothingToDo, match="every landed batch was checked already"):
        _take_in(world, "rainfall_monitor/run-2", "p5")
    # A retry of the first run's task finds its own claims and redoes its batches.
    assert _take_in(world, "rainfall_monitor/run-1", "p4").accepted == ("p3", "p4", "p5")
    claims = [k for k in world["storage"].list("intake/rainfall/") if k.endswith(".json")]
    assert claims == [f"intake/rainfall/{b}/claim-0.json" for b in ("p3", "p4", "p5")]


def test_a_batch_claimed_by_a_run_that_died_is_taken_over_and_doctor_reports_it(  # type: ignore[no-untyped-def]
    tmp_path, airflow_db, rainfall_periods
) -> None:
    from retrainer.cli import app
    from retrainer.registry.doctor import examine

    world = _world(tmp_path, rainfall_periods, (3, 4))
    _land(world, "p3", "p4")
    storage = world["storage"]
    # A run claimed p3 two hours ago and died before validating it.
    died = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    claim = json.dumps({"run": "rainfall_monitor/dead", "time": died}).encode()
    assert storage.create_new("intake/rainfall/p3/claim-0.json", claim)

    checkup = examine(world["client"], storage, "rainfall", unchecked_after=timedelta(0))
    unchecked = {f.subject: f for f in checkup.findings if f.kind == "unchecked_batch"}
    assert set(unchecked) == {"incoming/rainfall/p3.parquet", "incoming/rainfall/p4.parquet"}
    assert "rainfall_monitor/dead" in unchecked["incoming/rainfall/p3.parquet"].problem
    assert "no monitor run took it in" in unchecked["incoming/rainfall/p4.parquet"].problem
    assert not any(f.repaired for f in unchecked.values())
    # Just landed: with the default threshold its monitor run may be on its way.
    assert not [
        f
        for f in examine(world["client"], storage, "rainfall").findings
        if f.kind == "unchecked_batch"
    ]
    result = CliRunner().invoke(
        app,
        ["doctor", "rainfall", "--unchecked-after", "0", "--config-dir", str(world["config_dir"])],
    )
    assert result.exit_code == 1, result.output
    assert "unchecked_batch incoming/rainfall/p4.parquet" in result.output
    assert "was never checked" in result.output

    assert _take_in(world, "rainfall_monitor/next").accepted == ("p3", "p4")
    assert storage.exists("intake/rainfall/p3/claim-1.json")  # the takeover, created once
    checkup = examine(world["client"], storage, "rainfall", unchecked_after=timedelta(0))
    assert not [f for f in checkup.findings if f.kind == "unchecked_batch"]


def test_monitor_run_checks_a_burst_in_data_order_and_the_event_names_the_newest(  # type: ignore[no-untyped-def]
    tmp_path, airflow_db, rainfall_periods
) -> None:
    from retrainer.orchestration.dag_factory import build_dags

    world = _world(tmp_path, rainfall_periods, (0, 7, 8, 9))
    dags = build_dags(world["config_dir"])
    _land(world, "p0")
    assert str(dags["rainfall_monitor"].test().state) == "success"  # takes p0 in
    assert str(dags["rainfall_retrain"].test(run_conf={"reason": "first"}).state) == "success"

    # A burst lands; the run that starts knows none of it (its event was folded or lost).
    _land(world, "p9", "p7", "p8")
    run = dags["rainfall_monitor"].test()
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states["validate_batch"] == "success", states
    assert run.get_task_instance("validate_batch").xcom_pull(task_ids="validate_batch") == [
        "p7",
        "p8",
        "p9",
    ]
    checks = run.get_task_instance("check_batch").xcom_pull(task_ids="check_batch")
    assert [c["batch_id"] for c in checks] == ["p7", "p8", "p9"]
    assert states["emit_decay"] == "success"
    emitted = run.get_task_instance("emit_decay").xcom_pull(task_ids="emit_decay")
    assert emitted["batch_id"] == "p9" and emitted["batches"] == ["p7", "p8", "p9"]
    checked_at = {
        b: world["storage"].read_json(f"reports/rainfall/{b}/monitor.json")["checked_at"]
        for b in ("p7", "p8", "p9")
    }

    # The next run finds nothing left to check and checks none of them again.
    again = dags["rainfall_monitor"].test()
    states = {ti.task_id: str(ti.state) for ti in again.get_task_instances()}
    assert states["validate_batch"] == "skipped", states
    assert checked_at == {
        b: world["storage"].read_json(f"reports/rainfall/{b}/monitor.json")["checked_at"]
        for b in ("p7", "p8", "p9")
    }
