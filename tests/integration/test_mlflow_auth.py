"""The compose MLflow service's login: ``mlflow server --app-name basic-auth`` with the
shipped ``config/mlflow-basic-auth.ini``, started for real.

Anonymous calls are refused; the credentials the Airflow services get in compose
(``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``) let retrainer's client work.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrainer.dev.local_stack import free_port
from tests.conftest import REPO, stop_process

PASSWORD = "s3cret-for-tests-only"


def _status(url: str, auth: tuple[str, str] | None = None) -> int:
    request = urllib.request.Request(url)
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0  # not listening yet


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-auth")
    # The compose ini, with the auth database moved from the container volume to tmp.
    ini = (REPO / "config" / "mlflow-basic-auth.ini").read_text()
    ini = ini.replace("sqlite:////mlflow-auth/basic_auth.db", f"sqlite:///{root / 'auth.db'}")
    (root / "auth.ini").write_text(ini)
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(root / "auth.ini"),
        "MLFLOW_AUTH_ADMIN_PASSWORD": PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-secret-key",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "mlflow"),
                "server",
                "--app-name",
                "basic-auth",
                "--backend-store-uri",
                f"sqlite:///{root / 'mlflow.db'}",
                "--default-artifact-root",
                str(root / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while _status(f"{url}/health") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "mlflow server --app-name basic-auth did not start:\n"
                    + log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.5)
        yield url
    finally:
        stop_process(process, 15)


def test_anonymous_calls_are_refused_and_the_admin_is_let_in(auth_server: str) -> None:
    search = f"{auth_server}/api/2.0/mlflow/experiments/search?max_results=1"
    assert _status(search) == 401
    assert _status(search, ("admin", "wrong")) == 401
    assert _status(search, ("admin", PASSWORD)) == 200


def test_retrainer_client_works_with_the_compose_credentials(
    auth_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    client = MlflowClient(tracking_uri=auth_server, registry_uri=auth_server)
    experiment_id = client.create_experiment("auth-check")
    client.create_registered_model("auth-check-model")
    assert client.get_experiment(experiment_id).name == "auth-check"
    assert client.get_registered_model("auth-check-model").name == "auth-check-model"
