"""The per-batch steps of a monitor run over all of the run's batches.

Each takes the batches the run is about, does one step for each (check against the
champion, assess performance, publish metrics) and returns the typed results.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrainer.errors import NothingToDo

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.monitoring.check import BatchCheck
    from retrainer.monitoring.performance import PerformanceRecord
    from retrainer.notify import AlertSink
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = ["PublishedMetrics", "assess_batches", "check_batches", "publish_batch_metrics"]

log = logging.getLogger(__name__)


def check_batches(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    batch_ids: Sequence[str],
    *,
    context: dict[str, Any] | None = None,
) -> list[BatchCheck]:
    """Score each accepted batch with the champion and measure its drift."""
    from retrainer.monitoring.check import check_batch

    out = []
    for batch_id in batch_ids:
        check = check_batch(client, storage, settings, config, batch_id, context=context)
        log.info("batch %s: %s (drift report: %s)", batch_id, check.explanation, check.report_uri)
        out.append(check)
    return out


def assess_batches(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    batch_ids: Sequence[str],
    *,
    alert: AlertSink,
    context: dict[str, Any] | None = None,
) -> list[PerformanceRecord]:
    """Record the champion's performance on these batches, then on newly labelled ones.

    A record whose label-free estimate left its band is alerted: the labels no longer follow
    the model's probabilities, so the estimate cannot stand in for them.
    """
    from retrainer.monitoring.performance import assess_batch
    from retrainer.monitoring.refresh import refresh_labelled

    records = [
        assess_batch(client, storage, settings, config, b, context=context) for b in batch_ids
    ]
    records += refresh_labelled(
        client, storage, settings, config, skip=tuple(batch_ids), context=context
    )
    if records:
        from retrainer.monitoring.chart import log_timeline

        log_timeline(client, settings, storage, config)
    for record in records:
        log.info("%s", record.explain())
        if record.estimate_broken:
            alert(
                f"{config.name}: performance estimate broke on batch {record.batch_id}",
                record.explain()
                + f" (band ±{record.estimate_band or config.monitoring.estimate_band:.3f} on"
                f" {config.trigger_metric}): the labels no longer"
                " follow the model's probabilities",
                record.to_dict(),
            )
    return records


@dataclass(frozen=True)
class PublishedMetrics:
    """Which of a batch's records were pushed to the Pushgateway."""

    batch_id: str
    validation: str
    monitor: bool
    performance: bool
    trigger: bool

    def to_xcom(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "validation": self.validation,
            "monitor": self.monitor,
            "performance": self.performance,
            "trigger": self.trigger,
        }

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> PublishedMetrics:
        return cls(**value)


def publish_batch_metrics(
    settings: Settings, model: str, batch_ids: Sequence[str]
) -> list[PublishedMetrics]:
    """Push the metrics of each batch's records, in order (the group keeps the last push).

    Raises:
        NothingToDo: metrics are off (no ``pushgateway_url``) or the run has no batch.
    """
    from retrainer.notify.prometheus import gateway_of, push_batch_metrics, read_batch_records
    from retrainer.storage import open_storage

    gateway = gateway_of(settings)
    if gateway is None:
        raise NothingToDo("pushgateway_url is not set: metrics are off")
    if not batch_ids:
        raise NothingToDo("no batch in this run: nothing to publish")
    storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
    published = []
    # In order: the group keeps the last push, so the newest batch ends up visible.
    for batch_id in batch_ids:
        records = read_batch_records(storage, model, batch_id)
        push_batch_metrics(gateway, records)
        summary = PublishedMetrics(
            batch_id=batch_id,
            validation=records.validation["status"],
            monitor=records.monitor is not None,
            performance=records.performance is not None,
            trigger=records.trigger is not None,
        )
        log.info(
            "published metrics of %s batch %s to %s: %s",
            model,
            batch_id,
            gateway,
            summary.to_xcom(),
        )
        published.append(summary)
    return published
