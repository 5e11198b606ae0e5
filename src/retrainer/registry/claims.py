"""Claim the right to replace a champion: exactly one of two racing alias moves wins.

MLflow has no conditional alias update, so two promotions that both passed the
compare-and-set read could both move the alias (a lost update). Each champion *epoch*
(its version and the number of alias changes so far) can be claimed once, with an atomic
create in the lake; the loser stops. A retried task finds its own claim.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from retrainer.errors import RegistryError
from retrainer.lake import keys
from retrainer.registry.ledger import alias_events
from retrainer.registry.versions import now_iso

if TYPE_CHECKING:
    from retrainer.storage import Storage

__all__ = ["claim_champion"]


def claim_champion(
    storage: Storage,
    model: str,
    current: str | None,
    version: str,
    *,
    actor: str,
    context: dict[str, Any] | None = None,
) -> str:
    """Claim the replacement of champion ``current`` by ``version``; return the claim's key.

    Raises:
        RegistryError: another version claimed this epoch first.
    """
    epoch = f"{current or 'none'}-{len(alias_events(storage, model))}"
    key = keys.champion_claim(model, epoch)
    claim = {
        "model": model,
        "version": str(version),
        "replaces": current,
        "actor": actor,
        "time": now_iso(),
        "airflow_run_id": (context or {}).get("airflow_run_id"),
    }
    if storage.create_new(key, json.dumps(claim, indent=2).encode("utf-8")):
        return key
    holder = storage.read_json(key)
    if str(holder.get("version")) == str(version):
        return key  # our own claim: a retry after a crash between claim and alias move
    raise RegistryError(
        f"version {holder.get('version')} of {model!r} already claimed the replacement of "
        f"champion {current} (by {holder.get('actor')} at {holder.get('time')}): "
        f"version {version} is not promoted; re-run the evaluation against the new champion"
    )
