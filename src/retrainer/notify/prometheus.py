"""Prometheus metrics of a model's latest batch and of task durations, for a Pushgateway.

Pushgateway keeps the last push of each *group* (job + grouping key) until it is replaced
or deleted, and Prometheus scrapes it with ``honor_labels: true``. So:

- batch metrics go to one group per model (job ``retrainer_batch``, key ``model``), pushed
  with PUT: the latest batch's values replace the previous batch's as a whole, and a
  label that no longer applies (last batch's top feature) disappears instead of going stale;
- the batch id is a label of ``retrainer_batch_info`` only: a ``batch`` label on every
  value would make a new series per batch in Prometheus and break every graph line;
- validation counts are recomputed from the lake (listing, no reads), so they are true
  totals that a rerun does not double-count, something a pushed counter cannot be;
- each task's duration goes to its own group (job ``retrainer_task``, key model/dag/task),
  so tasks never overwrite each other.

The records are read from the lake (``reports/<m>/<batch>/monitor.json``, ``drift.json``,
``performance.json``, ``trigger.json``; ``batches/`` and ``quarantine/`` for validation):
the publisher does not depend on the tasks that wrote them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retrainer.lake import (
    DriftRecord,
    MonitorRecord,
    PerformanceRecord,
    TriggerRecord,
    accepted_ids,
    keys,
    quarantined_ids,
    read_drift,
    read_meta,
    read_monitor,
    read_performance,
    read_trigger,
)

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = [
    "BATCH_JOB",
    "METRICS",
    "TASK_JOB",
    "VALIDATION_STATUSES",
    "BatchRecords",
    "batch_registry",
    "gateway_of",
    "push_batch_metrics",
    "push_task_duration",
    "read_batch_records",
    "validation_counts",
]

log = logging.getLogger(__name__)

BATCH_JOB = "retrainer_batch"
TASK_JOB = "retrainer_task"
VALIDATION_STATUSES = ("accepted", "rows_quarantined", "blocked")
TRIGGER_DECISIONS = ("retrain", "none", "suppressed")

# name -> (labels beyond `model`, help). The README table is written from this inventory.
METRICS: dict[str, tuple[tuple[str, ...], str]] = {
    "retrainer_batch_info": (("batch", "champion_version"), "Latest published batch (value 1)"),
    "retrainer_batch_published_timestamp_seconds": ((), "When the latest batch was published"),
    "retrainer_drift_detected": ((), "1 if the latest batch drifted, else 0"),
    "retrainer_drift_score": ((), "Importance-weighted share of drifted features"),
    "retrainer_drift_share": ((), "Share of features that drifted (unweighted)"),
    "retrainer_drifted_features": ((), "Number of drifted features"),
    "retrainer_drift_top_effect": (("feature", "statistic"), "Largest per-feature drift statistic"),
    "retrainer_drift_top_effect_ratio": (
        ("feature", "statistic"),
        "That statistic divided by its threshold (>1 drifted)",
    ),
    "retrainer_performance_realized": (("metric",), "Realized performance on labelled rows"),
    "retrainer_performance_estimated": (("metric",), "Label-free estimated performance"),
    "retrainer_performance_baseline": (("metric",), "Baseline the performance is judged against"),
    "retrainer_performance_estimate_broken": ((), "1 if the estimator flagged itself unreliable"),
    "retrainer_validation_status": (("status",), "Latest batch's validation outcome (one-hot)"),
    "retrainer_validation_rows": ((), "Rows in the latest batch"),
    "retrainer_validation_quarantined_rows": ((), "Rows of the latest batch quarantined"),
    "retrainer_validation_batches": (("status",), "Batches per validation outcome (all time)"),
    "retrainer_trigger_decision": (("decision",), "Latest trigger decision (one-hot)"),
    "retrainer_trigger_event": (("event",), "Event the latest decision raised (one-hot)"),
    "retrainer_champion_version": ((), "Champion version that scored the latest batch"),
    "retrainer_task_duration_seconds": (("dag", "task"), "Duration of the task's latest try"),
    "retrainer_task_failed": (("dag", "task"), "1 if the task's latest try failed"),
}


_off_logged = False


def gateway_of(settings: Settings) -> str | None:
    """The Pushgateway URL, or None (metrics off, said once per process, not per task)."""
    global _off_logged
    if settings.pushgateway_url:
        return settings.pushgateway_url
    if not _off_logged:
        log.info("pushgateway_url is not set: Prometheus metrics are off")
        _off_logged = True
    return None


@dataclass(frozen=True)
class BatchRecords:
    """What the lake holds about one batch of one model; absent records are ``None``."""

    model: str
    batch_id: str
    validation: dict[str, Any]
    validation_counts: dict[str, int]
    monitor: MonitorRecord | None = None
    drift: DriftRecord | None = None
    performance: PerformanceRecord | None = None
    trigger: TriggerRecord | None = None
    published_at: float = field(default_factory=time.time)


def validation_counts(storage: Storage, model: str) -> dict[str, int]:
    """Batches per outcome, from key listings only (no reads).

    Accepted batches have ``batches/<m>/<b>/meta.json``; blocked ones only a quarantine
    folder; partly quarantined ones both, with ``rows.parquet`` in the quarantine folder.
    """
    accepted = accepted_ids(storage, model)
    quarantined, with_rows = quarantined_ids(storage, model)
    partly = accepted & with_rows
    return {
        "accepted": len(accepted - partly),
        "rows_quarantined": len(partly),
        "blocked": len(quarantined - accepted),
    }


def _validation(storage: Storage, model: str, batch_id: str) -> dict[str, Any]:
    meta = read_meta(storage, model, batch_id)
    prefix = keys.quarantine(model, batch_id)
    result_key = f"{prefix}/{keys.VALIDATION_RESULT}"
    result = storage.read_json(result_key) if storage.exists(result_key) else None
    evidence = (result or {}).get("retrainer") or {}
    if meta is not None:
        quarantined = (
            int(evidence.get("quarantined_rows") or 0)
            if storage.exists(f"{prefix}/{keys.QUARANTINED_ROWS}")
            else 0
        )
        return {
            "status": "rows_quarantined" if quarantined else "accepted",
            "rows": meta.rows + quarantined,
            "quarantined_rows": quarantined,
        }
    # Blocked: the whole batch is in quarantine (or it was never landed, which the
    # validation task also counts as blocked).
    rows = int(evidence.get("rows") or evidence.get("row_count") or 0)
    return {"status": "blocked", "rows": rows, "quarantined_rows": rows}


def read_batch_records(storage: Storage, model: str, batch_id: str) -> BatchRecords:
    """Collect the per-batch records the monitor DAG wrote (any of them may be missing)."""
    return BatchRecords(
        model=model,
        batch_id=batch_id,
        validation=_validation(storage, model, batch_id),
        validation_counts=validation_counts(storage, model),
        monitor=read_monitor(storage, model, batch_id),
        drift=read_drift(storage, model, batch_id),
        performance=read_performance(storage, model, batch_id),
        trigger=read_trigger(storage, model, batch_id),
    )


def _top_effect(records: BatchRecords) -> dict[str, Any] | None:
    """The feature with the largest statistic relative to its threshold."""
    features = (records.drift and records.drift.features) or (
        records.monitor and records.monitor.drift_evidence
    )
    best: tuple[float, dict[str, Any]] | None = None
    for item in features or []:
        value, threshold = item.get("value"), item.get("threshold")
        if value is None:
            continue
        ratio = float(value) / float(threshold) if threshold else float(value)
        if best is None or ratio > best[0]:
            best = (ratio, item | {"ratio": ratio})
    return None if best is None else best[1]


def batch_registry(records: BatchRecords) -> CollectorRegistry:
    """A fresh registry holding the batch metrics of one model (see :data:`METRICS`)."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    gauges: dict[str, Gauge] = {}

    def gauge(name: str, value: float, **labels: Any) -> None:
        extra, help_text = METRICS[name]
        if name not in gauges:
            gauges[name] = Gauge(name, help_text, ("model", *extra), registry=registry)
        gauges[name].labels(model=records.model, **{k: str(labels[k]) for k in extra}).set(value)

    monitor = records.monitor or MonitorRecord(records.model, records.batch_id)
    champion = monitor.champion_version
    gauge("retrainer_batch_info", 1, batch=records.batch_id, champion_version=champion or "none")
    gauge("retrainer_batch_published_timestamp_seconds", records.published_at)
    if champion is not None:
        gauge("retrainer_champion_version", float(champion))

    validation = records.validation
    for status in VALIDATION_STATUSES:
        gauge("retrainer_validation_status", float(validation["status"] == status), status=status)
        gauge(
            "retrainer_validation_batches",
            records.validation_counts.get(status, 0),
            status=status,
        )
    gauge("retrainer_validation_rows", validation["rows"])
    gauge("retrainer_validation_quarantined_rows", validation["quarantined_rows"])

    if monitor.drift_score is not None:
        drifted = monitor.drifted_features or []
        gauge("retrainer_drift_detected", float(bool(monitor.drift)))
        gauge("retrainer_drift_score", float(monitor.drift_score))
        gauge("retrainer_drifted_features", len(drifted))
        all_features = records.drift and records.drift.features
        if all_features:
            gauge("retrainer_drift_share", len(drifted) / len(all_features))
        top = _top_effect(records)
        if top is not None:
            labels = {"feature": top["feature"], "statistic": top.get("statistic", "")}
            gauge("retrainer_drift_top_effect", float(top["value"]), **labels)
            gauge("retrainer_drift_top_effect_ratio", top["ratio"], **labels)

    performance = records.performance
    realized = (performance and performance.realized) or monitor.realized or {}
    for kind, values in (
        ("realized", realized),
        ("estimated", (performance and performance.estimated) or {}),
        ("baseline", (performance and performance.baseline) or {}),
    ):
        for metric, value in values.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                gauge(f"retrainer_performance_{kind}", float(value), metric=metric)
    if performance is not None:
        gauge("retrainer_performance_estimate_broken", float(bool(performance.estimate_broken)))

    if records.trigger is not None:
        decision = records.trigger.decision
        for choice in TRIGGER_DECISIONS:
            gauge("retrainer_trigger_decision", float(decision == choice), decision=choice)
        event = records.trigger.event
        for choice in ("decay", "drift"):
            gauge("retrainer_trigger_event", float(event == choice), event=choice)
    return registry


def push_batch_metrics(gateway: str, records: BatchRecords, *, timeout: float = 10.0) -> None:
    """Replace the model's batch group on the Pushgateway with this batch's metrics."""
    from prometheus_client import push_to_gateway

    push_to_gateway(
        gateway,
        job=BATCH_JOB,
        registry=batch_registry(records),
        grouping_key={"model": records.model},
        timeout=timeout,
    )


def push_task_duration(
    gateway: str,
    *,
    model: str,
    dag: str,
    task: str,
    seconds: float,
    failed: bool,
    timeout: float = 5.0,
) -> None:
    """Replace one task's group with the duration and outcome of its latest try."""
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    registry = CollectorRegistry()
    labels = ("model", "dag", "task")
    for name, value in (
        ("retrainer_task_duration_seconds", seconds),
        ("retrainer_task_failed", float(failed)),
    ):
        Gauge(name, METRICS[name][1], labels, registry=registry).labels(model, dag, task).set(value)
    push_to_gateway(
        gateway,
        job=TASK_JOB,
        registry=registry,
        grouping_key={"model": model, "dag": dag, "task": task},
        timeout=timeout,
    )
