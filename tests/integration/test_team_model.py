"""Bring your own model: the example team project through the real retrain DAG.

examples/team_project is copied as a team would keep it (its package under src/, its
model YAML naming ``model.factory`` and ``model.code_path``), then run with ``dag.test()``
against a real MLflow SQLite store. The champion is loaded again in a fresh process that
does not have the team's package: the code that travelled with the model is what loads.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.integration.conftest import team_package_forgotten_after

pytestmark = pytest.mark.integration

TEAM = "rain_team"
UNTRUSTED = "rain_untrusted"
TEAM_TYPE = "rain_model.features.DewPointSpread"


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db, rainfall_periods):  # type: ignore[no-untyped-def]
    # dag.test() parses the dags folder to serialize DAGs: point it at this config.
    with pytest.MonkeyPatch.context() as patch, team_package_forgotten_after():
        root = tmp_path_factory.mktemp("team")
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
    team = yaml.safe_load((models / f"{TEAM}.yaml").read_text())
    team["evaluation"]["bootstrap_resamples"] = 100  # the story, not the interval, is tested
    (models / f"{TEAM}.yaml").write_text(yaml.safe_dump(team))
    # The same factory, but nobody vouched for the team's transformer.
    untrusted = {**team, "name": UNTRUSTED, "model": {**team["model"], "trusted_types": []}}
    (models / f"{UNTRUSTED}.yaml").write_text(yaml.safe_dump(untrusted))

    config_dir = project / "config"
    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    data = root / "data"
    data.mkdir()
    rainfall_periods[0].to_parquet(data / "p0.parquet", index=False)
    dags = build_dags(config_dir)
    for model in (TEAM, UNTRUSTED):
        land_file(storage, model, data / "p0.parquet", "p0")
        run = dags[f"{model}_monitor"].test(run_conf={"batch_id": "p0"})
        assert _states(run)["validate_batch"] == "success"
    return {
        "dags": dags,
        "settings": settings,
        "config_dir": config_dir,
        "project": project,
        "storage": storage,
        "client": connect(settings),
    }


def _states(dag_run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def test_the_team_factory_trains_and_becomes_champion_through_the_dag(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry import champion_version

    run = world["dags"][f"{TEAM}_retrain"].test(run_conf={"reason": "our own model"})
    assert _states(run) == {
        "train_challenger": "success",
        "evaluate_challenger": "success",
        "promote": "success",
    }
    champion = champion_version(world["client"], TEAM)
    assert champion is not None and str(champion.version) == "1"
    params = world["client"].get_run(champion.run_id).data.params
    assert params["factory"] == "rain_model.model:make_model"
    assert params["estimator"] == "factory"


def _load_in_a_fresh_process(world, version: str, batch: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Load ``version`` of the team model with safe_load in a new interpreter; predict."""
    script = f"""
import importlib.util, json, sys
import pandas as pd
assert importlib.util.find_spec("rain_model") is None, "the team package must not be here"
from retrainer.config import load_model_config
from retrainer.registry import connect
from retrainer.registry.safe_load import load_model_version
from retrainer.settings import load_settings
settings = load_settings({str(world["config_dir"])!r})
config = load_model_config(settings.models_dir / "{TEAM}.yaml")
model = load_model_version(connect(settings), config, "{version}")
frame = pd.read_parquet({str(batch)!r})
proba = model.predict_proba(frame[config.features])
import sklearn
print(json.dumps({{"rows": len(proba), "cols": proba.shape[1],
                   "module": sys.modules["rain_model"].__file__,
                   "step": type(model.steps[0][1]).__module__,
                   "sklearn": sklearn.__file__,
                   "evil_pkg": importlib.util.find_spec("evil_pkg") is not None}}))
"""
    # A fresh interpreter, away from the project: only retrainer is importable.
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=world["project"].parent,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def test_the_champion_loads_and_predicts_where_the_team_package_is_not_installed(
    world, rainfall_periods: Any
) -> None:  # type: ignore[no-untyped-def]
    batch = world["project"].parent / "p1.parquet"
    rainfall_periods[1].to_parquet(batch, index=False)
    out = _load_in_a_fresh_process(world, "1", batch)
    assert (out["rows"], out["cols"]) == (len(rainfall_periods[1]), 2)
    assert out["step"] == "rain_model.features"
    # The package came from the model's own code, not from the team's folder.
    assert "retrainer-code-rain_team-1-" in out["module"]
    assert str(world["project"]) not in out["module"]


def test_a_team_type_nobody_trusted_is_logged_but_the_gate_refuses_to_load_it(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.config import load_model_config
    from retrainer.errors import UnsafeModelError
    from retrainer.registry import champion_version
    from retrainer.registry.safe_load import load_model_version
    from retrainer.registry.tags import GATE_DECISION, GATE_REASON

    run = world["dags"][f"{UNTRUSTED}_retrain"].test(run_conf={"reason": "unvetted"})
    states = _states(run)
    assert states["train_challenger"] == "success"  # logged and registered ...
    assert states["evaluate_challenger"] == "success"
    assert states["promote"] != "success"  # ... never promoted
    tags = world["client"].get_model_version(UNTRUSTED, "1").tags
    assert tags[GATE_DECISION] == "reject"
    assert TEAM_TYPE in tags[GATE_REASON]
    assert champion_version(world["client"], UNTRUSTED) is None

    path = world["config_dir"] / "models" / f"{UNTRUSTED}.yaml"
    config = load_model_config(path)
    with pytest.raises(UnsafeModelError, match=f"untrusted type\\(s\\) {TEAM_TYPE};") as info:
        load_model_version(world["client"], config, "1")
    assert info.value.found == TEAM_TYPE
    assert f"model.trusted_types in {path}" in str(info.value)


def test_shipped_code_makes_only_the_trusted_package_importable(
    world, tmp_path: Path, rainfall_periods: Any
) -> None:  # type: ignore[no-untyped-def]
    """A version whose code folder also carries other packages (one named like an installed
    one): only the team's trusted package is taken from it, nothing else runs."""
    import mlflow
    import mlflow.sklearn
    import skops.io

    from retrainer.config import load_model_config

    config = load_model_config(world["config_dir"] / "models" / f"{TEAM}.yaml")
    from rain_model.model import make_model  # importable here: training added code_path

    frame = rainfall_periods[0]
    model = make_model(config).fit(frame[config.features], frame[config.target.column])
    marker = tmp_path / "ran"
    extra = tmp_path / "extra"
    for name in ("evil_pkg", "sklearn"):
        (extra / name).mkdir(parents=True)
        (extra / name / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write({name!r})\n")
    champion = world["client"].get_model_version(TEAM, "1")
    mlflow.set_tracking_uri(world["client"].tracking_uri)
    experiment = world["client"].get_run(champion.run_id).info.experiment_id
    with mlflow.start_run(experiment_id=experiment) as run:
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            serialization_format="skops",
            skops_trusted_types=list(skops.io.get_untrusted_types(data=skops.io.dumps(model))),
            code_paths=[
                str(world["project"] / "src" / "rain_model"),
                str(extra / "evil_pkg"),
                str(extra / "sklearn"),
            ],
            pip_requirements=["scikit-learn", "skops"],
        )
    version = (
        world["client"]
        .create_model_version(
            TEAM, source=info.model_uri, run_id=run.info.run_id, model_id=info.model_id
        )
        .version
    )
    batch = tmp_path / "p1.parquet"
    rainfall_periods[1].to_parquet(batch, index=False)

    out = _load_in_a_fresh_process(world, str(version), batch)
    assert out["rows"] == len(rainfall_periods[1])
    assert f"retrainer-code-rain_team-{version}-" in out["module"]
    assert out["evil_pkg"] is False
    assert "site-packages" in out["sklearn"]
    assert not marker.exists()
