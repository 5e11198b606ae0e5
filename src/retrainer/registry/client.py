"""Connect to MLflow the same way from every process (task, CLI, test)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrainer.registry.errors import already_exists

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.settings import Settings

__all__ = ["connect", "ensure_experiment"]


def connect(settings: Settings) -> MlflowClient:
    """Point the mlflow module at the configured store and return a client for it.

    Domain code uses the client; the module-level URIs are still set because
    ``models:/`` URIs (``get_model_info``, artifact downloads) and the one
    active run of :func:`~retrainer.registry.runs.start_model_run` resolve through them.
    """
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
    except Exception as exc:
        if not already_exists(exc):
            raise
        # Another task created it between our look-up and create: use theirs.
        again = client.get_experiment_by_name(name)
        if again is None:
            raise
        return str(again.experiment_id)
