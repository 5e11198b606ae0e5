"""Human approval of a gated challenger, recorded on its version tags and in the ledger.

The request is the version tag ``approval`` (no namespace: it is the tag a person edits in
the MLflow UI) set to ``pending``; a person answers ``approved`` or ``rejected``, and may
add ``approved_by`` with their name. An Airflow HITL answer is recorded the same way, with
the responding user Airflow knows. Unanswered requests expire.

Four eyes: where both identities are known, the person who triggered the run cannot
approve it; such an answer is recorded as a rejection.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from retrainer.errors import ApprovalError
from retrainer.registry.ledger import record_event
from retrainer.registry.tags import (
    APPROVAL,
    APPROVAL_AT,
    APPROVAL_BY,
    APPROVAL_EXPIRES_AT,
    APPROVAL_MODE,
    APPROVAL_REASON,
    APPROVAL_REQUESTED_AT,
    APPROVAL_REQUESTED_BY,
    APPROVED_BY,
    CHALLENGER,
)
from retrainer.registry.versions import get_version, set_tags

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.storage import Storage

__all__ = [
    "ApprovalState",
    "approval_state",
    "check_approval",
    "record_answer",
    "request_approval",
]

ANSWERS = ("approved", "rejected")
# Identities that say nothing about a person (Airflow's default for scheduled runs, etc.).
_ANONYMOUS = {"", "airflow", "retrainer", "unknown", "none"}


@dataclass(frozen=True)
class ApprovalState:
    status: str  # pending | approved | rejected | expired | none
    by: str | None
    at: str | None
    requested_by: str | None
    expires_at: str | None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> datetime:
    return datetime.now(UTC)


def _known(identity: str | None) -> bool:
    return identity is not None and identity.strip().lower() not in _ANONYMOUS


def request_approval(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    *,
    mode: str,
    timeout: timedelta,
    requested_by: str,
    context: dict[str, Any] | None = None,
) -> ApprovalState:
    """Mark ``version`` as waiting for a person and point ``challenger`` at it.

    Idempotent: a retried task finds the request (or its answer) and changes nothing.
    """
    mv = get_version(client, model, version)
    if mv.tags.get(APPROVAL):
        return approval_state(client, model, version)
    now = _now()
    expires = now + timeout
    set_tags(
        client,
        model,
        version,
        {
            APPROVAL_MODE: mode,
            APPROVAL_REQUESTED_AT: now.isoformat(timespec="seconds"),
            APPROVAL_EXPIRES_AT: expires.isoformat(timespec="seconds"),
            APPROVAL_REQUESTED_BY: requested_by,
        },
    )
    # The plain tag last: once a person can see "pending", everything else is in place.
    client.set_model_version_tag(model, version, APPROVAL, "pending")
    client.set_registered_model_alias(model, CHALLENGER, version)
    record_event(
        storage,
        model,
        "approval_requested",
        {
            "version": version,
            "alias": CHALLENGER,
            "reason": f"waiting for approval ({mode}) until {expires:%Y-%m-%d %H:%M} UTC",
            "actor": requested_by,
            **(context or {}),
        },
    )
    return approval_state(client, model, version)


def approval_state(client: MlflowClient, model: str, version: str) -> ApprovalState:
    """Read the approval tags of a version as they are now."""
    tags = get_version(client, model, version).tags
    return ApprovalState(
        status=tags.get(APPROVAL) or "none",
        by=tags.get(APPROVAL_BY) or tags.get(APPROVED_BY),
        at=tags.get(APPROVAL_AT),
        requested_by=tags.get(APPROVAL_REQUESTED_BY),
        expires_at=tags.get(APPROVAL_EXPIRES_AT),
        reason=tags.get(APPROVAL_REASON, ""),
    )


def record_answer(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    *,
    answer: str,
    by: str | None,
    four_eyes: bool = True,
    reason: str = "",
    context: dict[str, Any] | None = None,
) -> ApprovalState:
    """Record an answer (approved / rejected / expired) with who and when.

    An approval by the person who requested it becomes a rejection when ``four_eyes`` is on
    and both identities are known. Recording the same answer twice changes nothing.
    """
    state = approval_state(client, model, version)
    if state.status in (*ANSWERS, "expired") and state.at:
        return state  # already recorded (a retried task)
    if answer == "approved" and four_eyes and _known(by) and by == state.requested_by:
        answer, reason = "rejected", f"{by} triggered this run and cannot also approve it"
    at = _now().isoformat(timespec="seconds")
    set_tags(
        client,
        model,
        version,
        {
            APPROVAL_BY: by or "unknown",
            APPROVAL_AT: at,
            APPROVAL_REASON: reason,
        },
    )
    client.set_model_version_tag(model, version, APPROVAL, answer)
    record_event(
        storage,
        model,
        f"approval_{answer}",
        {
            "version": version,
            "reason": reason or f"{answer} by {by or 'unknown'}",
            "actor": by or "unknown",
            **(context or {}),
        },
    )
    return approval_state(client, model, version)


def check_approval(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    *,
    four_eyes: bool = True,
    now: datetime | None = None,
    context: dict[str, Any] | None = None,
) -> ApprovalState | None:
    """One poke of the MLflow-tag approval: the answer, or None while still pending.

    A pending request past its expiry is marked ``expired`` (tag and ledger).

    Raises:
        ApprovalError: the version has no approval request, or an unknown tag value.
    """
    state = approval_state(client, model, version)
    status = state.status.strip().lower()
    if status in ANSWERS:
        return record_answer(
            client,
            storage,
            model,
            version,
            answer=status,
            by=state.by,
            four_eyes=four_eyes,
            context=context,
        )
    if status == "expired":
        return state
    if status != "pending":
        raise ApprovalError(
            f"version {version} of {model!r} has approval={state.status!r}: "
            f"expected pending, approved or rejected"
        )
    moment = now or _now()
    if state.expires_at and moment >= datetime.fromisoformat(state.expires_at):
        return record_answer(
            client,
            storage,
            model,
            version,
            answer="expired",
            by=None,
            reason=f"nobody answered before {state.expires_at}",
            context=context,
        )
    return None
