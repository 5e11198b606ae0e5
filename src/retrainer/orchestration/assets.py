"""The Assets a model's DAGs produce and consume: ``retrainer://<model>/<event>``."""

from __future__ import annotations

from airflow.sdk import Asset

__all__ = ["model_asset"]

EVENTS = ("incoming", "labels", "drift", "decay", "champion")


def model_asset(model: str, event: str) -> Asset:
    """Return the Asset for one event of one model (e.g. ``retrainer://rainfall/drift``)."""
    if event not in EVENTS:
        raise ValueError(f"unknown asset event {event!r}; expected one of {EVENTS}")
    return Asset(name=f"{model}_{event}", uri=f"retrainer://{model}/{event}", group="retrainer")
