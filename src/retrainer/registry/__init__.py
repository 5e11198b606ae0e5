"""MLflow registry: connect, register, tag, promote, reject, roll back; the ledger."""

from __future__ import annotations

from retrainer.registry.aliases import (
    CHALLENGER,
    CHAMPION,
    AliasChange,
    champion_version,
    get_version,
    mark_rejected,
    promote,
    rollback,
    set_tags,
)
from retrainer.registry.client import connect, ensure_experiment
from retrainer.registry.ledger import read_ledger, record_event

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "AliasChange",
    "champion_version",
    "connect",
    "ensure_experiment",
    "get_version",
    "mark_rejected",
    "promote",
    "read_ledger",
    "record_event",
    "rollback",
    "set_tags",
]
