"""Gather a batch's signals from the lake and the registry, apply the trigger policy, record it.

Writes ``reports/<model>/<batch>/trigger.json`` (the decision record that ``retrainer
status`` and the Airflow Models page read); a rerun overwrites the same key.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.errors import ObjectNotFound
from retrainer.lake import (
    accepted_batches,
    keys,
    read_meta,
    read_monitor,
    read_performance,
    read_trigger,
    write_trigger,
)
from retrainer.monitoring.trigger import (
    BatchSignals,
    PastRetrain,
    TriggerDecision,
    decide_trigger,
)
from retrainer.registry.tags import DATA_WINDOW, HOLDOUT_METRIC_PREFIX, TRIGGER
from retrainer.registry.versions import model_versions

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
]

log = logging.getLogger(__name__)


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
    monitor = read_monitor(storage, config.name, batch_id)
    if monitor is None:
        raise ObjectNotFound(
            f"batch {batch_id!r} of {config.name!r} has no "
            f"{keys.report(config.name, batch_id, keys.MONITOR)}: "
            "check_batch must run before the trigger decision"
        )
    performance = read_performance(storage, config.name, batch_id)
    meta = read_meta(storage, config.name, batch_id)
    version = (performance and performance.champion_version) or monitor.champion_version
    # performance.json is the one source of performance once it exists: its empty
    # "realized" means "no labels joined yet", not "look elsewhere".
    realized = _floats(performance.realized if performance else monitor.realized)
    baseline = _floats(performance.baseline if performance else None) or baseline_metrics(
        client, config.name, version
    )
    rows = int((performance and performance.rows) or (meta and meta.rows) or 0)
    if performance is not None:
        labelled = performance.labelled_rows
    else:
        inline = (monitor.realized or {}).get("rows")
        labelled = int(inline or (meta.labelled_rows if meta else 0) or 0)
    return BatchSignals(
        batch_id=batch_id,
        champion_version=None if version is None else str(version),
        rows=rows,
        labelled_rows=int(labelled),
        drift=bool(monitor.drift),
        drift_score=monitor.drift_score,
        realized=realized,
        estimated=_floats(performance.estimated if performance else None),
        baseline=baseline,
        estimate_broken=bool(performance and performance.estimate_broken),
        batch_time=meta.end if meta else None,
    )


def _batch_order(storage: Storage, model: str) -> list[str]:
    return [m.batch_id for m in accepted_batches(storage, model)]


def previous_signals(storage: Storage, model: str, batch_id: str) -> list[BatchSignals]:
    """Signals recorded by earlier decisions, oldest batch first (for M of N)."""
    order = _batch_order(storage, model)
    earlier = order[: order.index(batch_id)] if batch_id in order else order
    out = []
    for other in earlier:
        record = read_trigger(storage, model, other)
        if record is not None:
            out.append(BatchSignals.from_dict({"batch_id": other, **record.signals}))
    return out


def _window_end(tags: dict[str, str]) -> datetime | None:
    window = tags.get(DATA_WINDOW, "")
    end = window.partition("..")[2]
    if not end or end == "None":
        return None
    moment = datetime.fromisoformat(end)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def retrain_history(client: MlflowClient, model: str, clock: str = "data") -> list[PastRetrain]:
    """Every registered version with the trigger that started it and when.

    With the data clock a retrain happened at the end of its training window (the newest
    data it saw); with the wall clock, when the version was registered.
    """
    versions = model_versions(client, model)
    records = []
    for mv in versions:
        at = _window_end(mv.tags) if clock == "data" else None
        if at is None:
            at = datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=UTC)
        records.append(PastRetrain(str(mv.version), mv.tags.get(TRIGGER, "?"), at))
    return sorted(records, key=lambda r: r.at)


def flagged_batches(storage: Storage, model: str) -> list[str]:
    """Batches whose decision found a breach (decay or drift), oldest first."""
    out = []
    for batch_id in _batch_order(storage, model):
        record = read_trigger(storage, model, batch_id)
        # The policy's own view: drift it was told to ignore is no break.
        breach = (record.breach if record is not None else None) or {}
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
    write_trigger(storage, decision)
    log.info("%s", decision.explain())
    return decision
