"""Approval tasks of ``<model>_retrain``: an MLflow-tag request + sensor, or Airflow HITL.

Both paths write the same record (version tags ``approval``, ``retrainer.approval.*`` and a
ledger entry), so the promotion step and the history do not care which one was used.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseOperator, BaseSensorOperator
from airflow.sdk.exceptions import AirflowSkipException

from retrainer.orchestration.runtime import TaskRuntime, run_context

__all__ = ["HITLApprovalOperator", "RequestApprovalOperator", "WaitForApprovalSensor"]

log = logging.getLogger(__name__)


def _gated_version(context: Any, evaluate_task_id: str) -> str:
    """The challenger to approve; skip (nothing to ask) when the gate rejected it."""
    evaluation = context["ti"].xcom_pull(task_ids=evaluate_task_id)
    if not evaluation["decision"]["promote"]:
        raise AirflowSkipException(
            f"challenger v{evaluation['challenger_version']} was rejected by the gate: "
            "no approval to ask for"
        )
    return str(evaluation["challenger_version"])


def _ledger_context(context: Any) -> dict[str, str]:
    ctx = run_context(context)
    return {"airflow_dag_id": ctx["airflow_dag_id"], "airflow_run_id": ctx["airflow_run_id"]}


class RequestApprovalOperator(BaseOperator):
    """Set the challenger's version tag ``approval=pending`` for a person to answer in MLflow."""

    def __init__(
        self,
        *,
        config_dir: str | Path,
        model: str,
        evaluate_task_id: str,
        mode: str,
        timeout: timedelta,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.evaluate_task_id = evaluate_task_id
        self.mode = mode
        self.timeout = timeout

    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.registry.approval import request_approval

        version = _gated_version(context, self.evaluate_task_id)
        rt = TaskRuntime.open(self.config_dir, self.model)
        state = request_approval(
            rt.client,
            rt.storage,
            self.model,
            version,
            mode=self.mode,
            timeout=self.timeout,
            requested_by=run_context(context)["actor"],
            context=_ledger_context(context),
        )
        from retrainer.orchestration.notifiers import send_alert

        send_alert(
            rt.settings,
            f"{self.model}: v{version} waits for your approval",
            f"In the MLflow UI set the version tag `approval` of {self.model} v{version} to "
            f"`approved` or `rejected` (and `approved_by` to your name) before "
            f"{state.expires_at} UTC; unanswered, the request expires.",
            {"version": version, **state.to_dict()},
            event="approval_request",
        )
        return {"version": version, **state.to_dict()}


class WaitForApprovalSensor(BaseSensorOperator):
    """Wait until a person sets ``approval`` on the challenger; expire unanswered requests.

    Run it with ``mode="reschedule"``: between pokes it holds no worker slot, so a request
    may wait for days. The expiry comes from the request's own ``expires_at`` tag (the
    sensor's ``timeout`` is only a backstop), so it is recorded as ``approval=expired``.
    """

    def __init__(
        self,
        *,
        config_dir: str | Path,
        model: str,
        evaluate_task_id: str,
        four_eyes: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.evaluate_task_id = evaluate_task_id
        self.four_eyes = four_eyes

    def poke(self, context: Any) -> bool:
        from retrainer.registry.approval import check_approval

        version = _gated_version(context, self.evaluate_task_id)
        rt = TaskRuntime.open(self.config_dir, self.model)
        state = check_approval(
            rt.client,
            rt.storage,
            self.model,
            version,
            four_eyes=self.four_eyes,
            context=_ledger_context(context),
        )
        if state is None:
            log.info("v%s of %s: approval still pending", version, self.model)
            return False
        if state.status != "approved":
            from retrainer.orchestration.notifiers import send_alert

            message = (
                f"v{version} not promoted: approval {state.status} "
                f"({state.reason or 'by ' + str(state.by)})"
            )
            send_alert(
                rt.settings,
                f"{self.model}: {message}",
                message,
                state.to_dict(),
                event="rejection",
            )
            raise AirflowSkipException(message)
        log.info("v%s of %s approved by %s at %s", version, self.model, state.by, state.at)
        return True


class HITLApprovalOperator(ApprovalOperator):
    """Airflow's HITL approval, with the answer (or its expiry) recorded in MLflow.

    Before asking, the challenger gets ``approval=pending`` like in the MLflow mode; after
    the answer, who answered and when are written to its tags and the ledger. A time-out
    takes the default ``Reject`` and is recorded as ``expired``; an approval by the person
    who triggered the run is recorded as a rejection and skips promotion.
    """

    def __init__(
        self,
        *,
        config_dir: str | Path,
        model: str,
        evaluate_task_id: str,
        four_eyes: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(defaults=self.REJECT, **kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.evaluate_task_id = evaluate_task_id
        self.four_eyes = four_eyes

    def execute(self, context: Any) -> Any:
        from retrainer.registry.approval import request_approval

        version = _gated_version(context, self.evaluate_task_id)
        rt = TaskRuntime.open(self.config_dir, self.model)
        request_approval(
            rt.client,
            rt.storage,
            self.model,
            version,
            mode="airflow",
            timeout=self.response_timeout or timedelta(days=365),
            requested_by=run_context(context)["actor"],
            context=_ledger_context(context),
        )
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from retrainer.registry.approval import record_answer

        version = _gated_version(context, self.evaluate_task_id)
        rt = TaskRuntime.open(self.config_dir, self.model)
        user = event.get("responded_by_user") or {}
        by = user.get("name") or user.get("id") if isinstance(user, dict) else None
        if "error" in event or event.get("timedout"):
            answer, reason = "expired", "nobody answered in Airflow before the timeout"
        else:
            chosen = (event.get("chosen_options") or [self.REJECT])[0]
            answer = "approved" if chosen == self.APPROVE else "rejected"
            reason = f"{chosen} in Airflow"
        state = record_answer(
            rt.client,
            rt.storage,
            self.model,
            version,
            answer=answer,
            by=by,
            four_eyes=self.four_eyes,
            reason=reason,
            context=_ledger_context(context),
        )
        if "error" in event:
            return super().execute_complete(context, event)  # raises the timeout error
        if state.status != "approved":
            # Turn the answer into Reject so ApprovalOperator skips the promotion.
            event = {**event, "chosen_options": [self.REJECT]}
            log.warning("v%s not approved: %s", version, state.reason or state.status)
        return super().execute_complete(context, event)
