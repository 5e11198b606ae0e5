"""The traffic share of a canary: one version tag the serving side reads.

A version that is not the champion takes a share of live traffic while it carries the tag
:data:`~retrainer.registry.tags.TRAFFIC_SHARE` (a number in (0, 1)); the champion serves
the rest. Setting and clearing the share is the only way retrainer changes it, and each
change is written to the ledger (events ``canary_start`` and ``canary_stop``) with who and
why, so "who sent 10% of traffic to version 4, and when" has an answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrainer.errors import RegistryError
from retrainer.registry.ledger import record_event
from retrainer.registry.tags import TRAFFIC_SHARE, TRAFFIC_SINCE
from retrainer.registry.versions import champion_version, get_version, now_iso, set_tags

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.storage import Storage

__all__ = ["canary_shares", "set_traffic_share", "stop_traffic"]


def canary_shares(client: MlflowClient, model: str) -> dict[str, float]:
    """Every version of ``model`` that holds a traffic share, and its share."""
    shares: dict[str, float] = {}
    for mv in client.search_model_versions(f"name = '{model}'"):
        value = (mv.tags or {}).get(TRAFFIC_SHARE)
        if value:
            shares[str(mv.version)] = float(value)
    return shares


def set_traffic_share(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    share: float,
    *,
    actor: str,
    reason: str,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Give ``version`` a share of live traffic and record who did it and why.

    Raises:
        RegistryError: the share is not strictly between 0 and 1, the version does not
            exist, or it is the champion (which serves whatever the canaries do not).
    """
    if not 0.0 < share < 1.0:
        raise RegistryError(f"traffic share must be between 0 and 1 (exclusive), got {share}")
    mv = get_version(client, model, version)
    champion = champion_version(client, model)
    if champion is not None and str(champion.version) == str(mv.version):
        raise RegistryError(
            f"version {version} of {model!r} is the champion: it serves the traffic no "
            "canary takes, so it cannot be given a share"
        )
    previous = (mv.tags or {}).get(TRAFFIC_SHARE) or None
    since = now_iso()
    set_tags(client, model, str(mv.version), {TRAFFIC_SHARE: share, TRAFFIC_SINCE: since})
    payload = {
        "version": str(mv.version),
        "share": share,
        "previous_share": None if previous is None else float(previous),
        "champion_version": None if champion is None else str(champion.version),
        "reason": reason,
        "actor": actor,
        **(context or {}),
    }
    payload["ledger_key"] = record_event(storage, model, "canary_start", payload)
    return payload


def stop_traffic(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    *,
    actor: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Take ``version``'s traffic share away (the tag is deleted) and record why.

    Raises:
        RegistryError: the version does not exist or holds no share.
    """
    mv = get_version(client, model, version)
    previous = (mv.tags or {}).get(TRAFFIC_SHARE) or None
    if previous is None:
        raise RegistryError(f"version {version} of {model!r} holds no traffic share")
    client.delete_model_version_tag(model, str(mv.version), TRAFFIC_SHARE)
    payload: dict[str, Any] = {
        "version": str(mv.version),
        "share": 0.0,
        "previous_share": float(previous),
        "since": (mv.tags or {}).get(TRAFFIC_SINCE),
        "reason": reason,
        "actor": actor,
        **({"evidence": evidence} if evidence else {}),
        **(context or {}),
    }
    payload["ledger_key"] = record_event(storage, model, "canary_stop", payload)
    return payload
