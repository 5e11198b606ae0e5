"""Hyperparameter search on retrain, through the real retrain DAG (``dag.test()``).

Two models against one real MLflow SQLite store: the built-in ``rainfall`` pipeline
(holdout by time, so time-ordered folds) and the example team's ``model.factory`` model
(a stratified holdout, so stratified folds). Each run logs the chosen parameters, every
trial and a summary; the version it registers carries exactly those parameters.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.integration.conftest import team_package_forgotten_after

pytestmark = pytest.mark.integration

SEARCHES = {
    "rainfall": {
        "space": {
            "model__max_iter": {"low": 20, "high": 60},
            "model__learning_rate": {"low": 0.02, "high": 0.3, "log": True},
            "preprocess__numeric__impute__strategy": ["median", "mean"],
        },
        "trials": 3,
        "folds": 2,
        "seed": 11,
    },
    "rain_team": {
        "space": {"model__max_iter": [20, 40], "impute__strategy": ["median", "mean"]},
        "trials": 3,
        "folds": 2,
        "seed": 4,
    },
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db, rainfall_periods):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch, team_package_forgotten_after():
        root = tmp_path_factory.mktemp("search")
        patch.setenv("RETRAINER_CONFIG_DIR", str(root / "team_project" / "config"))
        yield _world(root, rainfall_periods)


def _world(root: Path, rainfall_periods: Any) -> dict[str, Any]:
    from retrainer.lake import land_file
    from retrainer.orchestration.dag_factory import build_dags
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    project = root / "team_project"
    shutil.copytree(
        REPO / "examples" / "team_project",
        project,
        ignore=shutil.ignore_patterns(".retrainer", "__pycache__"),
    )
    models = project / "config" / "models"
    team = yaml.safe_load((models / "rain_team.yaml").read_text())
    team["training"] |= {"search": SEARCHES["rain_team"], "holdout": {"strategy": "stratified"}}
    team["evaluation"]["bootstrap_resamples"] = 100
    (models / "rain_team.yaml").write_text(yaml.safe_dump(team))
    builtin = yaml.safe_load((REPO / "config" / "models" / "rainfall.yaml").read_text())
    builtin["training"]["search"] = SEARCHES["rainfall"]
    builtin["evaluation"]["bootstrap_resamples"] = 100
    (models / "rainfall.yaml").write_text(yaml.safe_dump(builtin))

    config_dir = project / "config"
    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    data = root / "p0.parquet"
    rainfall_periods[0].to_parquet(data, index=False)
    dags = build_dags(config_dir)
    runs = {}
    for model in SEARCHES:
        land_file(storage, model, data, "p0")
        assert (
            _states(dags[f"{model}_monitor"].test(run_conf={"batch_id": "p0"}))["validate_batch"]
            == "success"
        )
        runs[model] = _states(dags[f"{model}_retrain"].test(run_conf={"reason": "tune"}))
    return {"runs": runs, "settings": settings, "client": connect(settings)}


def _states(dag_run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def _trials(client: Any, run_id: str) -> dict[str, Any]:
    from retrainer.registry.artifacts import read_artifact

    return read_artifact(client, run_id, "search_trials")  # type: ignore[no-any-return]


@pytest.mark.parametrize("model", list(SEARCHES))
def test_the_searched_best_is_logged_and_is_what_the_version_serves(world, model: str) -> None:  # type: ignore[no-untyped-def]
    from retrainer.config import load_model_config
    from retrainer.registry import champion_version
    from retrainer.registry.safe_load import load_model_version
    from retrainer.registry.tags import SEARCH_FOLDS, SEARCH_METRIC, SEARCH_STOPPED_BY

    assert world["runs"][model]["train_challenger"] == "success"
    assert world["runs"][model]["promote"] == "success"
    client = world["client"]
    champion = champion_version(client, model)
    assert champion is not None
    run = client.get_run(champion.run_id)
    logged = _trials(client, champion.run_id)

    # Every trial is in the artifact; the best one is the logged choice.
    assert logged["trials_run"] == logged["trials_planned"] == 3
    assert logged["stopped_by"] == "trials"
    best = max(logged["trials"], key=lambda t: t["mean_roc_auc"])
    assert logged["best_params"] == best["params"]
    space = SEARCHES[model]["space"]
    assert {k.removeprefix("search.best.") for k in run.data.params if k.startswith("search.")} == (
        set(space)
    )
    for name, value in best["params"].items():
        assert run.data.params[f"search.best.{name}"] == (
            value if isinstance(value, str) else json.dumps(value)
        )
    assert run.data.metrics["search.best_cv_roc_auc"] == pytest.approx(best["mean_roc_auc"])
    assert run.data.metrics["search.trials_run"] == 3
    assert run.data.tags[SEARCH_METRIC] == "roc_auc"
    assert run.data.tags[SEARCH_STOPPED_BY] == "trials"
    folds = "TimeSeriesSplit" if model == "rainfall" else "StratifiedKFold"
    assert run.data.tags[SEARCH_FOLDS] == f"{folds}(n_splits=2)"
    assert run.data.params["holdout.strategy"] == ("time" if model == "rainfall" else "stratified")
    artifacts = {a.path for a in client.list_artifacts(champion.run_id, "search")}
    assert artifacts == {"search/trials.json", "search/trials.csv"}

    # The registered version, loaded as the monitor loads it, has the chosen parameters.
    config = load_model_config(world["settings"].models_dir / f"{model}.yaml")
    served = load_model_version(client, config, str(champion.version)).get_params()
    assert {name: served[name] for name in best["params"]} == best["params"]
