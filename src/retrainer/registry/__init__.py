"""MLflow registry: connect, register, tag, promote, reject, roll back; the ledger.

The vocabulary (every alias and tag name) is :mod:`retrainer.registry.tags`.
"""

from __future__ import annotations

from retrainer.registry.client import connect, ensure_experiment
from retrainer.registry.ledger import read_ledger, record_event
from retrainer.registry.promotion import AliasChange, mark_rejected, promote
from retrainer.registry.rollback import rollback
from retrainer.registry.tags import CHALLENGER, CHAMPION
from retrainer.registry.versions import champion_version, get_version, set_tags

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
