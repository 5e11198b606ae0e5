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
}


def load_run_dict(client: MlflowClient, run_id: str, path: str) -> Any:
    """Download one JSON artifact of a run and return its content.

    Raises:
        MlflowException: the run has no such artifact (``RESOURCE_DOES_NOT_EXIST``).
    """
    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(str(run_id), path, dst_path=tmp)
        return json.loads(Path(local).read_text(encoding="utf-8"))


def read_artifact(client: MlflowClient, run_id: str, kind: str) -> Any:
    """Read the artifact ``kind`` (a key of :data:`ARTIFACTS`) of a training run."""
    return load_run_dict(client, run_id, ARTIFACTS[kind])
