"""Performance over batches as an MLflow chart: one run per model, one step per batch.

The run ``performance-<m>`` (tag ``retrainer.run_kind=performance``) is created once and
left finished but open for metrics: it is a chart, not a job that could still be running.
A batch's step is its position among accepted batches, oldest data first, so a rerun of a
batch rewrites its own step.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from retrainer.lake import accepted_batches
from retrainer.registry import tags

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.lake import PerformanceRecord
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = ["batch_ordinal", "log_performance_step", "log_timeline", "performance_run"]

TIMELINE_ARTIFACT = "timeline/timeline.svg"


def batch_ordinal(storage: Storage, model: str, batch_id: str) -> int:
    """The batch's position among accepted batches, oldest data first: the MLflow step."""
    ids = [m.batch_id for m in accepted_batches(storage, model)]
    return ids.index(batch_id) if batch_id in ids else len(ids)


def performance_run(client: MlflowClient, settings: Settings, model: str) -> str:
    """The id of the model's one monitoring run (``performance-<model>``), created once."""
    from retrainer.registry.client import ensure_experiment

    experiment_id = ensure_experiment(client, model, settings.mlflow_artifact_root)
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{tags.RUN_KIND}` = 'performance'",
        order_by=["attributes.start_time ASC"],
        max_results=1,
    )
    if found:
        return str(found[0].info.run_id)
    run = client.create_run(
        experiment_id,
        run_name=f"performance-{model}",
        tags={tags.RUN_KIND: "performance", tags.RUN_MODEL: model},
    )
    client.set_terminated(run.info.run_id)
    return str(run.info.run_id)


def log_performance_step(
    client: MlflowClient, settings: Settings, record: PerformanceRecord, step: int
) -> None:
    """Log a batch's performance record as step ``step`` of the model's chart run."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    values = {
        "rows": float(record.rows),
        "labelled_rows": float(record.labelled_rows),
        "estimate_broken": float(record.estimate_broken),
        **{f"realized_{k}": v for k, v in record.realized.items()},
        **{f"estimated_{k}": v for k, v in record.estimated.items()},
        **{f"baseline_{k}": v for k, v in record.baseline.items()},
        **{f"divergence_{k}": v for k, v in record.divergence.items()},
    }
    run_id = performance_run(client, settings, record.model)
    client.log_batch(run_id, metrics=[Metric(k, v, now, step) for k, v in values.items()])
    client.set_tag(run_id, tags.batch_step(step), record.batch_id)


def log_timeline(
    client: MlflowClient, settings: Settings, storage: Storage, config: ModelConfig
) -> str:
    """Draw the model's decision timeline and log it to its chart run (replacing the last)."""
    from retrainer.timeline import model_timeline

    run_id = performance_run(client, settings, config.name)
    client.log_text(run_id, model_timeline(client, storage, config), TIMELINE_ARTIFACT)
    return run_id
