"""Move ``champion`` back to an earlier version that is fit to serve again.

A rollback claims the epoch it replaces, like a promotion: of a rollback and a promotion
racing for the same champion, one wins and the other stops with ``ChampionMoved`` or a
claim refusal (:mod:`retrainer.registry.moves`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from retrainer.errors import NoChampion, RegistryError
from retrainer.lake import keys
from retrainer.registry.claims import CLAIM_TTL, take_snapshot
from retrainer.registry.fitness import signature_mismatch, unfit_for_rollback
from retrainer.registry.ledger import CHAMPION_EVENTS
from retrainer.registry.moves import complete_claim, complete_pending, move_champion
from retrainer.registry.promotion import AliasChange
from retrainer.registry.safe_load import inspect_version
from retrainer.registry.tags import (
    PREVIOUS_CHAMPION,
    PROMOTED_AT,
    PROMOTED_BY,
    PROMOTION_REASON,
    ROLLBACK_REASON,
    ROLLED_BACK_AT,
)
from retrainer.registry.versions import get_version, now_iso

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
    stale_after: timedelta = CLAIM_TTL,
) -> AliasChange:
    """Move ``champion`` back to ``target_version`` (default: the previous champion).

    Raises:
        NoChampion: the model has no champion to roll back from.
        ChampionMoved: another move changed the champion while this one was under way.
        RegistryError: no target was given and none is known, the target does not exist,
            is already the champion, was never judged by the gate or failed one of its
            safety rules, or takes other inputs than the champion.
        UnsafeModelError: the target would run code when loaded.
    """
    if not reason or not reason.strip():
        raise RegistryError("a rollback needs a reason")
    # One read of champion and ledger: the checks below and the claim's epoch use it.
    snapshot = take_snapshot(client, storage, model)
    if complete_pending(client, storage, model, snapshot=snapshot):
        snapshot = take_snapshot(client, storage, model)  # a killed move got its entry
    if snapshot.champion is None:
        raise NoChampion(f"{model!r} has no champion to roll back from")
    done = _done_by_this_run(storage, model, snapshot.champion, target_version, context)
    if done is not None:
        return done
    current = get_version(client, model, snapshot.champion)
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
    claim = move_champion(
        client,
        storage,
        snapshot,
        target_v,
        event="rollback",
        actor=actor,
        tags={
            PREVIOUS_CHAMPION: current_v,
            PROMOTED_AT: now_iso(),
            PROMOTED_BY: actor,
            PROMOTION_REASON: f"rollback: {reason}",
        },
        retired_tags={ROLLED_BACK_AT: now_iso(), ROLLBACK_REASON: reason},
        ledger={"reason": reason, **(context or {})},
        context=context,
        stale_after=stale_after,
    )
    key = complete_claim(storage, claim)
    return AliasChange(model, "rollback", target_v, current_v, reason, actor, key)


def _done_by_this_run(
    storage: Storage,
    model: str,
    champion: str,
    target_version: str | None,
    context: dict[str, Any] | None,
) -> AliasChange | None:
    """This Airflow run's rollback, if it is the last champion move and still stands.

    A retried (or cleared) rollback task whose first attempt moved the alias must not
    roll back again: by default it would go to the new champion's previous one, the very
    version it rolled back from. Without an Airflow run id every rollback is a new one.
    """
    run_id = (context or {}).get("airflow_run_id")
    if not run_id:
        return None
    for key in sorted(
        (k for k in storage.list(keys.ledger(model)) if k.endswith(".json")), reverse=True
    ):
        entry = storage.read_json(key)
        if entry.get("event") not in CHAMPION_EVENTS:
            continue
        ours = entry.get("event") == "rollback" and entry.get("airflow_run_id") == run_id
        if not ours or str(entry.get("version")) != champion:
            return None
        if target_version is not None and str(target_version) != champion:
            return None
        return AliasChange(
            model,
            "rollback",
            champion,
            entry.get("previous_version"),
            str(entry.get("reason") or ""),
            str(entry.get("actor")),
            key,
        )
    return None
