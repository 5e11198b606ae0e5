"""The registry steps of the retrain and rollback DAGs, each with its alert.

Each function is one task's unit of work: it checks what the step needs, moves an alias
or records an approval through ``aliases``/``approval``/``ledger``, and tells people.
Refusals raise ``RegistryError`` (no retry helps); "nothing to do" raises ``NothingToDo``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from retrainer.errors import NothingToDo, RegistryError

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.evaluation.challenger import Evaluation
    from retrainer.notify import AlertSink
    from retrainer.registry.approval import ApprovalState
    from retrainer.registry.promotion import AliasChange
    from retrainer.storage import Storage

__all__ = [
    "Promotion",
    "answer_approval",
    "ask_for_approval",
    "poll_approval",
    "promote_challenger",
    "reconcile_ledger",
    "roll_back_champion",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Promotion:
    """A challenger made champion, or found already champion (a retried task)."""

    version: str
    change: AliasChange | None = None

    @property
    def event_extra(self) -> dict[str, Any] | None:
        """The ``champion`` Asset event's extra (none when nothing moved)."""
        return None if self.change is None else self.change.to_dict()

    def to_xcom(self) -> dict[str, Any]:
        if self.change is None:
            return {"version": self.version, "previous_version": None, "reused": True}
        return self.change.to_dict()


def promote_challenger(
    client: MlflowClient,
    storage: Storage,
    alert: AlertSink,
    evaluation: Evaluation,
    *,
    approval_mode: str,
    actor: str,
    context: dict[str, Any],
) -> Promotion:
    """Move ``champion`` to the challenger the gate (and, if asked, a person) accepted.

    Raises:
        NothingToDo: the gate rejected the challenger.
        RegistryError: it is not approved, or the champion moved since the evaluation.
    """
    from retrainer.registry.approval import approval_state
    from retrainer.registry.moves import complete_pending
    from retrainer.registry.promotion import AliasChange, promote
    from retrainer.registry.versions import champion_version

    model, version = evaluation.model, evaluation.gated_version()
    # A retry of a promote killed after its alias move finishes the ledger entry here.
    finished = [e for e in complete_pending(client, storage, model) if e["version"] == str(version)]
    current = champion_version(client, model)
    if current is not None and str(current.version) == str(version):
        if finished:
            e = finished[0]
            change = AliasChange(
                model,
                "promote",
                version,
                e["previous_version"],
                str(e.get("reason") or ""),
                e["actor"],
                e["key"],
            )
            alert(
                f"{model}: v{version} promoted",
                f"champion v{change.previous_version} -> v{version}: {change.reason} "
                "(completed by the retry)",
                change.to_dict(),
                event="promotion",
            )
            return Promotion(version, change)
        log.info("v%s is already champion (a retried task): nothing to move", version)
        return Promotion(version)
    approval: dict[str, Any] = {}
    if approval_mode != "auto":
        # Defence in depth: the approval task should have skipped us otherwise.
        state = approval_state(client, model, version)
        if state.status != "approved":
            raise RegistryError(
                f"v{version} is not approved (approval={state.status}): not promoted"
            )
        approval = {
            "approved_by": state.by,
            "approved_at": state.at,
            "approved_identity": state.identity,
        }
    change = promote(
        client,
        storage,
        model,
        version,
        expected_champion=evaluation.champion_version,
        reason=evaluation.decision["reason"],
        actor=actor,
        context={
            **context,
            "evaluation_run_id": evaluation.run_id,
            "evidence": f"runs:/{evaluation.run_id}/evaluation/report.html",
            "approval_mode": approval_mode,
            **approval,
        },
    )
    alert(
        f"{model}: v{version} promoted",
        f"champion v{change.previous_version} -> v{version}: {change.reason}",
        change.to_dict(),
        event="promotion",
    )
    return Promotion(version, change)


def roll_back_champion(
    client: MlflowClient,
    storage: Storage,
    alert: AlertSink,
    model: str,
    *,
    target_version: Any,
    reason: str,
    actor: str,
    context: dict[str, Any],
) -> AliasChange:
    """Move ``champion`` back to ``target_version`` (default: the previous champion).

    Raises:
        RegistryError: the target is unfit or there is nothing to roll back to.
    """
    from retrainer.registry.rollback import rollback

    change = rollback(
        client,
        storage,
        model,
        target_version=str(target_version) if target_version not in (None, "") else None,
        reason=reason,
        actor=actor,
        context=context,
    )
    log.warning(
        "rolled back %s: champion v%s -> v%s (%s, by %s)",
        model,
        change.previous_version,
        change.version,
        change.reason,
        change.actor,
    )
    alert(
        f"{model}: rolled back to v{change.version}",
        f"champion v{change.previous_version} -> v{change.version}: {change.reason}",
        change.to_dict(),
        event="rollback",
    )
    return change


def reconcile_ledger(
    client: MlflowClient,
    storage: Storage,
    alert: AlertSink,
    model: str,
    *,
    context: dict[str, Any],
) -> dict[str, Any] | None:
    """Record (and alert on) a ``champion`` move the ledger does not know; None if none."""
    from retrainer.registry.ledger import reconcile_champion
    from retrainer.registry.moves import complete_pending

    # retrainer's own move, killed before its ledger entry, is completed, not alerted on.
    complete_pending(client, storage, model)
    found = reconcile_champion(client, storage, model, context=context)
    if found is None:
        log.info("the champion of %s is where the ledger says", model)
        return None
    alert(
        f"{model}: champion changed outside retrainer",
        f"champion v{found['previous_version']} -> v{found['version']} (recorded in "
        f"{found['key']})",
        found,
        event="champion_changed",
    )
    return found


def ask_for_approval(
    client: MlflowClient,
    storage: Storage,
    alert: AlertSink | None,
    evaluation: Evaluation,
    *,
    mode: str,
    timeout: timedelta,
    actor: str,
    context: dict[str, Any],
) -> dict[str, Any]:
    """Set ``approval=pending`` on the gated challenger and ask people to answer in MLflow.

    Raises:
        NothingToDo: the gate rejected the challenger (nothing to ask for).
    """
    from retrainer.registry.approval import request_approval

    model, version = evaluation.model, evaluation.gated_version()
    state = request_approval(
        client,
        storage,
        model,
        version,
        mode=mode,
        timeout=timeout,
        requested_by=actor,
        context=context,
    )
    if alert is not None:
        alert(
            f"{model}: v{version} waits for your approval",
            f"In the MLflow UI set the version tag `approval` of {model} v{version} to "
            f"`approved` or `rejected` and `approved_by` to your name before "
            f"{state.expires_at} UTC; unanswered, the request expires.",
            {"version": version, **state.to_dict()},
            event="approval_request",
        )
    return {"version": version, **state.to_dict()}


def poll_approval(
    client: MlflowClient,
    storage: Storage,
    alert: AlertSink,
    evaluation: Evaluation,
    *,
    four_eyes: bool,
    actor: str,
    context: dict[str, Any],
) -> bool:
    """One look at the MLflow-tag approval: True once approved, False while pending.

    ``actor`` is who triggered the run (Airflow's record), the requester four eyes excludes.

    Raises:
        NothingToDo: the gate rejected the challenger, or a person rejected it (alerted),
            or the request expired.
        ApprovalError: the approval tag holds an unexpected value.
    """
    from retrainer.registry.approval import check_approval

    model, version = evaluation.model, evaluation.gated_version()
    state = check_approval(
        client,
        storage,
        model,
        version,
        requested_by=actor,
        four_eyes=four_eyes,
        context=context,
    )
    if state is None:
        log.info("v%s of %s: approval still pending", version, model)
        return False
    if state.status != "approved":
        message = (
            f"v{version} not promoted: approval {state.status} "
            f"({state.reason or 'by ' + str(state.by)})"
        )
        alert(f"{model}: {message}", message, state.to_dict(), event="rejection")
        raise NothingToDo(message)
    log.info("v%s of %s approved by %s at %s", version, model, state.by, state.at)
    return True


def answer_approval(
    client: MlflowClient,
    storage: Storage,
    evaluation: Evaluation,
    *,
    answer: str,
    by: str | None,
    reason: str,
    four_eyes: bool,
    actor: str,
    context: dict[str, Any],
) -> ApprovalState:
    """Record an answer given in Airflow (HITL) on the gated challenger.

    ``by`` is the user Airflow authenticated when they answered, ``actor`` the user who
    triggered the run: both from Airflow's records, never from a tag or a typed value.
    """
    from retrainer.registry.approval import AIRFLOW_LOGIN, record_answer

    model, version = evaluation.model, evaluation.gated_version()
    state = record_answer(
        client,
        storage,
        model,
        version,
        answer=answer,
        by=by,
        identity=AIRFLOW_LOGIN,
        requested_by=actor,
        four_eyes=four_eyes,
        reason=reason,
        context=context,
    )
    if state.status != "approved":
        log.warning("v%s not approved: %s", version, state.reason or state.status)
    return state
