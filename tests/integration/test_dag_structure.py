"""The retrain and monitor DAGs change shape with the model's approval and shadow settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import make_config_dir

pytestmark = pytest.mark.integration


def _dags(tmp_path: Path, overrides: dict, settings: dict | None = None):  # type: ignore[no-untyped-def]
    from retrainer.orchestration.dag_factory import build_dags

    return build_dags(
        make_config_dir(tmp_path, overrides={"rainfall": overrides}, settings=settings)
    )


def _order(dag) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.task_id for t in dag.topological_sort()]


def test_auto_approval_promotes_straight_after_the_gate(tmp_path: Path) -> None:
    dags = _dags(tmp_path, {})
    assert _order(dags["rainfall_retrain"]) == [
        "train_challenger",
        "evaluate_challenger",
        "promote",
    ]
    monitor = dags["rainfall_monitor"]
    assert "reconcile_champion" in monitor.task_ids and "score_shadow" not in monitor.task_ids
    # The policy decides after the check and the performance assessment (late labels are
    # judged too); one emit task per Asset, each skipped unless asked.
    assert monitor.get_task("assess_performance").upstream_task_ids == {"check_batch"}
    assert monitor.get_task("decide_trigger").upstream_task_ids == {"assess_performance"}
    # A canary is judged on the labelled rows it served, once they are assessed.
    assert monitor.get_task("judge_canary").upstream_task_ids == {"assess_performance"}
    for event in ("decay", "drift"):
        emit = monitor.get_task(f"emit_{event}")
        assert emit.upstream_task_ids == {"decide_trigger"}
        assert [a.uri for a in emit.outlets] == [f"retrainer://rainfall/{event}"]
    assert not monitor.get_task("decide_trigger").outlets
    # Any failed task (a blocked batch) fails the run, although publish_metrics runs all_done.
    outcome = monitor.get_task("fail_run_on_failure")
    assert outcome.upstream_task_ids == set(monitor.task_ids) - {"fail_run_on_failure"}
    assert outcome.trigger_rule == "one_failed"
    retrain = dags["rainfall_retrain"]
    assert set(retrain.params) >= {"reason", "window_batches", "window", "force"}


def test_mlflow_approval_waits_with_a_rescheduling_sensor(tmp_path: Path) -> None:
    approval = {"mode": "mlflow", "four_eyes": False, "timeout_minutes": 30, "poke_seconds": 20}
    dags = _dags(tmp_path, {"approval": approval})
    retrain = dags["rainfall_retrain"]
    assert _order(retrain) == [
        "train_challenger",
        "evaluate_challenger",
        "request_approval",
        "wait_for_approval",
        "promote",
    ]
    sensor = retrain.get_task("wait_for_approval")
    assert sensor.mode == "reschedule" and sensor.poke_interval == 20
    assert sensor.timeout >= 30 * 60  # a backstop: the request expires itself first
    assert retrain.get_task("promote").approval_mode == "mlflow"


def test_a_deployment_default_of_mlflow_approval_disables_the_model_saying_why(
    tmp_path: Path,
) -> None:
    # It would keep four eyes on, which a tag cannot enforce: the model says so itself.
    dags = _dags(tmp_path, {}, settings={"approval_mode": "mlflow"})
    assert set(dags) == {"rainfall_config_error"}
    doc = dags["rainfall_config_error"].doc_md or ""
    assert "cannot enforce four eyes" in doc and "four_eyes: false" in doc


def test_airflow_approval_is_a_hitl_task_that_rejects_on_timeout(tmp_path: Path) -> None:
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    # The deployment default applies when the model sets no approval.
    dags = _dags(tmp_path, {}, settings={"approval_mode": "airflow"})
    retrain = dags["rainfall_retrain"]
    assert _order(retrain) == ["train_challenger", "evaluate_challenger", "approve", "promote"]
    approve = retrain.get_task("approve")
    assert isinstance(approve, ApprovalOperator)
    assert approve.defaults == ["Reject"] and approve.response_timeout == timedelta(days=1)
    assert "evaluate_challenger" in approve.body


def test_shadow_holds_instead_of_promoting_and_the_monitor_scores_it(tmp_path: Path) -> None:
    dags = _dags(tmp_path, {"shadow": {"batches": 2}})
    assert _order(dags["rainfall_retrain"])[-1] == "hold_in_shadow"
    monitor = dags["rainfall_monitor"]
    assert monitor.get_task("score_shadow").upstream_task_ids == {"validate_batch"}
