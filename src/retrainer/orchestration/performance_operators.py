"""Operators of ``<model>_monitor`` that record performance per batch and judge canaries."""

from __future__ import annotations

from typing import Any

from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.base import ModelOperator, airflow_errors
from retrainer.orchestration.context import airflow_ids, run_kwargs

__all__ = ["AssessPerformanceOperator", "JudgeCanaryOperator"]


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


class JudgeCanaryOperator(ModelOperator):
    """Promote, stop or keep watching each canary on its accumulated live evidence."""

    ui_color = "#eef3fb"

    def __init__(self, *, model: str, assess_task_id: str, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "none_failed")
        super().__init__(model=model, outlets=[model_asset(model, "champion")], **kwargs)
        self.assess_task_id = assess_task_id

    @airflow_errors()
    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.monitoring.canary_judge import judge_canaries

        records = self.pull(context, self.assess_task_id) or []
        rt = self.open_runtime()
        outcomes = judge_canaries(
            rt.client,
            rt.storage,
            rt.config,
            [r["batch_id"] for r in records],
            alert=rt.alert,
            **run_kwargs(context),
        )
        promoted = [o for o in outcomes if o.get("promoted")]
        self.set_event_extra(context, "champion", promoted[-1] if promoted else None)
        return outcomes
