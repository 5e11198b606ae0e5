"""Append-only record of every alias change: ``ledger/<model>/<time>-<event>.json``.

The registry only knows where aliases point *now*; the ledger answers "which version was
champion at time T, who moved it and why". Entries are never rewritten: each has its own
key derived from its timestamp.

Events that move ``champion``: ``promote``, ``rollback`` and ``manual_change`` (a move made
outside retrainer, e.g. by hand in the MLflow UI, found by :func:`reconcile_champion`).
Other events (``reject``, ``approval_*``, ``claim_takeover``, ``claim_cleared``) explain
the story around them. A move made through a claim is written once, under a key derived
from its claim's time (:func:`record_once`): the move and its recovery after a crash
cannot both add an entry.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.lake import keys
from retrainer.registry.tags import CHAMPION
from retrainer.registry.versions import champion_version

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.storage import Storage

__all__ = [
    "CHAMPION_EVENTS",
    "alias_events",
    "champion_at",
    "read_ledger",
    "reconcile_champion",
    "record_event",
    "record_once",
]

CHAMPION_EVENTS = ("promote", "rollback", "manual_change")


def record_event(storage: Storage, model: str, event: str, payload: dict[str, Any]) -> str:
    """Write one ledger entry and return its key."""
    now = datetime.now(UTC)
    entry = {"model": model, "event": event, "time": now.isoformat(), **payload}
    key = keys.ledger_entry(model, now, event)
    storage.write_json(key, entry)
    return key


def record_once(
    storage: Storage, model: str, event: str, payload: dict[str, Any], *, at: str
) -> str:
    """Write the ledger entry of time ``at`` unless it exists; return its key either way."""
    when = datetime.fromisoformat(at)
    entry = {"model": model, "event": event, "time": when.isoformat(), **payload}
    key = keys.ledger_entry(model, when, event)
    data = json.dumps(entry, indent=2, sort_keys=True, default=str).encode("utf-8")
    storage.create_new(key, data)
    return key


def read_ledger(storage: Storage, model: str) -> list[dict[str, Any]]:
    """Return every ledger entry of a model, oldest first."""
    entries = sorted(k for k in storage.list(keys.ledger(model)) if k.endswith(".json"))
    return [storage.read_json(k) for k in entries]


def alias_events(storage: Storage, model: str) -> list[dict[str, Any]]:
    """The entries that moved ``champion``, oldest first."""
    return [e for e in read_ledger(storage, model) if e.get("event") in CHAMPION_EVENTS]


def champion_at(entries: list[dict[str, Any]], when: datetime) -> dict[str, Any] | None:
    """The entry that made the champion of time ``when`` (None: no champion yet)."""
    moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    current = None
    for entry in entries:
        if entry.get("event") not in CHAMPION_EVENTS:
            continue
        if datetime.fromisoformat(entry["time"]) > moment:
            break
        current = entry
    return current


def reconcile_champion(
    client: MlflowClient,
    storage: Storage,
    model: str,
    *,
    context: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Record a champion move the ledger does not know about (a hand edit in the MLflow UI).

    Call :func:`retrainer.registry.moves.complete_pending` first: a move retrainer made
    but was killed before recording is completed from its claim, not taken for a hand edit.

    Returns the new entry, or None when the registry and the ledger agree.
    """
    current = champion_version(client, model)
    now_v = None if current is None else str(current.version)
    known = alias_events(storage, model)
    ledger_v = str(known[-1]["version"]) if known else None
    if known and known[-1].get("event") == "manual_change" and known[-1].get("version") is None:
        ledger_v = None  # the alias was deleted by hand, and that was recorded
    if now_v == ledger_v:
        return None
    key = record_event(
        storage,
        model,
        "manual_change",
        {
            "version": now_v,
            "previous_version": ledger_v,
            "alias": CHAMPION,
            "reason": "champion alias moved outside retrainer (e.g. by hand in the MLflow UI)"
            if now_v is not None
            else "champion alias removed outside retrainer",
            "actor": "unknown (outside retrainer)",
            **(context or {}),
        },
    )
    return {"key": key, "version": now_v, "previous_version": ledger_v}
