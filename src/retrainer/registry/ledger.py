"""Append-only record of every alias change: ``ledger/<model>/<time>-<event>.json``.

The registry only knows where aliases point *now*; the ledger answers "which version was
champion at time T, who moved it and why". Entries are never rewritten: each has its own
key derived from its timestamp.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrainer.storage import Storage

__all__ = ["read_ledger", "record_event"]


def record_event(storage: Storage, model: str, event: str, payload: dict[str, Any]) -> str:
    """Write one ledger entry and return its key."""
    now = datetime.now(UTC)
    entry = {"model": model, "event": event, "time": now.isoformat(), **payload}
    key = f"ledger/{model}/{now:%Y%m%dT%H%M%S%fZ}-{event}.json"
    storage.write_json(key, entry)
    return key


def read_ledger(storage: Storage, model: str) -> list[dict[str, Any]]:
    """Return every ledger entry of a model, oldest first."""
    keys = sorted(k for k in storage.list(f"ledger/{model}/") if k.endswith(".json"))
    return [storage.read_json(k) for k in keys]
