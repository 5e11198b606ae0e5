"""Realized and estimated performance of the champion, batch by batch.

For every scored batch the monitor writes ``reports/<m>/<batch>/performance.json``:
realized metrics once labels are there (inline in the batch or landed later in
``labels/<m>/``), the label-free estimate (classifiers), the champion's holdout baseline,
and their divergence. The same numbers go to MLflow as steps of one run per model
(``performance-<m>``), so its charts show performance over batches. When labels land and
the estimate misses the realized metrics by more than ``monitoring.estimate_band``, the
estimate's assumptions broke (the labels changed meaning): the record says so.

Everything is computed from the prediction log: no model is loaded here.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.evaluation.metrics import metrics_from_scores
from retrainer.monitoring.estimate import Calibrator, estimate_metrics
from retrainer.monitoring.prediction_log import (
    ROW_COLUMN,
    join_labels,
    log_scores,
    prediction_key,
)

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = [
    "PerformanceRecord",
    "assess_batch",
    "performance_key",
    "realized_metrics",
    "refresh_labelled",
]

log = logging.getLogger(__name__)


def performance_key(model: str, batch_id: str) -> str:
    return f"reports/{model}/{batch_id}/performance.json"


def _labels_state_key(model: str, batch_id: str) -> str:
    # Which labels file the record was computed from: refresh_labelled redoes a batch
    # only when its labels changed, whatever the storage (no modification times on S3).
    return f"reports/{model}/{batch_id}/labels-state.json"


@dataclass(frozen=True)
class PerformanceRecord:
    """The performance of the champion on one batch (the ``performance.json`` record)."""

    model: str
    batch_id: str
    champion_version: str | None
    rows: int
    labelled_rows: int
    realized: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    divergence: dict[str, float] = field(default_factory=dict)
    estimate_broken: bool = False
    updated_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerformanceRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def to_xcom(self) -> dict[str, Any]:
        """Small and JSON-safe: what the Airflow task returns."""
        return {
            "batch_id": self.batch_id,
            "champion_version": self.champion_version,
            "rows": self.rows,
            "labelled_rows": self.labelled_rows,
            "realized": self.realized,
            "estimated": self.estimated,
            "estimate_broken": self.estimate_broken,
        }

    @classmethod
    def from_xcom(cls, value: dict[str, Any], *, model: str) -> PerformanceRecord:
        return cls.from_dict({"model": model, **value})

    def explain(self) -> str:
        def fmt(values: dict[str, float]) -> str:
            return ", ".join(f"{k} {v:.3f}" for k, v in sorted(values.items())) or "none"

        text = (
            f"{self.model} batch {self.batch_id} (v{self.champion_version}): "
            f"{self.labelled_rows}/{self.rows} labelled; realized {fmt(self.realized)}; "
            f"estimated {fmt(self.estimated)}"
        )
        if self.estimate_broken:
            text += f"; estimate off by {fmt(self.divergence)}: its assumptions broke"
        return text


def realized_metrics(
    log_frame: pd.DataFrame, y: pd.Series, config: ModelConfig
) -> dict[str, float]:
    """The task's metrics on the labelled rows of a prediction log (``y`` aligned to it)."""
    mask = y.notna().to_numpy()
    if not mask.any():
        return {}
    labelled = log_frame.loc[mask]
    scores = log_scores(labelled)
    labels = y[mask]
    if config.target.task == "regression":
        truth = labels.astype(float).to_numpy()
    else:
        classes = scores.get("classes") or sorted(set(labelled["prediction"]))
        # Labels read from CSV may be floats (1.0) where the model's classes are ints.
        if classes and all(isinstance(c, int) for c in classes):
            truth = labels.astype(float).astype("int64").to_numpy()
        else:
            truth = labels.astype(str).to_numpy()
        unknown = sorted(set(map(str, truth)) - set(map(str, classes)))
        if unknown:
            # A class the model never saw is itself news: count it wrong, do not fail
            # (log loss and AUC are left out: they are undefined for it).
            log.warning(
                "%s: labels %s are not classes of the model %s", config.name, unknown, classes
            )
    result = metrics_from_scores(truth, scores, config)
    result.pop("rows", None)
    return result


def _inline_labels(
    storage: Storage, config: ModelConfig, batch_id: str, log_frame: pd.DataFrame
) -> pd.Series | None:
    """Labels that came with the batch itself (the target column), aligned by row number."""
    import pandas as pd

    key = f"batches/{config.name}/{batch_id}/data.parquet"
    if not storage.exists(key):
        return None
    data = storage.read_frame(key)
    if config.target.column not in data.columns:
        return None
    target = data[config.target.column].reset_index(drop=True)
    rows = log_frame[ROW_COLUMN].to_numpy() if ROW_COLUMN in log_frame else range(len(log_frame))
    return pd.Series(target.reindex(rows).to_numpy(), name=config.target.column)


def _version_evidence(
    client: MlflowClient, model: str, version: str | None
) -> tuple[Calibrator | None, dict[str, float]]:
    """The calibrator and the holdout baseline that travel with a model version."""
    if version is None:
        return None, {}
    from retrainer.registry.artifacts import read_artifact

    run_id = str(client.get_model_version(model, version).run_id)
    calibrator = None
    baseline: dict[str, float] = {}
    try:
        calibrator = Calibrator.from_dict(read_artifact(client, run_id, "calibrator"))
    except Exception as exc:  # versions trained before the estimate existed have none
        log.info("%s v%s has no calibrator (%s): no label-free estimate", model, version, exc)
    try:
        baseline = dict(read_artifact(client, run_id, "baseline"))
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


def _batch_ordinal(storage: Storage, model: str, batch_id: str) -> int:
    """The batch's position among accepted batches, oldest data first: the MLflow step."""
    from retrainer.training.window import accepted_batches

    ids = [m["batch_id"] for m in accepted_batches(storage, model)]
    return ids.index(batch_id) if batch_id in ids else len(ids)


def _performance_run(client: MlflowClient, settings: Settings, model: str) -> str:
    """The id of the model's one monitoring run (``performance-<model>``), created once."""
    from retrainer.registry.client import ensure_experiment
    from retrainer.registry.tags import RUN_KIND, RUN_MODEL

    experiment_id = ensure_experiment(client, model, settings.mlflow_artifact_root)
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{RUN_KIND}` = 'performance'",
        order_by=["attributes.start_time ASC"],
        max_results=1,
    )
    if found:
        return str(found[0].info.run_id)
    run = client.create_run(
        experiment_id,
        run_name=f"performance-{model}",
        tags={RUN_KIND: "performance", RUN_MODEL: model},
    )
    # Finished but open for metrics: it is a chart, not a job that could still be running.
    client.set_terminated(run.info.run_id)
    return str(run.info.run_id)


def _log_to_mlflow(
    client: MlflowClient, settings: Settings, record: PerformanceRecord, step: int
) -> None:
    from mlflow.entities import Metric

    from retrainer.registry.tags import batch_step

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
    run_id = _performance_run(client, settings, record.model)
    client.log_batch(run_id, metrics=[Metric(k, v, now, step) for k, v in values.items()])
    client.set_tag(run_id, batch_step(step), record.batch_id)


def _digest(storage: Storage, key: str) -> str | None:
    if not storage.exists(key):
        return None
    return hashlib.sha256(storage.read_bytes(key)).hexdigest()


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
    key = prediction_key(config.name, batch_id)
    if not storage.exists(key):
        # No champion scored this batch: nothing to judge yet, but the record says so.
        data_key = f"batches/{config.name}/{batch_id}/data.parquet"
        rows = len(storage.read_frame(data_key)) if storage.exists(data_key) else 0
        record = PerformanceRecord(config.name, batch_id, None, rows, 0, updated_at=now)
        storage.write_json(performance_key(config.name, batch_id), record.to_dict())
        return record

    log_frame = storage.read_frame(key).reset_index(drop=True)
    versions = log_frame["model_version"].dropna().unique().tolist() if len(log_frame) else []
    version = str(versions[0]) if versions else None
    y = _inline_labels(storage, config, batch_id, log_frame)
    labels_key = f"labels/{config.name}/{batch_id}.parquet"
    labels_digest = _digest(storage, labels_key)
    if labels_digest is not None:
        late, unmatched = join_labels(
            log_frame, storage.read_frame(labels_key), config, source=labels_key
        )
        if unmatched:
            log.warning(
                "%s: %d label row(s) in %s match no row of batch %s (kept, not used)",
                config.name,
                unmatched,
                labels_key,
                batch_id,
            )
        y = late if y is None else late.combine_first(y)
    labelled = 0 if y is None else int(y.notna().sum())
    realized = {} if y is None else realized_metrics(log_frame, y, config)

    calibrator, baseline = _version_evidence(client, config.name, version)
    estimated: dict[str, float] = {}
    scores = log_scores(log_frame)
    if calibrator is not None and "proba" in scores and len(log_frame):
        estimated = estimate_metrics(calibrator, scores["proba"], scores["prediction"])
    divergence = {m: estimated[m] - realized[m] for m in estimated if m in realized}
    band = config.monitoring.estimate_band
    record = PerformanceRecord(
        model=config.name,
        batch_id=batch_id,
        champion_version=version,
        rows=len(log_frame),
        labelled_rows=labelled,
        realized=realized,
        estimated=estimated,
        baseline=baseline,
        divergence=divergence,
        estimate_broken=any(abs(d) > band for d in divergence.values()),
        updated_at=now,
    )
    storage.write_json(performance_key(config.name, batch_id), record.to_dict())
    storage.write_json(
        _labels_state_key(config.name, batch_id), {"labels_sha256": labels_digest, "at": now}
    )
    _log_to_mlflow(client, settings, record, _batch_ordinal(storage, config.name, batch_id))
    log.info("%s", record.explain())
    return record


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
    prefix = f"labels/{config.name}/"
    for key in sorted(storage.list(prefix)):
        if not key.endswith(".parquet"):
            continue
        batch_id = key.removeprefix(prefix).removesuffix(".parquet")
        if batch_id in skip:
            continue
        if not storage.exists(prediction_key(config.name, batch_id)):
            log.info("labels for %s wait: batch %s was not scored yet", config.name, batch_id)
            continue
        state_key = _labels_state_key(config.name, batch_id)
        seen = storage.read_json(state_key) if storage.exists(state_key) else {}
        if seen.get("labels_sha256") == _digest(storage, key):
            continue
        done.append(assess_batch(client, storage, settings, config, batch_id, context=context))
    return done
