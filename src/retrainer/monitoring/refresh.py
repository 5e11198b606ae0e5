"""Late labels: reassess every scored batch whose labels changed since its record.

Which labels file a record was computed from is kept in its ``labels-state.json`` (a
digest), so the refresh works the same on a local folder and on S3, which has no
modification times to compare.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from retrainer.lake import keys, labelled_ids, read_labels_state
from retrainer.monitoring.performance import assess_batch
from retrainer.monitoring.realized import labels_digest

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.lake import PerformanceRecord
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = ["refresh_labelled"]

log = logging.getLogger(__name__)


def refresh_labelled(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    *,
    skip: tuple[str, ...] = (),
    context: dict[str, Any] | None = None,
) -> list[PerformanceRecord]:
    """Recompute every scored batch whose labels in ``labels/<m>/`` changed since its record.

    Labels of a batch that was never scored wait in the lake: ``assess_batch`` joins them
    when the batch is scored. ``skip`` names batches the caller assesses anyway.
    """
    done: list[PerformanceRecord] = []
    for batch_id in labelled_ids(storage, config.name):
        if batch_id in skip:
            continue
        if not storage.exists(keys.prediction_log(config.name, batch_id)):
            log.info("labels for %s wait: batch %s was not scored yet", config.name, batch_id)
            continue
        seen = read_labels_state(storage, config.name, batch_id)
        if seen is not None and seen.labels_sha256 == labels_digest(storage, config.name, batch_id):
            continue
        done.append(assess_batch(client, storage, settings, config, batch_id, context=context))
    return done
