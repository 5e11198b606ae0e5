"""Human approval of a gated challenger, recorded on its version tags and in the ledger.

The request is the version tag ``approval`` (no namespace: it is the tag a person edits in
the MLflow UI) set to ``pending``; a person answers ``approved`` or ``rejected``, and may
add ``approved_by`` with their name. An Airflow HITL answer is recorded the same way, with
the responding user Airflow knows. Unanswered requests expire.

Every answer records who gave it and how that was established (:data:`AIRFLOW_LOGIN`:
Airflow's logged-in user; :data:`MLFLOW_TAG`: a tag anyone with EDIT can write).

Four eyes fails closed: an approval whose approver is unknown or anonymous, or is the
person who triggered the run, is recorded as a rejection saying why. A rejection or an
expiry, once recorded, stands; a recorded approval that the same answer would not give
again (a tag edited by hand) is replaced by what the answer gives.
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
    APPROVAL_IDENTITY,
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
    "AIRFLOW_LOGIN",
    "MLFLOW_TAG",
    "ApprovalState",
    "approval_state",
    "check_approval",
    "record_answer",
    "request_approval",
]

ANSWERS = ("approved", "rejected")
# Identities that say nothing about a person (Airflow's default for scheduled runs, etc.).
_ANONYMOUS = {"", "airflow", "retrainer", "unknown", "none", "null", "anonymous"}
# How the approver's identity was established, recorded with every answer.
AIRFLOW_LOGIN = "airflow-login"  # the user Airflow authenticated when they answered
MLFLOW_TAG = "mlflow-tag (unverified)"  # the approved_by tag: anyone with EDIT can set it


@dataclass(frozen=True)
class ApprovalState:
    status: str  # pending | approved | rejected | expired | none
    by: str | None
    at: str | None
    requested_by: str | None
    expires_at: str | None
    reason: str = ""
    identity: str = ""  # how ``by`` was established: AIRFLOW_LOGIN, MLFLOW_TAG, or ""

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
        identity=tags.get(APPROVAL_IDENTITY, ""),
    )


def _four_eyes_refusal(by: str | None, requested_by: str | None, identity: str) -> str:
    """Why four eyes refuses this approval, or "" when it holds."""
    if by is None or not _known(by):
        return (
            f"no known approver ({identity or 'no identity'} gave {by or ''!r}): four eyes "
            f"needs the approver's identity, so this approval counts as a rejection"
        )
    if _known(requested_by) and by.strip().lower() == str(requested_by).strip().lower():
        return f"{by} triggered this run and cannot also approve it"
    return ""


def record_answer(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    *,
    answer: str,
    by: str | None,
    identity: str,
    requested_by: str | None,
    four_eyes: bool = True,
    reason: str = "",
    context: dict[str, Any] | None = None,
) -> ApprovalState:
    """Record an answer (approved / rejected / expired) with who, how we know, and when.

    ``requested_by`` is who triggered the run as the caller knows it (Airflow's record,
    not a tag); None or anonymous (a scheduled or asset-triggered run) excludes nobody.
    With ``four_eyes`` an approval by an unknown or anonymous approver, or by the
    requester, is recorded as a rejection. Recording the same answer twice changes nothing.
    """
    state = approval_state(client, model, version)
    if state.status in ("rejected", "expired") and state.at:
        return state  # a refusal stands (and a retried task changes nothing)
    if answer == "approved" and four_eyes:
        refusal = _four_eyes_refusal(by, requested_by, identity)
        if refusal:
            answer, reason = "rejected", refusal
    if state.status == answer == "approved" and state.at and state.by == by:
        return state  # already recorded (a retried task)
    at = _now().isoformat(timespec="seconds")
    set_tags(
        client,
        model,
        version,
        {
            APPROVAL_BY: by or "unknown",
            APPROVAL_IDENTITY: identity,
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
            "identity": identity,
            "requested_by": requested_by,
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
    requested_by: str | None,
    four_eyes: bool = True,
    now: datetime | None = None,
    context: dict[str, Any] | None = None,
) -> ApprovalState | None:
    """One poke of the MLflow-tag approval: the answer, or None while still pending.

    The approver is whatever the tags say (:data:`MLFLOW_TAG`): with ``four_eyes`` a
    missing ``approved_by`` makes the approval a rejection. A pending request past its
    expiry is marked ``expired`` (tag and ledger).

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
            identity=MLFLOW_TAG,
            requested_by=requested_by,
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
            identity="",
            requested_by=requested_by,
            reason=f"nobody answered before {state.expires_at}",
            context=context,
        )
    return None
