"""Connect to MLflow the same way from every process (task, CLI, test)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import ActiveRun, MlflowClient

    from retrainer.settings import Settings

__all__ = ["connect", "ensure_experiment", "start_model_run"]


def connect(settings: Settings) -> MlflowClient:
    """Point the mlflow module at the configured store and return a client for it."""
    import os

    import mlflow

    if settings.s3_endpoint_url and not os.environ.get("MLFLOW_S3_ENDPOINT_URL"):
        os.environ["MLFLOW_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
    if settings.mlflow_tracking_uri.startswith("sqlite:///"):
        from pathlib import Path

        Path(settings.mlflow_tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    return mlflow.MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)


def ensure_experiment(client: MlflowClient, name: str, artifact_root: str) -> str:
    """Return the id of experiment ``name``, creating it with an explicit artifact location.

    Without an explicit location a SQLite-backed store would put artifacts in ./mlruns of
    whatever working directory the process happens to have.
    """
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    location = artifact_root if "://" in artifact_root else f"file://{artifact_root}"
    try:
        return str(
            client.create_experiment(name, artifact_location=f"{location.rstrip('/')}/{name}")
        )
    except Exception:
        # Another task created it between our look-up and create: use theirs.
        again = client.get_experiment_by_name(name)
        if again is None:
            raise
        return str(again.experiment_id)


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
    """Start a run in the model's experiment, tagged with its kind and the Airflow context."""
    import mlflow

    experiment_id = ensure_experiment(client, model, settings.mlflow_artifact_root)
    mlflow.set_experiment(experiment_id=experiment_id)
    all_tags = {"retrainer.run_kind": kind}
    for key, value in {**(tags or {}), **(context or {})}.items():
        all_tags[key if key.startswith("retrainer.") else f"retrainer.{key}"] = str(value)
    return mlflow.start_run(run_name=run_name, tags=all_tags)
