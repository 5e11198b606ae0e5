"""Move ``champion`` back to an earlier version that is fit to serve again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrainer.errors import NoChampion, RegistryError
from retrainer.registry.claims import claim_champion
from retrainer.registry.fitness import signature_mismatch, unfit_for_rollback
from retrainer.registry.ledger import record_event
from retrainer.registry.promotion import AliasChange
from retrainer.registry.safe_load import inspect_version
from retrainer.registry.tags import (
    CHAMPION,
    PREVIOUS_CHAMPION,
    PROMOTED_AT,
    PROMOTED_BY,
    PROMOTION_REASON,
    ROLLBACK_REASON,
    ROLLED_BACK_AT,
)
from retrainer.registry.versions import champion_version, get_version, now_iso, set_tags

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.storage import Storage

__all__ = ["rollback"]


def rollback(
    client: MlflowClient,
    storage: Storage,
    model: str,
    *,
    target_version: str | None,
    reason: str,
    actor: str,
    context: dict[str, Any] | None = None,
) -> AliasChange:
    """Move ``champion`` back to ``target_version`` (default: the previous champion).

    Raises:
        NoChampion: the model has no champion to roll back from.
        RegistryError: no target was given and none is known, the target does not exist,
            is already the champion, was never judged by the gate or failed one of its
            safety rules, or takes other inputs than the champion.
        UnsafeModelError: the target would run code when loaded.
    """
    if not reason or not reason.strip():
        raise RegistryError("a rollback needs a reason")
    current = champion_version(client, model)
    if current is None:
        raise NoChampion(f"{model!r} has no champion to roll back from")
    target = target_version or current.tags.get(PREVIOUS_CHAMPION) or None
    if not target or target == "None":
        raise RegistryError(
            f"champion version {current.version} of {model!r} has no previous champion: "
            "give target_version"
        )
    target_mv = get_version(client, model, target)
    target_v, current_v = str(target_mv.version), str(current.version)
    if target_v == current_v:
        raise RegistryError(f"version {target} of {model!r} is already the champion")
    refusal = unfit_for_rollback(target_mv)
    if refusal:
        raise RegistryError(f"version {target_v} of {model!r} {refusal}")
    inspect_version(client, model, target_v)  # tags can be edited; the MLmodel file decides
    mismatch = signature_mismatch(model, target_v, current_v)
    if mismatch:
        raise RegistryError(
            f"version {target_v} of {model!r} takes other inputs than champion "
            f"{current_v}: {mismatch}"
        )
    claim_champion(storage, model, current_v, target_v, actor=actor, context=context)
    set_tags(
        client,
        model,
        target_v,
        {
            PREVIOUS_CHAMPION: current_v,
            PROMOTED_AT: now_iso(),
            PROMOTED_BY: actor,
            PROMOTION_REASON: f"rollback: {reason}",
        },
    )
    set_tags(client, model, current_v, {ROLLED_BACK_AT: now_iso(), ROLLBACK_REASON: reason})
    client.set_registered_model_alias(model, CHAMPION, target_v)
    key = record_event(
        storage,
        model,
        "rollback",
        {
            "version": target_v,
            "previous_version": current_v,
            "alias": CHAMPION,
            "reason": reason,
            "actor": actor,
            **(context or {}),
        },
    )
    return AliasChange(model, "rollback", target_v, current_v, reason, actor, key)
