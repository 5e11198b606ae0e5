"""Gather a batch's signals from the lake and the registry, apply the trigger policy, record it.

Writes ``reports/<model>/<batch>/trigger.json`` (the decision record that ``retrainer
status`` and the Airflow Models page read); a rerun overwrites the same key.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.errors import ObjectNotFound
from retrainer.monitoring.trigger import (
    BatchSignals,
    RetrainRecord,
    TriggerDecision,
    decide_trigger,
)
from retrainer.registry.errors import is_missing
from retrainer.registry.tags import DATA_WINDOW, HOLDOUT_METRIC_PREFIX, TRIGGER

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage

__all__ = [
    "baseline_metrics",
    "decide_batch",
    "flagged_batches",
    "gather_signals",
    "previous_signals",
    "retrain_history",
    "trigger_key",
]

log = logging.getLogger(__name__)


def trigger_key(model: str, batch_id: str) -> str:
    return f"reports/{model}/{batch_id}/trigger.json"


def _read(storage: Storage, key: str) -> dict[str, Any] | None:
    return storage.read_json(key) if storage.exists(key) else None


def _floats(metrics: dict[str, Any] | None) -> dict[str, float]:
    # "rows" rides along with metric dicts: it is a count, not a metric.
    return {
        k: float(v)
        for k, v in (metrics or {}).items()
        if k != "rows" and isinstance(v, int | float) and not isinstance(v, bool)
    }


def baseline_metrics(client: MlflowClient, model: str, version: str | None) -> dict[str, float]:
    """The champion's holdout metrics at training (its ``retrainer.holdout_*`` tags)."""
    if version is None:
        return {}
    tags = client.get_model_version(model, version).tags
    out: dict[str, float] = {}
    for key, value in tags.items():
        name = key.removeprefix(HOLDOUT_METRIC_PREFIX)
        if name == key or name in {"key", "rows"}:
            continue
        try:
            out[name] = float(value)
        except ValueError:
            continue
    return out


def gather_signals(
    storage: Storage, client: MlflowClient, config: ModelConfig, batch_id: str
) -> BatchSignals:
    """Everything the policy needs about one batch.

    ``performance.json`` (realized, estimated and baseline metrics from the performance
    monitor) wins when present; otherwise ``monitor.json`` (drift, and realized metrics
    when the batch carries its labels) and the champion's tags give the same fields.

    Raises:
        ObjectNotFound: the batch was never checked (no ``monitor.json``).
    """
    prefix = f"reports/{config.name}/{batch_id}"
    monitor = _read(storage, f"{prefix}/monitor.json")
    if monitor is None:
        raise ObjectNotFound(
            f"batch {batch_id!r} of {config.name!r} has no {prefix}/monitor.json: "
            "check_batch must run before the trigger decision"
        )
    performance = _read(storage, f"{prefix}/performance.json") or {}
    meta = _read(storage, f"batches/{config.name}/{batch_id}/meta.json") or {}
    version = performance.get("champion_version") or monitor.get("champion_version")
    # performance.json is the one source of performance once it exists: its empty
    # "realized" means "no labels joined yet", not "look elsewhere".
    source = performance if performance else monitor
    realized = _floats(source.get("realized"))
    baseline = _floats(performance.get("baseline")) or baseline_metrics(
        client, config.name, version
    )
    rows = int(performance.get("rows") or meta.get("rows") or 0)
    labelled = performance.get("labelled_rows")
    if labelled is None:
        labelled = (monitor.get("realized") or {}).get("rows") or meta.get("labelled_rows") or 0
    return BatchSignals(
        batch_id=batch_id,
        champion_version=None if version is None else str(version),
        rows=rows,
        labelled_rows=int(labelled),
        drift=bool(monitor.get("drift")),
        drift_score=monitor.get("drift_score"),
        realized=realized,
        estimated=_floats(performance.get("estimated")),
        baseline=baseline,
        estimate_broken=bool(performance.get("estimate_broken", False)),
        batch_time=meta.get("end"),
    )


def _batch_order(storage: Storage, model: str) -> list[str]:
    from retrainer.training.window import accepted_batches

    return [m["batch_id"] for m in accepted_batches(storage, model)]


def previous_signals(storage: Storage, model: str, batch_id: str) -> list[BatchSignals]:
    """Signals recorded by earlier decisions, oldest batch first (for M of N)."""
    order = _batch_order(storage, model)
    earlier = order[: order.index(batch_id)] if batch_id in order else order
    out = []
    for other in earlier:
        record = _read(storage, trigger_key(model, other))
        if record is not None:
            out.append(BatchSignals.from_dict({"batch_id": other, **record["signals"]}))
    return out


def _window_end(tags: dict[str, str]) -> datetime | None:
    window = tags.get(DATA_WINDOW, "")
    end = window.partition("..")[2]
    if not end or end == "None":
        return None
    moment = datetime.fromisoformat(end)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def retrain_history(client: MlflowClient, model: str, clock: str = "data") -> list[RetrainRecord]:
    """Every registered version with the trigger that started it and when.

    With the data clock a retrain happened at the end of its training window (the newest
    data it saw); with the wall clock, when the version was registered.
    """
    try:
        versions = client.search_model_versions(f"name = '{model}'")
    except Exception as exc:
        if is_missing(exc):
            return []
        raise
    records = []
    for mv in versions:
        at = _window_end(mv.tags) if clock == "data" else None
        if at is None:
            at = datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=UTC)
        records.append(RetrainRecord(str(mv.version), mv.tags.get(TRIGGER, "?"), at))
    return sorted(records, key=lambda r: r.at)


def flagged_batches(storage: Storage, model: str) -> list[str]:
    """Batches whose decision found a breach (decay or drift), oldest first."""
    out = []
    for batch_id in _batch_order(storage, model):
        record = _read(storage, trigger_key(model, batch_id))
        # The policy's own view: drift it was told to ignore is no break.
        breach = (record or {}).get("breach") or {}
        if breach.get("decay") or breach.get("drift"):
            out.append(batch_id)
    return out


def decide_batch(
    client: MlflowClient,
    storage: Storage,
    config: ModelConfig,
    batch_id: str,
    *,
    now: datetime | None = None,
) -> TriggerDecision:
    """Apply the model's trigger policy to one checked batch and write ``trigger.json``."""
    policy = config.trigger
    decision = decide_trigger(
        config.name,
        gather_signals(storage, client, config, batch_id),
        previous_signals(storage, config.name, batch_id),
        retrain_history(client, config.name, policy.clock),
        policy,
        config.trigger_metric,
        now=now,
    )
    storage.write_json(trigger_key(config.name, batch_id), decision.to_dict())
    log.info("%s", decision.explain())
    return decision
