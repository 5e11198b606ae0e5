"""Move ``champion`` so that a kill at any instant is finished exactly once by the retry.

Every move (a promotion, a rollback) goes: snapshot (champion + ledger, read once) →
claim the snapshot's epoch with the move's intent → re-read the alias (a move that won
meanwhile stops this one) → tags → alias → ledger entry written from the claim. The claim
is written first and the ledger entry last; :func:`complete_pending` finds a claim whose
alias moved but whose ledger entry is missing and writes that entry, once.

A move that fails between claim and alias releases its claim, so the next candidate is
not blocked by it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from retrainer.errors import ChampionMoved, RegistryError, StaleClaim
from retrainer.lake import keys
from retrainer.registry.claims import (
    CLAIM_TTL,
    Claim,
    Snapshot,
    claim_chain,
    claim_champion,
    is_released,
    read_claim,
    release_claim,
)
from retrainer.registry.ledger import alias_events, read_ledger, record_once
from retrainer.registry.tags import CHAMPION
from retrainer.registry.versions import champion_version, set_tags

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.storage import Storage

__all__ = ["complete_claim", "complete_pending", "move_champion", "pending_claims"]

log = logging.getLogger(__name__)


def move_champion(
    client: MlflowClient,
    storage: Storage,
    snapshot: Snapshot,
    version: str,
    *,
    event: str,
    actor: str,
    tags: dict[str, Any],
    retired_tags: dict[str, Any] | None = None,
    ledger: dict[str, Any],
    context: dict[str, Any] | None = None,
    stale_after: timedelta = CLAIM_TTL,
) -> Claim:
    """Claim the snapshot's epoch, tag, and point ``champion`` at ``version``.

    The ledger entry is the caller's last step (:func:`complete_claim`).

    Raises:
        ChampionMoved: the champion is no longer the snapshot's (a rollback or another
            promotion won); nothing moved.
        StaleClaim, RegistryError: the epoch is claimed (see ``claim_champion``).
    """
    model = snapshot.model
    claim = claim_champion(
        storage,
        snapshot,
        version,
        event=event,
        actor=actor,
        ledger=ledger,
        context=context,
        stale_after=stale_after,
    )
    try:
        now = champion_version(client, model)
        now_v = None if now is None else str(now.version)
        if now_v != snapshot.champion:
            raise ChampionMoved(
                f"champion of {model!r} moved from v{snapshot.champion} to v{now_v} while "
                f"v{version} was being {event}d (a rollback or another promotion won): "
                f"v{version} is not moved; re-run the evaluation against the new champion"
            )
        set_tags(client, model, version, tags)
        if retired_tags and snapshot.champion is not None:
            set_tags(client, model, snapshot.champion, retired_tags)
        _check_still_held(storage, claim)
        client.set_registered_model_alias(model, CHAMPION, version)
    except BaseException as exc:
        _give_up(storage, claim, exc)
        raise
    return claim


def _check_still_held(storage: Storage, claim: Claim) -> None:
    chain = claim_chain(storage, claim.model, claim.epoch)
    if (chain and chain[-1] != claim.key) or is_released(storage, claim.key):
        raise RegistryError(
            f"the claim {claim.key} of v{claim.version} was taken over or cleared while the "
            f"move was under way: v{claim.version} is not moved"
        )


def _give_up(storage: Storage, claim: Claim, exc: BaseException) -> None:
    """Release the claim of a move that failed before (or while) moving the alias.

    Safe even if the alias did move: a takeover needs the champion to still be the one
    the claim replaces, and :func:`complete_pending` finishes a move whatever the marker.
    """
    try:
        release_claim(storage, claim.key, reason=f"move failed: {exc}"[:500], actor=claim.actor)
    except Exception as release_exc:  # the lake may be what failed: say so, keep the cause
        log.warning("could not release claim %s after %s: %s", claim.key, exc, release_exc)


def complete_claim(storage: Storage, claim: Claim, *, recovered_by: str | None = None) -> str:
    """Write the claim's ledger entry (exactly once, whoever calls); return its key."""
    payload = {
        "version": claim.version,
        "previous_version": claim.replaces,
        "alias": CHAMPION,
        "actor": claim.actor,
        **claim.ledger,
    }
    if recovered_by:
        payload["recovered_by"] = recovered_by
    return record_once(storage, claim.model, claim.event or "promote", payload, at=claim.time)


def pending_claims(storage: Storage, model: str) -> list[Claim]:
    """Readable claims with no ledger entry yet, oldest first (malformed ones are skipped)."""
    recorded = {str(e.get("claim")) for e in read_ledger(storage, model) if e.get("claim")}
    found = []
    for key in storage.list(keys.claims(model)):
        if not key.endswith(".json") or key in recorded:
            continue
        try:
            found.append(read_claim(storage, key))
        except StaleClaim:
            continue  # retrainer doctor reports and clears these
    return sorted(found, key=lambda c: c.time)


def complete_pending(
    client: MlflowClient,
    storage: Storage,
    model: str,
    *,
    snapshot: Snapshot | None = None,
    by: str = "retrainer (recovery)",
) -> list[dict[str, Any]]:
    """Record the move retrainer made but was killed before recording; [] when none.

    The champion alias points at a claim's version, the ledger's last champion is the one
    that claim replaces, and the claim has no ledger entry: that is retrainer's own move,
    completed from its intent (and never a ``manual_change``). ``snapshot`` saves the
    alias read when the caller has just made it.
    """
    if snapshot is None:
        current = champion_version(client, model)
        now_v = None if current is None else str(current.version)
    else:
        now_v = snapshot.champion
    if now_v is None:
        return []
    known = alias_events(storage, model)
    ledger_v = str(known[-1]["version"]) if known and known[-1].get("version") else None
    if now_v == ledger_v:
        return []
    # A move claims the epoch it found, so the missing one is in the ledger's last epoch.
    epoch = Snapshot(model, ledger_v, len(known)).epoch
    for key in reversed(claim_chain(storage, model, epoch)):
        try:
            claim = read_claim(storage, key)
        except StaleClaim:
            continue  # written before its content: that move never reached the alias
        if claim.version != now_v or claim.replaces != ledger_v:
            continue
        entry = complete_claim(storage, claim, recovered_by=by)
        log.warning(
            "%s: v%s became champion by %s (%s) but its ledger entry was missing: "
            "completed from claim %s as %s",
            model,
            now_v,
            claim.actor,
            claim.event,
            claim.key,
            entry,
        )
        return [
            {
                "key": entry,
                "event": claim.event or "promote",
                "version": claim.version,
                "previous_version": claim.replaces,
                "actor": claim.actor,
                **claim.ledger,
            }
        ]
    return []
