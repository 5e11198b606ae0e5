"""End to end through the real Airflow scheduler: a decay Asset event starts a retrain,
and a scheduler SIGKILLed mid monitor run, with the task it was running, finishes the run.

Starts the API server, scheduler, dag-processor and triggerer (SQLite, LocalExecutor) on
a free port over a private config folder, lands batches through the REST API as Asset
events and watches what the scheduler does. The demo code does not trigger the retrain.
The LocalExecutor's workers and their task processes live in the scheduler's process
group, so one ``killpg`` kills the scheduler and the worker running a task at once: what
a lost machine does. The restarted scheduler must finish the run (the killed task is
retried after its heartbeat times out) and nothing may be taken in twice. One stack serves
both tests (it is the slowest part of each).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.conftest import REPO, make_config_dir

pytestmark = pytest.mark.e2e

# A killed task is declared dead when it misses heartbeats this long (default 300 s).
HEARTBEAT_TIMEOUT = "20"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):  # type: ignore[no-untyped-def]
    from retrainer.dev.airflow_api import AirflowAPI
    from retrainer.dev.local_stack import LocalStack, airflow_env, free_port
    from retrainer.registry import connect, ensure_experiment
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    root = tmp_path_factory.mktemp("e2e")
    config_dir = make_config_dir(root)
    settings = load_settings(config_dir)
    client = connect(settings)
    ensure_experiment(client, "rainfall", settings.mlflow_artifact_root)
    port = free_port()
    # The repo's dags/ and plugins/, over this test's private config folder.
    env = airflow_env(project_root=REPO, home=settings.home, port=port, config_dir=config_dir)
    env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"] = HEARTBEAT_TIMEOUT
    env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL"] = "5"
    # The restarted scheduler adopts (resets) the dead one's tasks once that scheduler's
    # heartbeat is older than the health threshold, checked every orphaned-tasks interval:
    # 30 s and 300 s by default, which alone made this test wait five minutes.
    env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD"] = "10"
    env["AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL"] = "5"
    local = LocalStack(settings.home, env)
    local.start_airflow()
    api = AirflowAPI(f"http://127.0.0.1:{port}", "admin", "admin")
    try:
        api.wait_healthy(240)
        api.wait_for_dags(["rainfall_monitor", "rainfall_retrain", "rainfall_rollback"], 240)
        yield {
            "api": api,
            "client": client,
            "settings": settings,
            "root": root,
            "local": local,
            "storage": open_storage(settings.storage_root),
        }
    finally:
        local.stop()


def test_decay_asset_event_starts_a_retrain_that_promotes(stack, rainfall_periods) -> None:  # type: ignore[no-untyped-def]
    from retrainer.dev.demo import land_and_notify, wait_new_run
    from retrainer.registry import champion_version

    api, storage = stack["api"], stack["storage"]
    for dag_id in ("rainfall_monitor", "rainfall_retrain"):
        api.unpause(dag_id)
    data = stack["root"] / "data"
    data.mkdir()
    for index in (0, 7):
        rainfall_periods[index].to_parquet(data / f"p{index}.parquet", index=False)

    land_and_notify(api, storage, "rainfall", data / "p0.parquet", "p0")
    run = wait_new_run(api, "rainfall_monitor", 0)
    assert run["state"] == "success"
    assert run["run_type"] == "asset_triggered"
    retrain_id = api.trigger("rainfall_retrain", {"reason": "first champion"})
    assert api.wait_run("rainfall_retrain", retrain_id)["state"] == "success"
    assert str(champion_version(stack["client"], "rainfall").version) == "1"

    land_and_notify(api, storage, "rainfall", data / "p7.parquet", "p7")
    run = wait_new_run(api, "rainfall_monitor", 1)
    assert run["state"] == "success"
    states = {
        t["task_id"]: t["state"] for t in api.task_instances("rainfall_monitor", run["dag_run_id"])
    }
    # The old champion fails after the break: the trigger policy emits decay.
    assert states["decide_trigger"] == "success"
    assert states["emit_decay"] == "success"

    retrain = wait_new_run(api, "rainfall_retrain", 1)
    assert retrain["run_type"] == "asset_triggered", "the scheduler, not the test, starts it"
    assert retrain["state"] == "success"
    champion = champion_version(stack["client"], "rainfall")
    assert str(champion.version) == "2"
    assert champion.tags["retrainer.trigger"] == "decay"
    assert "< floor 0.65" in champion.tags["retrainer.reason"]
    assert champion.tags["retrainer.trigger_batch"] == "p7"
    assert "dew_point" in champion.tags["retrainer.trigger_evidence"]


def _running_task(api, run_id: str, timeout: float = 180) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ti in api.task_instances("rainfall_monitor", run_id):
            if ti["state"] == "running":
                return str(ti["task_id"])
        time.sleep(0.3)
    raise AssertionError(f"no task of {run_id} ran within {timeout:.0f} s")


def test_a_scheduler_killed_with_its_running_task_finishes_the_run_once(  # type: ignore[no-untyped-def]
    stack, rainfall_periods
) -> None:
    from retrainer.dev.demo import land_and_notify, new_run
    from retrainer.dev.local_stack import _bin

    api, storage, local = stack["api"], stack["storage"], stack["local"]
    api.unpause("rainfall_monitor")
    data = stack["root"] / "kill"
    data.mkdir()
    # p8: after the decay test its champion (trained on p7) holds there, so the run is a
    # full monitor run and asks for no retrain; run alone, it is a "no champion yet" run.
    rainfall_periods[8].to_parquet(data / "p8.parquet", index=False)
    original = (data / "p8.parquet").read_bytes()

    known = len(api.runs("rainfall_monitor"))
    land_and_notify(api, storage, "rainfall", data / "p8.parquet", "p8")
    run = new_run(api, "rainfall_monitor", known, 120)
    assert run is not None, "the landing started no monitor run"
    killed_task = _running_task(api, run["dag_run_id"])
    os.killpg(local.processes["scheduler"].pid, signal.SIGKILL)
    local.processes["scheduler"].wait(30)
    local.start("scheduler", [_bin("airflow"), "scheduler"])

    done = api.wait_run("rainfall_monitor", run["dag_run_id"], 600)

    tis = {t["task_id"]: t for t in api.task_instances("rainfall_monitor", run["dag_run_id"])}
    assert done["state"] == "success", {k: t["state"] for k, t in tis.items()}
    assert tis[killed_task]["try_number"] >= 2, f"{killed_task} was not retried"
    # Taken in once: one intake claim, the original kept, no second monitor run for it.
    claims = [k for k in storage.list("intake/rainfall/p8/") if "/claim-" in k]
    assert claims == ["intake/rainfall/p8/claim-0.json"]
    assert storage.read_bytes("incoming/rainfall/p8.parquet") == original
    assert storage.exists("batches/rainfall/p8/meta.json")
    assert len(api.runs("rainfall_monitor")) == known + 1
    print("KILLED", killed_task, "tries", tis[killed_task]["try_number"])
