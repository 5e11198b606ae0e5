"""Check an accepted batch against the champion: score, drift, realized performance.

An online model's batch (``data.serving``) is not re-scored: what it served is logged and
judged, and its inputs are compared with the champion's reference as any batch's are.

Writes the prediction log, the drift report (HTML + JSON) and a monitoring record per
batch; keys derive from the batch id, so a rerun overwrites the same objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.evaluation.metrics import metrics_from_scores, model_output, predict_scores
from retrainer.lake import MonitorRecord, keys, write_drift, write_monitor
from retrainer.monitoring.prediction_log import served_scores, write_prediction_log
from retrainer.registry.artifacts import read_artifact
from retrainer.registry.runs import log_metrics, start_model_run
from retrainer.registry.tags import BATCH_ID, CHAMPION_VERSION, DRIFT
from retrainer.registry.versions import champion_version

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = ["BatchCheck", "check_batch"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchCheck(MonitorRecord):
    """The check of one batch: the ``monitor.json`` record and the drift event it makes."""

    def to_xcom(self) -> dict[str, Any]:
        """The small, JSON-safe form the check task returns (the decide task reads it)."""
        return {
            "model": self.model,
            "batch_id": self.batch_id,
            "champion_version": self.champion_version,
            "drift_score": self.drift_score,
            "drifted_features": self.drifted_features,
            "explanation": self.explanation,
            "report_uri": self.report_uri,
            "realized": self.realized,
            "evidence": self.drift_evidence,
            "prediction_drift": self.prediction_drift,
            "drift": self.drift,
            "report_key": self.report_key,
            "checked_at": self.checked_at,
        }

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> BatchCheck:
        data = dict(value)
        data["drift_evidence"] = data.pop("evidence", None) or []
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


def _realized(frame: Any, scores: dict[str, Any], config: ModelConfig) -> dict[str, float]:
    """Metrics on the rows that came labelled, from the scores already computed."""
    if config.target.column not in frame.columns:
        return {}
    mask = frame[config.target.column].notna().to_numpy()
    if not mask.any():
        return {}
    picked = {k: (v if k == "classes" else v[mask]) for k, v in scores.items()}
    return metrics_from_scores(frame[config.target.column].to_numpy()[mask], picked, config)


def _served(storage: Storage, config: ModelConfig, batch_id: str) -> Any:
    """The served rows of an online model's batch, or ``None`` to score with the champion."""
    key = keys.batch_served(config.name, batch_id)
    if config.data.serving is None or not storage.exists(key):
        return None
    return storage.read_frame(key)


def check_batch(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    batch_id: str,
    *,
    context: dict[str, Any] | None = None,
) -> BatchCheck:
    """Score an accepted batch with the champion and compare it with the champion's reference."""
    from retrainer.drift import (
        DriftResult,
        Profile,
        detect_drift,
        profile_batch,
        profile_predictions,
        render_html,
    )
    from retrainer.registry.safe_load import load_model_version

    frame = storage.read_frame(keys.batch_data(config.name, batch_id))
    now = datetime.now(UTC).isoformat()
    champion = champion_version(client, config.name)
    if champion is None:
        result = BatchCheck(
            config.name,
            batch_id,
            None,
            False,
            None,
            [],
            "no champion yet: nothing to compare with",
            {},
            None,
            None,
            now,
        )
        write_monitor(storage, result)
        return result

    run_id = str(champion.run_id)
    version = str(champion.version)
    served = _served(storage, config, batch_id)
    if served is None:
        # Once per batch, and first: a champion that is unsafe to load stops the check here.
        model = load_model_version(client, config, version)
    reference = Profile.from_dict(read_artifact(client, run_id, "profile"))
    importances = read_artifact(client, run_id, "importance")
    if served is None:
        scores = predict_scores(model, frame, config)
        logged: str | list[str] = version
        keyed = frame
    else:
        scores, logged = served_scores(served, config)
        assert config.data.serving is not None
        request = config.data.serving.request_id_column
        keyed = frame.assign(**{request: served[request].to_numpy()})
        log.info(
            "batch %s of %s: judging what versions %s served (not re-scored)",
            batch_id,
            config.name,
            sorted(set(logged)),
        )
    current = profile_batch(frame, reference)
    if reference.prediction is not None:
        outputs = model_output(scores, config)
        current = current.with_prediction(profile_predictions(outputs, reference.prediction))
    drift: DriftResult = detect_drift(reference, current, config.drift, importances)
    # The prediction log is what realized and estimated performance are computed from
    # later (assess_batch): the model is loaded and run once per batch, here.
    write_prediction_log(storage, config, batch_id, keyed, scores, logged)
    realized = _realized(frame, scores, config)

    write_drift(storage, config.name, batch_id, drift)
    html = render_html(
        drift,
        reference,
        current,
        title=f"{config.name} batch {batch_id} vs champion v{version}",
    )
    report_key = keys.report(config.name, batch_id, keys.DRIFT_HTML)
    report_uri = storage.write_bytes(report_key, html.encode("utf-8"))
    result = BatchCheck(
        config.name,
        batch_id,
        version,
        drift.drift,
        drift.drift_score,
        [f.feature for f in drift.drifted_features],
        drift.explanation,
        realized,
        report_key,
        report_uri,
        now,
        [f.to_evidence() for f in drift.drifted_features],
        None if drift.prediction is None else drift.prediction.to_evidence(),
    )
    write_monitor(storage, result)

    with start_model_run(
        client,
        settings,
        config.name,
        run_name=f"monitor-{batch_id}",
        kind="monitoring",
        tags={BATCH_ID: batch_id, CHAMPION_VERSION: version, DRIFT: str(drift.drift).lower()},
        context=context,
    ) as run:
        log_metrics(
            client,
            run.info.run_id,
            {
                "drift_score": drift.drift_score,
                "drifted_features": len(result.drifted_features),
                **{f"realized_{k}": v for k, v in realized.items()},
                **{f"{f.statistic}_{f.feature}": f.value for f in drift.features},
                **(
                    {f"prediction_{drift.prediction.statistic}": drift.prediction.value}
                    if drift.prediction
                    else {}
                ),
            },
        )
        client.log_text(run.info.run_id, html, "drift/report.html")
        client.log_dict(run.info.run_id, drift.to_dict(), "drift/report.json")
    # The task log carries the report's location: the Airflow user's link to the plots.
    log.info(
        "batch %s of %s: %s; realized %s; drift report %s",
        batch_id,
        config.name,
        drift.explanation,
        realized,
        report_uri,
    )
    return result
