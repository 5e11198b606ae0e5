"""Prometheus metrics from Airflow: publish a batch's records, time every task.

``PublishMetricsOperator`` runs last in ``<model>_monitor`` with ``trigger_rule=all_done``,
so a blocked batch is counted too; it reads what the other tasks wrote to the lake and
pushes it, so it depends on none of them. ``TaskDurationCallback`` is every retrainer
task's success/failure callback and pushes the try's duration.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from retrainer.orchestration.base import ModelOperator, airflow_errors
from retrainer.orchestration.context import batch_ids_from

__all__ = ["PublishMetricsOperator", "TaskDurationCallback"]

log = logging.getLogger(__name__)


class PublishMetricsOperator(ModelOperator):
    """Push the metrics of this run's batches to the Pushgateway (skip when metrics are off)."""

    ui_color = "#fdf0e0"

    def __init__(self, *, validate_task_id: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.validate_task_id = validate_task_id

    @airflow_errors()
    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.monitoring.steps import publish_batch_metrics

        # The events' batches (blocked ones too) and the never-checked ones the run took in.
        taken = (self.pull(context, self.validate_task_id) or []) if self.validate_task_id else []
        batch_ids = list(dict.fromkeys([*batch_ids_from(context), *taken]))
        published = publish_batch_metrics(self.load_settings(), self.model, batch_ids)
        return [p.to_xcom() for p in published]


def _duration(ti: Any) -> float | None:
    start = getattr(ti, "start_date", None)
    if start is None:
        return None
    end = getattr(ti, "end_date", None) or datetime.now(UTC)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return max((end - start).total_seconds(), 0.0)


class TaskDurationCallback:
    """A task callback that pushes ``retrainer_task_duration_seconds{model,dag,task}``.

    A callback rather than a listener: it travels with the task to whichever worker runs
    it and needs no plugin. It never raises: timing must not change a task's outcome.
    """

    def __init__(self, *, failed: bool) -> None:
        self.failed = failed

    def __call__(self, context: Any) -> None:
        try:
            self._push(context)
        except Exception:
            log.exception("task duration not pushed")

    def _push(self, context: Any) -> None:
        from retrainer.notify.prometheus import gateway_of, push_task_duration
        from retrainer.settings import load_settings

        task = context.get("task")
        ti = context.get("ti")
        gateway = gateway_of(load_settings(getattr(task, "config_dir", None)))
        seconds = _duration(ti)
        if gateway is None or seconds is None:
            return
        dag_id = str(ti.dag_id)
        push_task_duration(
            gateway,
            model=str(getattr(task, "model", None) or dag_id.rsplit("_", 1)[0]),
            dag=dag_id,
            task=str(ti.task_id),
            seconds=seconds,
            failed=self.failed,
        )
