"""Operator of ``<model>_monitor`` that records the champion's performance per batch."""

from __future__ import annotations

from typing import Any

from retrainer.orchestration.base import ModelOperator, airflow_errors
from retrainer.orchestration.context import airflow_ids

__all__ = ["AssessPerformanceOperator"]


class AssessPerformanceOperator(ModelOperator):
    """Record the champion's realized and estimated performance per batch.

    Assesses the batches ``check_batch`` just scored, then every earlier batch whose
    labels landed since its last record. Runs when ``check_batch`` was skipped too (a run
    started by a labels event has no new batch), so late labels are always picked up.
    """

    ui_color = "#eef3fb"

    def __init__(self, *, check_task_id: str, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "none_failed")
        super().__init__(**kwargs)
        self.check_task_id = check_task_id

    @airflow_errors()
    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.monitoring.steps import assess_batches

        checks = self.pull(context, self.check_task_id) or []
        batch_ids = [c["batch_id"] for c in checks if c.get("batch_id")]
        rt = self.open_runtime()
        records = assess_batches(
            rt.client,
            rt.storage,
            rt.settings,
            rt.config,
            batch_ids,
            alert=rt.alert,
            context=airflow_ids(context),
        )
        return [record.to_xcom() for record in records]
