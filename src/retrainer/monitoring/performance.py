"""Assess the champion on a batch: realized and estimated performance, and their divergence.

For every scored batch the monitor writes ``reports/<m>/<batch>/performance.json``:
realized metrics once labels are there (inline in the batch or landed later in
``labels/<m>/``), the label-free estimate (classifiers), the champion's holdout baseline,
and their divergence. The same numbers go to the model's MLflow chart run
(:mod:`retrainer.monitoring.chart`). When labels land and the estimate misses the realized
trigger metric by more than sampling allows (:mod:`retrainer.monitoring.estimate_health`),
the estimate's assumptions broke (the labels changed meaning) and an alert goes out.

Everything is computed from the prediction log: no model is loaded here.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.lake import (
    LabelsState,
    PerformanceRecord,
    keys,
    write_labels_state,
    write_performance,
)
from retrainer.monitoring.chart import batch_ordinal, log_performance_step
from retrainer.monitoring.estimate import Calibrator, estimate_metrics
from retrainer.monitoring.estimate_health import estimate_health
from retrainer.monitoring.live_ab import compare_versions
from retrainer.monitoring.prediction_log import log_scores
from retrainer.monitoring.realized import batch_labels, labels_digest, realized_metrics

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = ["assess_batch"]

log = logging.getLogger(__name__)


def _version_evidence(
    client: MlflowClient, model: str, version: str | None
) -> tuple[Calibrator | None, dict[str, float]]:
    """The calibrator and the holdout baseline that travel with a model version."""
    if version is None:
        return None, {}
    from retrainer.errors import Unavailable
    from retrainer.registry.artifacts import read_artifact

    run_id = str(client.get_model_version(model, version).run_id)
    calibrator = None
    baseline: dict[str, float] = {}
    try:
        calibrator = Calibrator.from_dict(read_artifact(client, run_id, "calibrator"))
    except Unavailable:
        raise  # an outage is retried, not taken for a version without a calibrator
    except Exception as exc:  # versions trained before the estimate existed have none
        log.info("%s v%s has no calibrator (%s): no label-free estimate", model, version, exc)
    try:
        baseline = dict(read_artifact(client, run_id, "baseline"))
    except Unavailable:
        raise
    except Exception:
        # Older versions: the holdout metrics logged on the training run are the baseline.
        metrics = client.get_run(str(run_id)).data.metrics
        baseline = {
            k.removeprefix("holdout_"): float(v)
            for k, v in metrics.items()
            if k.startswith("holdout_") and k != "holdout_rows"
        }
    baseline.pop("rows", None)
    return calibrator, {k: float(v) for k, v in baseline.items()}


def assess_batch(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    batch_id: str,
    *,
    context: dict[str, Any] | None = None,
) -> PerformanceRecord:
    """Compute, store and log the champion's realized and estimated performance on a batch.

    Reads the batch's prediction log (written by ``check_batch``), its inline labels and
    any labels landed in ``labels/<m>/<batch>.parquet`` (late labels win where both
    exist), writes ``reports/<m>/<batch>/performance.json`` and logs a step of the
    model's ``performance-<m>`` MLflow run. ``estimate_broken`` on the record says when
    the estimate stopped following the labels (the operator alerts on it).

    Raises:
        InputDataError: labels cannot be joined to the prediction log (the message names
            the missing or repeated key).
    """
    del context  # the performance run spans many DAG runs: it is not tagged with one
    now = datetime.now(UTC).isoformat()
    key = keys.prediction_log(config.name, batch_id)
    if not storage.exists(key):
        # No champion scored this batch: nothing to judge yet, but the record says so.
        data_key = keys.batch_data(config.name, batch_id)
        rows = len(storage.read_frame(data_key)) if storage.exists(data_key) else 0
        record = PerformanceRecord(config.name, batch_id, None, rows, 0, updated_at=now)
        write_performance(storage, record)
        return record

    batch_log = storage.read_frame(key).reset_index(drop=True)
    # Served rows may carry several versions (a rollout, a canary): the record judges the
    # one that served most of them, on its own rows (its calibrator read only its
    # probabilities); every version's own numbers are in by_version.
    versions = batch_log["model_version"].astype(str)
    counts = batch_log["model_version"].dropna().astype(str).value_counts(sort=True)
    version = str(counts.index[0]) if len(counts) else None
    digest = labels_digest(storage, config.name, batch_id)
    batch_y = batch_labels(storage, config, batch_id, batch_log)
    labelled = 0 if batch_y is None else int(batch_y.notna().sum())
    by_version = compare_versions(batch_log, batch_y, config, version)
    log_frame, y = batch_log, batch_y
    if len(counts) > 1:
        own = (versions == version).to_numpy()
        log_frame = batch_log.loc[own].reset_index(drop=True)
        y = None if batch_y is None else batch_y[own].reset_index(drop=True)
    realized = {} if y is None else realized_metrics(log_frame, y, config)

    calibrator, baseline = _version_evidence(client, config.name, version)
    estimated: dict[str, float] = {}
    scores = log_scores(log_frame)
    if calibrator is not None and "proba" in scores and len(log_frame):
        estimated = estimate_metrics(calibrator, scores["proba"], scores["prediction"])
    divergence = {m: estimated[m] - realized[m] for m in estimated if m in realized}
    health = estimate_health(config, log_frame, y, estimated, realized)
    record = PerformanceRecord(
        model=config.name,
        batch_id=batch_id,
        champion_version=version,
        rows=len(batch_log),
        labelled_rows=labelled,
        realized=realized,
        estimated=estimated,
        baseline=baseline,
        divergence=divergence,
        estimate_broken=health.broken,
        estimate_band=round(health.band, 6),
        updated_at=now,
        by_version=by_version,
    )
    write_performance(storage, record)
    write_labels_state(storage, config.name, batch_id, LabelsState(digest, now))
    log_performance_step(client, settings, record, batch_ordinal(storage, config.name, batch_id))
    log.info("%s", record.explain())
    return record
