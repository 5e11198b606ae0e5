"""MLflow runs of a model: start one in the model's experiment, log metrics and params.

Logging goes through the injected client with the run's id. The run itself is started
with ``mlflow.start_run``: it resolves the user/source tags the MLflow UI shows, and
``mlflow.sklearn.log_model`` and ``mlflow.log_input`` log into the active run only.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from retrainer.registry.client import ensure_experiment
from retrainer.registry.tags import RUN_KIND, context_tags

if TYPE_CHECKING:
    from mlflow import ActiveRun, MlflowClient

    from retrainer.settings import Settings

__all__ = ["log_metrics", "log_params", "start_model_run"]


def start_model_run(
    client: MlflowClient,
    settings: Settings,
    model: str,
    *,
    run_name: str,
    kind: str,
    tags: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> ActiveRun:
    """Start a run in the model's experiment, tagged with its kind and the Airflow context.

    ``tags`` are names from :mod:`retrainer.registry.tags`; the context's keys are
    namespaced (:func:`~retrainer.registry.tags.context_tags`).
    """
    import mlflow

    experiment_id = ensure_experiment(client, model, settings.mlflow_artifact_root)
    all_tags = {RUN_KIND: kind}
    for key, value in context_tags({**(tags or {}), **(context or {})}).items():
        all_tags[key] = str(value)
    return mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=all_tags)


def log_metrics(client: MlflowClient, run_id: str, metrics: dict[str, float]) -> None:
    """Log metrics at step 0 with one timestamp, in one request."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])


def log_params(client: MlflowClient, run_id: str, params: dict[str, Any]) -> None:
    """Log params (values become strings), in one request."""
    from mlflow.entities import Param

    client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
