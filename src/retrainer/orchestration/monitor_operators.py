"""Operators of ``<model>_monitor``: validate the landed batch, check it.

The trigger decision and the decay/drift events live in ``trigger_operators``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from retrainer.orchestration.base import ModelOperator, airflow_errors
from retrainer.orchestration.context import airflow_ids, intake_request
from retrainer.orchestration.links import (
    DriftReportLink,
    ModelVersionLink,
    ValidationReportLink,
    lake_url,
    model_version_url,
)

if TYPE_CHECKING:
    from retrainer.monitoring.check import BatchCheck
    from retrainer.settings import Settings

__all__ = ["CheckBatchOperator", "FailRunOnFailureOperator", "ValidateBatchOperator"]


class ValidateBatchOperator(ModelOperator):
    """Take in the run's and every never-checked landed batch; quarantine what fails.

    Bad data is not a transient fault: when every batch is blocked the task fails without
    retries and nothing downstream runs.
    """

    ui_color = "#e8f4e8"
    operator_extra_links = (ValidationReportLink(),)

    @airflow_errors()
    def execute(self, context: Any) -> list[str]:
        from retrainer.monitoring.intake import validate_landed_batches

        rt = self.open_runtime()
        intake = validate_landed_batches(
            rt.client, rt.storage, rt.alert, rt.config, intake_request(context)
        )
        if intake.last_docs:
            self.publish(context, validation_report=lake_url(rt.settings, intake.last_docs))
        intake.raise_if_all_blocked()
        return intake.to_xcom()


class CheckBatchOperator(ModelOperator):
    """Score accepted batches with the champion and measure drift against its reference."""

    operator_extra_links = (DriftReportLink(), ModelVersionLink())

    def __init__(self, *, validate_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validate_task_id = validate_task_id

    @airflow_errors()
    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.monitoring.intake import Intake
        from retrainer.monitoring.steps import check_batches

        intake = Intake.from_xcom(self.pull(context, self.validate_task_id))
        rt = self.open_runtime()
        checks = check_batches(
            rt.client,
            rt.storage,
            rt.settings,
            rt.config,
            intake.accepted,
            context=airflow_ids(context),
        )
        self.publish(context, **_check_links(rt.settings, self.model, checks))
        return [check.to_xcom() for check in checks]


def _check_links(settings: Settings, model: str, checks: list[BatchCheck]) -> dict[str, str]:
    """The drift report and champion version of the newest batch with a report."""
    reported = [c for c in checks if c.report_uri and c.report_key]
    if not reported:
        return {}
    last = reported[-1]
    return {
        "drift_report": lake_url(settings, str(last.report_key)),
        "model_version": model_version_url(settings, model, str(last.champion_version)),
    }


class FailRunOnFailureOperator(BaseOperator):
    """Fail the monitor run when any of its tasks failed (Airflow's "watcher" pattern).

    ``publish_metrics`` runs ``all_done`` so blocked batches are counted, which makes it a
    leaf that succeeds even when validation blocked the batch; Airflow derives a run's
    state from its leaves, so without this task a blocked batch would show as a green run.
    It runs only when an upstream task failed (``one_failed``) and then fails itself,
    without alerting: the failed task already sent its own alert.
    """

    ui_color = "#f4cccc"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "one_failed")
        kwargs["on_failure_callback"] = None
        kwargs["retries"] = 0
        super().__init__(**kwargs)

    def execute(self, context: Any) -> None:
        # A task process has no ORM DagRun: the Task SDK asks the API server for the states.
        ti = context["ti"]
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id]).get(ti.run_id, {})
        failed = [
            task_id
            for task_id, state in states.items()
            if state in ("failed", "upstream_failed") and task_id != self.task_id
        ]
        raise AirflowFailException(
            f"this run did not finish cleanly: {', '.join(sorted(failed)) or 'a task'} failed "
            "(see that task's log)"
        )
