"""Approval tasks of ``<model>_retrain``: an MLflow-tag request + sensor, or Airflow HITL.

Both paths write the same record (version tags ``approval``, ``retrainer.approval.*`` and a
ledger entry), so the promotion step and the history do not care which one was used.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseSensorOperator

from retrainer.orchestration.base import ModelOperator, ModelTask, airflow_errors
from retrainer.orchestration.context import evaluation_from, run_kwargs

__all__ = ["HITLApprovalOperator", "RequestApprovalOperator", "WaitForApprovalSensor"]


class RequestApprovalOperator(ModelOperator):
    """Set the challenger's version tag ``approval=pending`` for a person to answer in MLflow."""

    def __init__(
        self, *, evaluate_task_id: str, mode: str, timeout: timedelta, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.evaluate_task_id = evaluate_task_id
        self.mode = mode
        self.timeout = timeout

    @airflow_errors()
    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.registry.steps import ask_for_approval

        evaluation = evaluation_from(context, self.evaluate_task_id)
        rt = self.open_runtime()
        return ask_for_approval(
            rt.client,
            rt.storage,
            rt.alert,
            evaluation,
            mode=self.mode,
            timeout=self.timeout,
            **run_kwargs(context),
        )


class WaitForApprovalSensor(ModelTask, BaseSensorOperator):
    """Wait until a person sets ``approval`` on the challenger; expire unanswered requests.

    Run it with ``mode="reschedule"``: between pokes it holds no worker slot, so a request
    may wait for days. The expiry comes from the request's own ``expires_at`` tag (the
    sensor's ``timeout`` is only a backstop), so it is recorded as ``approval=expired``.
    """

    def __init__(self, *, evaluate_task_id: str, four_eyes: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.evaluate_task_id = evaluate_task_id
        self.four_eyes = four_eyes

    @airflow_errors()
    def poke(self, context: Any) -> bool:
        from retrainer.registry.steps import poll_approval

        evaluation = evaluation_from(context, self.evaluate_task_id)
        evaluation.gated_version()  # skip before opening anything when the gate rejected it
        rt = self.open_runtime()
        return poll_approval(
            rt.client,
            rt.storage,
            rt.alert,
            evaluation,
            four_eyes=self.four_eyes,
            **run_kwargs(context),
        )


class HITLApprovalOperator(ModelTask, ApprovalOperator):
    """Airflow's HITL approval, with the answer (or its expiry) recorded in MLflow.

    Before asking, the challenger gets ``approval=pending`` like in the MLflow mode; after
    the answer, who answered and when are written to its tags and the ledger. A time-out
    takes the default ``Reject`` and is recorded as ``expired``. With four eyes an
    approval by the person who triggered the run, or one without a responding user, is
    recorded as a rejection and skips promotion.
    """

    def __init__(self, *, evaluate_task_id: str, four_eyes: bool = True, **kwargs: Any) -> None:
        super().__init__(defaults=self.REJECT, **kwargs)
        self.evaluate_task_id = evaluate_task_id
        self.four_eyes = four_eyes

    @airflow_errors()
    def execute(self, context: Any) -> Any:
        from retrainer.registry.steps import ask_for_approval

        evaluation = evaluation_from(context, self.evaluate_task_id)
        rt = self.open_runtime()
        ask_for_approval(
            rt.client,
            rt.storage,
            None,  # Airflow's Required Actions page is the request: no alert
            evaluation,
            mode="airflow",
            timeout=self.response_timeout or timedelta(days=365),
            **run_kwargs(context),
        )
        return super().execute(context)

    @airflow_errors()
    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from retrainer.registry.steps import answer_approval

        evaluation = evaluation_from(context, self.evaluate_task_id)
        rt = self.open_runtime()
        state = answer_approval(
            rt.client,
            rt.storage,
            evaluation,
            **_answer_of(event, self.APPROVE, self.REJECT),
            four_eyes=self.four_eyes,
            **run_kwargs(context),  # the requester as Airflow recorded the run's trigger
        )
        # An error event makes ApprovalOperator raise the timeout error.
        return super().execute_complete(context, self._as_recorded(event, state.status))

    def _as_recorded(self, event: dict[str, Any], status: str) -> dict[str, Any]:
        """Turn an answer not recorded as approved into Reject so promotion is skipped."""
        if "error" in event or status == "approved":
            return event
        return {**event, "chosen_options": [self.REJECT]}


def _answer_of(event: dict[str, Any], approve: str, reject: str) -> dict[str, Any]:
    """(answer, by, reason) of a HITL trigger event: approved, rejected or expired.

    ``by`` is the event's ``responded_by_user``: the user Airflow's API authenticated when
    they answered (None for a timeout default or a response written without a user).
    """
    user = event.get("responded_by_user")
    by = (user.get("name") or user.get("id")) if isinstance(user, dict) else None
    if "error" in event or event.get("timedout"):
        return {
            "answer": "expired",
            "by": by,
            "reason": "nobody answered in Airflow before the timeout",
        }
    chosen = (event.get("chosen_options") or [reject])[0]
    answer = "approved" if chosen == approve else "rejected"
    return {"answer": answer, "by": by, "reason": f"{chosen} in Airflow"}
