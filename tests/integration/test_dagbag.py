"""The dags folder parses without errors, fast, into three DAGs per model."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration


def test_dagbag_has_three_dags_per_model_and_parses_fast(repo_root, airflow_db) -> None:  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    from retrainer.config import load_model_configs

    DagBag(dag_folder=str(repo_root / "dags"))  # warm imports
    started = time.perf_counter()
    bag = DagBag(dag_folder=str(repo_root / "dags"))
    elapsed = time.perf_counter() - started
    assert bag.import_errors == {}
    models = load_model_configs(repo_root / "config" / "models")
    expected = {f"{m.name}_{kind}" for m in models for kind in ("monitor", "retrain", "rollback")}
    assert set(bag.dag_ids) == expected
    assert elapsed < 2.0, f"parsing the dags folder took {elapsed:.2f} s"


def test_dag_files_do_not_import_heavy_libraries_at_parse_time(repo_root) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    dags = str(repo_root / "dags")
    code = (
        f"import sys; sys.path.insert(0, {dags!r}); import retrainer_dags; "
        "heavy = [m for m in ('mlflow', 'sklearn', 'great_expectations', 'pandas') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1:] in ([], [""]), result.stdout


def test_retrain_schedule_is_asset_or_cron_when_a_cron_is_configured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from airflow.sdk import Asset, AssetOrTimeSchedule

    from retrainer.orchestration.dag_factory import build_dags
    from tests.conftest import make_config_dir

    config_dir = make_config_dir(tmp_path, overrides={"rainfall": {"schedule": "0 3 * * 1"}})
    retrain = build_dags(config_dir)["rainfall_retrain"]
    assert isinstance(retrain.timetable, AssetOrTimeSchedule)
    # cron | drift | decay: the monitor's trigger policy emits one of the two events.
    assert retrain.timetable.asset_condition == Asset(
        name="rainfall_decay", uri="retrainer://rainfall/decay", group="retrainer"
    ) | Asset(name="rainfall_drift", uri="retrainer://rainfall/drift", group="retrainer")
    assert retrain.params["force"] is False
    assert retrain.default_args["retries"] == 1  # transient faults only
    assert build_dags(config_dir)["rainfall_rollback"].default_args["retries"] == 0

    plain = build_dags(make_config_dir(tmp_path / "plain"))["rainfall_retrain"]
    assert not isinstance(plain.timetable, AssetOrTimeSchedule)  # drift only


def test_a_broken_model_file_keeps_the_other_models_dags(
    repo_root, airflow_db, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.exceptions import AirflowFailException

    from tests.conftest import make_config_dir

    config_dir = make_config_dir(tmp_path)
    broken = config_dir / "models" / "broken.yaml"
    broken.write_text("name: broken\ntarget: {column: rain}\nnumeric_features: [x]\ngate: 3\n")
    # Valid YAML that asks for what cannot be enforced: four eyes over an MLflow tag.
    tagged = config_dir / "models" / "tagged.yaml"
    tagged.write_text(
        "name: tagged\ntarget: {column: rain}\nnumeric_features: [x]\napproval: mlflow\n"
    )
    monkeypatch.setenv("RETRAINER_CONFIG_DIR", str(config_dir))

    bag = DagBag(dag_folder=str(repo_root / "dags"))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {
        "rainfall_monitor",
        "rainfall_retrain",
        "rainfall_rollback",
        "broken_config_error",
        "tagged_config_error",
    }
    placeholder = bag.get_dag("broken_config_error")
    assert placeholder is not None and "config-error" in placeholder.tags
    assert str(broken) in (placeholder.doc_md or "") and "gate" in (placeholder.doc_md or "")
    assert placeholder.description is not None and "broken.yaml" in placeholder.description
    (task,) = placeholder.tasks
    with pytest.raises(AirflowFailException, match=r"broken\.yaml[\s\S]*gate"):
        task.execute({})
    refused = bag.get_dag("tagged_config_error")
    assert refused is not None and "approval.four_eyes" in (refused.description or "")
    assert "use approval: {mode: airflow}" in (refused.doc_md or "")


def test_a_policy_that_cannot_work_is_a_warning_on_the_monitor_dag(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from retrainer.orchestration.dag_factory import build_dags
    from tests.conftest import make_config_dir

    config_dir = make_config_dir(
        tmp_path, overrides={"rainfall": {"trigger": {"min_value": 0.5}}}
    )  # an AUC floor at chance: only a coin-toss model would ever be caught
    dags = build_dags(config_dir)
    assert {"rainfall_monitor", "rainfall_retrain", "rainfall_rollback"} <= set(dags)
    doc = dags["rainfall_monitor"].doc_md or ""
    assert "**Policy warnings**" in doc and "`trigger.min_value`" in doc
    assert "at or below chance" in doc
    clean = build_dags(make_config_dir(tmp_path / "clean"))
    assert "Policy warnings" not in (clean["rainfall_monitor"].doc_md or "")
