"""A real local deployment for the browser tests: Airflow (4 components) and an MLflow server.

Three small models over a private config folder, one per approval mode: ``e2e_auto``
(the gate alone; the rollback model), ``e2e_hitl`` (an Airflow HITL approval) and
``e2e_tag`` (a person sets the version tag ``approval`` in the MLflow UI). Logistic
regression and 200 bootstrap resamples keep each retrain short.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

MODELS: dict[str, dict[str, Any]] = {
    "e2e_auto": {"mode": "auto"},
    "e2e_hitl": {"mode": "airflow", "four_eyes": False, "timeout_minutes": 30},
    # Pokes 2 s apart raced the scheduler under load (the previous poke's executor event
    # arrived after the next poke started, and the sensor was marked failed): 15 s is safe.
    "e2e_tag": {"mode": "mlflow", "four_eyes": False, "poke_seconds": 15, "timeout_minutes": 30},
}


def write_config(root: Path, airflow_port: int, mlflow_port: int) -> Path:
    """A config folder with the three models; state lives in ``root/home``."""
    base = yaml.safe_load((REPO / "config" / "models" / "rainfall.yaml").read_text())
    config_dir = root / "config"
    (config_dir / "models").mkdir(parents=True)
    for name, approval in MODELS.items():
        data = {
            **base,
            "name": name,
            "description": f"Browser-test copy of rainfall ({name})",
            "model": {"estimator": "logistic_regression", "params": {"max_iter": 300}},
            "evaluation": {"bootstrap_resamples": 200, "seed": 0},
            # Lenient on purpose: these tests are about the UIs, not the gate's judgement.
            "gate": {
                "metric": "roc_auc",
                "min_value": 0.55,
                "comparison": {"kind": "non_inferiority", "margin": 0.2},
            },
            "approval": approval,
        }
        (config_dir / "models" / f"{name}.yaml").write_text(yaml.safe_dump(data))
    settings = {
        "home": str(root / "home"),
        "airflow_url": f"http://127.0.0.1:{airflow_port}",
        "mlflow_ui_url": f"http://127.0.0.1:{mlflow_port}",
    }
    (config_dir / "retrainer.yaml").write_text(yaml.safe_dump(settings))
    return config_dir


@dataclass
class BrowserStack:
    root: Path
    config_dir: Path
    airflow_url: str
    mlflow_url: str
    api: Any
    client: Any
    storage: Any
    local: Any

    def stop(self) -> None:
        self.local.stop()


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def start_stack(root: Path) -> BrowserStack:
    """Start Airflow and the MLflow UI on free ports; the caller must call ``stop()``."""
    from retrainer.dev.airflow_api import AirflowAPI
    from retrainer.dev.local_stack import LocalStack, airflow_env, free_port
    from retrainer.registry import connect, ensure_experiment
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    airflow_port, mlflow_port = free_port(), free_port()
    config_dir = write_config(root, airflow_port, mlflow_port)
    settings = load_settings(config_dir)
    client = connect(settings)
    for name in MODELS:  # creates the SQLite store before the server opens it
        ensure_experiment(client, name, settings.mlflow_artifact_root)
    env = airflow_env(
        project_root=REPO, home=settings.home, port=airflow_port, config_dir=config_dir
    )
    local = LocalStack(settings.home, env)
    stack = BrowserStack(
        root,
        config_dir,
        f"http://127.0.0.1:{airflow_port}",
        f"http://127.0.0.1:{mlflow_port}",
        AirflowAPI(f"http://127.0.0.1:{airflow_port}", "admin", "admin"),
        client,
        open_storage(settings.storage_root),
        local,
    )
    try:
        local.start_mlflow_ui(
            settings.mlflow_tracking_uri, settings.mlflow_artifact_root, mlflow_port
        )
        local.start_airflow()
        stack.api.wait_healthy(240)
        dag_ids = [f"{m}_{k}" for m in MODELS for k in ("monitor", "retrain", "rollback")]
        stack.api.wait_for_dags(dag_ids, 240)
        _wait_http(stack.mlflow_url, 120)
    except BaseException:
        local.stop()
        raise
    return stack
