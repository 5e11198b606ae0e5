"""A big training window is sampled on retrain, through the real retrain DAG (``dag.test()``).

The rainfall model with ``training.sample`` (800 rows, stratified) against a real MLflow
SQLite store: its training run logs the window's and the sample's sizes, seed and class
counts, the rows it fitted on are the sample, and the shared holdout is the whole cut.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.integration

MAX_ROWS = 800


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db, rainfall_periods):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("sample")
        patch.setenv("RETRAINER_CONFIG_DIR", str(root / "project" / "config"))
        yield _world(root, rainfall_periods)


def _world(root: Path, rainfall_periods: Any) -> dict[str, Any]:
    from retrainer.lake import land_file
    from retrainer.orchestration.dag_factory import build_dags
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    project = root / "project"
    shutil.copytree(
        REPO / "examples" / "team_project" / "config",
        project / "config",
        ignore=shutil.ignore_patterns(".retrainer", "__pycache__", "models"),
    )
    models = project / "config" / "models"
    models.mkdir()
    builtin = yaml.safe_load((REPO / "config" / "models" / "rainfall.yaml").read_text())
    builtin["training"]["sample"] = {"max_rows": MAX_ROWS, "stratify": True, "seed": 17}
    builtin["evaluation"]["bootstrap_resamples"] = 100
    (models / "rainfall.yaml").write_text(yaml.safe_dump(builtin))

    config_dir = project / "config"
    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    data = root / "p0.parquet"
    rainfall_periods[0].to_parquet(data, index=False)
    dags = build_dags(config_dir)
    land_file(storage, "rainfall", data, "p0")
    monitor = dags["rainfall_monitor"].test(run_conf={"batch_id": "p0"})
    assert _states(monitor)["validate_batch"] == "success"
    retrain = dags["rainfall_retrain"].test(run_conf={"reason": "sampled"})
    return {
        "states": _states(retrain),
        "client": connect(settings),
        "storage": storage,
        "batch": rainfall_periods[0],
    }


def _states(dag_run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def test_the_training_run_logs_the_sample_and_fits_on_it(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.lake import keys
    from retrainer.registry import champion_version

    assert world["states"]["train_challenger"] == "success"
    client = world["client"]
    version = champion_version(client, "rainfall")
    assert version is not None
    run = client.get_run(version.run_id)
    params = run.data.params

    batch = world["batch"]
    holdout_rows = round(len(batch) * 0.3)
    window_rows = len(batch) - holdout_rows
    assert int(params["sample.window_rows"]) == window_rows
    assert int(params["sample.rows"]) == MAX_ROWS
    assert params["sample.seed"] == "17"
    assert params["sample.stratified"] == "True"
    assert int(params["train_rows"]) == MAX_ROWS
    assert int(params["holdout_rows"]) == holdout_rows

    # Class counts of the sample keep the window's shares within one row per class.
    window = json.loads(params["sample.window_class_counts"])
    sampled = json.loads(params["sample.class_counts"])
    assert sum(window.values()) == window_rows and sum(sampled.values()) == MAX_ROWS
    for label, count in window.items():
        assert abs(sampled[label] - MAX_ROWS * count / window_rows) < 1

    # What the model was fitted on is the sample: the stored training rows and the
    # dataset lineage MLflow shows both hold MAX_ROWS rows, all older than the holdout.
    prefix = keys.training_data("rainfall", version.run_id)
    train = world["storage"].read_frame(f"{prefix}/train.parquet")
    holdout = world["storage"].read_frame(f"{prefix}/holdout.parquet")
    assert len(train) == MAX_ROWS and len(holdout) == holdout_rows
    assert train["date"].is_monotonic_increasing
    assert train["date"].max() < holdout["date"].min()
    assert train["rain"].astype(str).value_counts().to_dict() == sampled
    inputs = {i.dataset.name: json.loads(i.dataset.profile) for i in run.inputs.dataset_inputs}
    assert inputs["rainfall-train"]["num_rows"] == MAX_ROWS
    assert inputs["rainfall-holdout"]["num_rows"] == holdout_rows
