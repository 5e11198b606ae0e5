"""Operators of the trigger policy in ``<model>_monitor``: decide, then emit decay or drift.

Deciding and emitting are separate tasks because a task with outlets emits an event for
every outlet whenever it succeeds: one emit task per Asset, skipped when the decision did
not ask for its event, is how "no retrain" emits nothing.
"""

from __future__ import annotations

from typing import Any

from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.base import ModelOperator, airflow_errors

__all__ = ["DecideTriggerOperator", "EmitTriggerEventOperator"]


class DecideTriggerOperator(ModelOperator):
    """Apply the model's trigger policy to each checked or newly labelled batch.

    Writes ``trigger.json`` per batch. Batches whose labels landed in this run (a run of
    the ``labels`` Asset skips the batch tasks) are judged again with their realized
    metrics, so decay found when labels arrive retrains too.
    """

    ui_color = "#fdf3e1"

    def __init__(
        self, *, check_task_id: str, assess_task_id: str | None = None, **kwargs: Any
    ) -> None:
        # none_failed: a labels-only run skips validate/check but still has batches to judge.
        kwargs.setdefault("trigger_rule", "none_failed")
        super().__init__(**kwargs)
        self.check_task_id = check_task_id
        self.assess_task_id = assess_task_id

    @airflow_errors()
    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.monitoring.verdicts import decide_batches

        checks = self.pull(context, self.check_task_id) or []
        assessed = (self.pull(context, self.assess_task_id) or []) if self.assess_task_id else []
        rt = self.open_runtime()
        verdicts = decide_batches(
            rt.client, rt.storage, rt.config, checks, [a["batch_id"] for a in assessed]
        )
        return [verdict.to_xcom() for verdict in verdicts]


class EmitTriggerEventOperator(ModelOperator):
    """Emit ``retrainer://<model>/<event>`` with the decision's evidence, or skip."""

    def __init__(self, *, model: str, event: str, decide_task_id: str, **kwargs: Any) -> None:
        super().__init__(model=model, outlets=[model_asset(model, event)], **kwargs)
        self.event = event
        self.decide_task_id = decide_task_id

    @airflow_errors()
    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.monitoring.events import emit_trigger_event
        from retrainer.monitoring.verdicts import Verdict

        verdicts = [Verdict.from_xcom(v) for v in self.pull(context, self.decide_task_id) or []]
        found = emit_trigger_event(self.alert_sink(), self.model, self.event, verdicts)
        self.set_event_extra(context, self.event, found.to_xcom())
        return found.to_xcom()
