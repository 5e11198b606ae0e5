"""Operators of the trigger policy in ``<model>_monitor``: decide, then emit decay or drift.

Deciding and emitting are separate tasks because a task with outlets emits an event for
every outlet whenever it succeeds: one emit task per Asset, skipped when the decision did
not ask for its event, is how "no retrain" emits nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.runtime import TaskRuntime

__all__ = ["DecideTriggerOperator", "EmitTriggerEventOperator"]

log = logging.getLogger(__name__)


class DecideTriggerOperator(BaseOperator):
    """Apply the model's trigger policy to each checked or newly labelled batch.

    Writes ``trigger.json`` per batch. Batches whose labels landed in this run (a run of
    the ``labels`` Asset skips the batch tasks) are judged again with their realized
    metrics, so decay found when labels arrive retrains too.
    """

    ui_color = "#fdf3e1"

    def __init__(
        self,
        *,
        config_dir: str | Path,
        model: str,
        check_task_id: str,
        assess_task_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        # none_failed: a labels-only run skips validate/check but still has batches to judge.
        kwargs.setdefault("trigger_rule", "none_failed")
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.check_task_id = check_task_id
        self.assess_task_id = assess_task_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.lake import keys
        from retrainer.monitoring.decide import decide_batch

        ti = context["ti"]
        checks: list[dict[str, Any]] = list(ti.xcom_pull(task_ids=self.check_task_id) or [])
        assessed: Sequence[dict[str, Any]] = (
            (ti.xcom_pull(task_ids=self.assess_task_id) or []) if self.assess_task_id else []
        )
        seen = {c["batch_id"] for c in checks}
        checks += [{"batch_id": a["batch_id"]} for a in assessed if a["batch_id"] not in seen]
        if not checks:
            raise AirflowSkipException("no checked or newly labelled batch to judge")
        rt = TaskRuntime.open(self.config_dir, self.model)
        out = []
        for check in checks:
            decision = decide_batch(rt.client, rt.storage, rt.config, check["batch_id"])
            # The explanation in the task log is what an operator reads first.
            level = logging.WARNING if decision.decision != "none" else logging.INFO
            log.log(level, "trigger decision: %s", decision.explain())
            log.info(
                "trigger record: %s",
                rt.storage.uri(keys.report(self.model, check["batch_id"], keys.TRIGGER)),
            )
            out.append(
                decision.to_dict()
                | {
                    "report_uri": check.get("report_uri"),
                    "drifted_features": check.get("drifted_features", []),
                    "explanation": check.get("explanation"),
                    "evidence": check.get("evidence", []),
                    "prediction_drift": check.get("prediction_drift"),
                }
            )
        return out


class EmitTriggerEventOperator(BaseOperator):
    """Emit ``retrainer://<model>/<event>`` with the decision's evidence, or skip."""

    def __init__(
        self,
        *,
        config_dir: str | Path,
        model: str,
        event: str,
        decide_task_id: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(outlets=[model_asset(model, event)], **kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.event = event
        self.decide_task_id = decide_task_id

    def execute(self, context: Any) -> dict[str, Any]:
        decisions: Sequence[dict[str, Any]] = (
            context["ti"].xcom_pull(task_ids=self.decide_task_id) or []
        )
        wanted = [d for d in decisions if d.get("event") == self.event]
        if not wanted:
            summary = "; ".join(
                f"{d['batch_id']}: {d['decision']}"
                + (f" ({d['suppressed_by']})" if d.get("suppressed_by") else "")
                for d in decisions
            )
            raise AirflowSkipException(f"no {self.event} retrain requested ({summary or 'none'})")
        from retrainer.notify import send_alert
        from retrainer.settings import load_settings

        latest = wanted[-1]
        signals = latest["signals"]
        extra = {
            "model": self.model,
            "event": self.event,
            "batch_id": latest["batch_id"],
            "batches": [d["batch_id"] for d in wanted],
            "champion_version": latest.get("champion_version"),
            "reasons": latest["reasons"],
            # "explanation" is what the retrain run records as its reason.
            "explanation": "; ".join(latest["reasons"]),
            "drift": signals.get("drift"),
            "drift_score": signals.get("drift_score"),
            "realized": signals.get("realized", {}),
            "estimated": signals.get("estimated", {}),
            "baseline": signals.get("baseline", {}),
            "drifted_features": latest.get("drifted_features", []),
            "report_uri": latest.get("report_uri"),
            # Which features, how much, why: the retrain run can show it without the lake.
            "evidence": latest.get("evidence", []),
            "prediction_drift": latest.get("prediction_drift"),
        }
        context["outlet_events"][model_asset(self.model, self.event)].extra = extra
        log.warning(
            "%s in %s batch %s: %s",
            self.event,
            self.model,
            latest["batch_id"],
            extra["explanation"],
        )
        send_alert(
            load_settings(self.config_dir),
            f"{self.model}: {self.event}, retrain requested",
            extra["explanation"],
            extra,
        )
        return extra
