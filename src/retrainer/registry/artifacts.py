"""What a training run keeps for its model version, and reading it back through the client.

Everything the monitor later needs travels with the version as artifacts of its training
run, so promotion and rollback swap the references together with the model. Reads go
through the injected ``MlflowClient``, never the module-level tracking URI.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = ["ARTIFACTS", "load_run_dict", "read_artifact"]

# Where a training run keeps what travels with its model version.
ARTIFACTS = {
    "profile": "reference/profile.json",
    "importance": "reference/importance.json",
    "suite": "validation/suite.json",
    # Label-free estimate (monitoring.estimate) and the baseline it is compared with.
    "calibrator": "monitoring/calibrator.json",
    "baseline": "monitoring/baseline.json",
    # The version to register (model URI, description, tags): a retry completes it.
    "registration": "registry/registration.json",
    # Every trial of a hyperparameter search: params, per-fold and mean/std CV scores.
    "search_trials": "search/trials.json",
    "search_table": "search/trials.csv",
}


def load_run_dict(client: MlflowClient, run_id: str, path: str) -> Any:
    """Download one JSON artifact of a run and return its content.

    From the run's own artifact location, not a ``runs:/`` URI: MLflow's runs repository
    swallows the store's error and reports any failure, an S3 outage too, as a path that
    "is not correct".

    Raises:
        MlflowException: the run has no such artifact (``RESOURCE_DOES_NOT_EXIST``).
        RegistryUnavailable: the artifact store did not answer (retried).
    """
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

    from retrainer.errors import RegistryUnavailable
    from retrainer.outages import chain, is_outage

    uri = f"{client.get_run(str(run_id)).info.artifact_uri.rstrip('/')}/{path}"
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=tmp, tracking_uri=client.tracking_uri
            )
        except Exception as exc:
            if is_outage(exc):
                raise RegistryUnavailable(
                    f"the artifact store did not answer reading {path} of run {run_id} "
                    f"at {uri}: {exc}"
                ) from exc
            if any(_missing(e) for e in chain(exc)):
                raise MlflowException(
                    f"run {run_id} has no artifact {path} (at {uri})",
                    error_code=RESOURCE_DOES_NOT_EXIST,
                ) from exc
            raise
        return json.loads(Path(local).read_text(encoding="utf-8"))


def _missing(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError

    from retrainer.registry.errors import is_missing

    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}
    return isinstance(exc, FileNotFoundError) or is_missing(exc)


def read_artifact(client: MlflowClient, run_id: str, kind: str) -> Any:
    """Read the artifact ``kind`` (a key of :data:`ARTIFACTS`) of a training run."""
    return load_run_dict(client, run_id, ARTIFACTS[kind])
