"""Operator of ``<model>_monitor`` that records the champion's performance per batch."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator

from retrainer.orchestration.runtime import TaskRuntime, run_context

__all__ = ["AssessPerformanceOperator"]

log = logging.getLogger(__name__)


class AssessPerformanceOperator(BaseOperator):
    """Record the champion's realized and estimated performance per batch.

    Assesses the batches ``check_batch`` just scored, then every earlier batch whose
    labels landed since its last record. Runs when ``check_batch`` was skipped too (a run
    started by a labels event has no new batch), so late labels are always picked up.
    """

    ui_color = "#eef3fb"

    def __init__(
        self, *, config_dir: str | Path, model: str, check_task_id: str, **kwargs: Any
    ) -> None:
        kwargs.setdefault("trigger_rule", "none_failed")
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.check_task_id = check_task_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.monitoring import assess_batch, refresh_labelled
        from retrainer.orchestration.notifiers import send_alert

        checks = context["ti"].xcom_pull(task_ids=self.check_task_id) or []
        batch_ids = [c["batch_id"] for c in checks if c.get("batch_id")]
        rt = TaskRuntime.open(self.config_dir, self.model)
        ctx = {k: v for k, v in run_context(context).items() if k != "actor"}
        records = [
            assess_batch(rt.client, rt.storage, rt.settings, rt.config, b, context=ctx)
            for b in batch_ids
        ]
        records += refresh_labelled(
            rt.client, rt.storage, rt.settings, rt.config, skip=tuple(batch_ids), context=ctx
        )
        for record in records:
            log.info("%s", record.explain())
            if record.estimate_broken:
                send_alert(
                    rt.settings,
                    f"{self.model}: performance estimate broke on batch {record.batch_id}",
                    record.explain()
                    + f" (band {rt.config.monitoring.estimate_band}): the labels no longer"
                    " follow the model's probabilities",
                    record.to_dict(),
                )
        return [r.summary() for r in records]
