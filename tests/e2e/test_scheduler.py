"""End to end through the real Airflow scheduler: a decay Asset event starts a retrain.

Starts the API server, scheduler, dag-processor and triggerer (SQLite, LocalExecutor) on
a free port over a private config folder, lands batches through the REST API as Asset
events and watches what the scheduler does. The demo code does not trigger the retrain.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO, make_config_dir

pytestmark = pytest.mark.e2e


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
