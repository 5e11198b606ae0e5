"""A real ``dag.test()`` of ``<model>_monitor`` on a blocked batch: alerts and metrics.

The failing ``validate_batch`` must post a task-failure alert through the Airflow notifier
and a blocked-batch alert through ``send_alert``; ``publish_metrics`` (all_done) still runs
and the Pushgateway shows the blocked batch and the failed task's duration.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import make_config_dir
from tests.integration.services_ops import Pushgateway, Receiver, pushgateway, webhook_receiver

pytestmark = pytest.mark.integration
__all__ = ["pushgateway", "webhook_receiver"]  # fixtures, imported to be used here


def test_blocked_batch_alerts_on_failure_and_is_counted_in_metrics(  # type: ignore[no-untyped-def]
    tmp_path: Path,
    airflow_db,
    rainfall_periods,
    webhook_receiver: Receiver,
    pushgateway: Pushgateway,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from retrainer.lake import land_file
    from retrainer.orchestration.dag_factory import build_dags
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    monkeypatch.setenv(
        "AIRFLOW_CONN_RETRAINER_WEBHOOK",
        json.dumps({"conn_type": "slackwebhook", "password": f"{webhook_receiver.url}/alerts"}),
    )
    config_dir = make_config_dir(
        tmp_path,
        settings={
            "alerts": {"channels": ["webhook"]},
            "pushgateway_url": pushgateway.url,
        },
    )
    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    bad = rainfall_periods[2].drop(columns=["dew_point"])
    bad.to_parquet(tmp_path / "p2bad.parquet", index=False)
    land_file(storage, "rainfall", tmp_path / "p2bad.parquet", "p2bad")

    run = build_dags(config_dir)["rainfall_monitor"].test(run_conf={"batch_id": "p2bad"})
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states["validate_batch"] == "failed"
    assert states["check_batch"] == "upstream_failed"
    assert states["publish_metrics"] == "success"
    # The run itself is failed, as a blocked batch must look in the Airflow UI.
    assert states["fail_run_on_failure"] == "failed"
    assert str(run.state) == "failed"
    # ... and its log names the task to look at (it raised AttributeError instead, before).
    logged = capfd.readouterr()
    assert "did not finish cleanly: check_batch, validate_batch failed" in logged.out + logged.err

    posted = webhook_receiver.wait_for(2)
    by_event = {p["json"]["retrainer"]["event"]: p["json"] for p in posted}
    assert set(by_event) == {"blocked_batch", "task_failure"}, posted
    blocked = by_event["blocked_batch"]
    assert blocked["retrainer"]["details"]["batch_id"] == "p2bad"
    assert "dew_point" in blocked["text"]
    failure = by_event["task_failure"]
    assert failure["blocks"][0]["text"]["text"] == "rainfall_monitor.validate_batch failed"
    details = failure["retrainer"]["details"]
    assert details["model"] == "rainfall" and details["task_id"] == "validate_batch"
    assert "AirflowFailException" in details["error"] and "p2bad" in details["error"]

    m = {"model": "rainfall"}
    assert [s.labels["batch"] for s in pushgateway.samples("retrainer_batch_info", **m)] == [
        "p2bad"
    ]
    assert pushgateway.value("retrainer_validation_status", status="blocked", **m) == 1
    assert pushgateway.value("retrainer_validation_rows", **m) == len(bad)
    assert pushgateway.value("retrainer_validation_batches", status="blocked", **m) == 1
    task = {"dag": "rainfall_monitor", **m}
    assert pushgateway.value("retrainer_task_failed", task="validate_batch", **task) == 1
    assert pushgateway.value("retrainer_task_duration_seconds", task="validate_batch", **task) > 0
    assert pushgateway.value("retrainer_task_failed", task="publish_metrics", **task) == 0
