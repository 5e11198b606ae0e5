"""Real local services for integration tests: moto's S3 server over HTTP.

``moto_s3`` starts ``moto_server`` (from ``moto[server]``, next to the interpreter) on a
free loopback port once per session. Tests get the endpoint from the fixture and pass it
explicitly (``S3Storage(bucket, prefix, endpoint_url=moto_s3.endpoint_url)``); nothing is
patched.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import stop_process

# PostgreSQL and Redis for the production-topology test live in their own module.
from tests.integration.services_prod import postgres_server, redis_server  # noqa: F401

_DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_START_TIMEOUT = 20.0


@dataclass(frozen=True)
class S3Server:
    """A running moto S3 server: its endpoint and a factory for clients of it."""

    endpoint_url: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto in server mode on a free loopback port: a real HTTP S3 endpoint."""
    # S3Storage builds its client with boto3.client("s3", endpoint_url=...), so credentials
    # and region come from the environment; without them botocore refuses to sign. moto
    # accepts any keys. setdefault keeps whatever a developer exported, and the names this
    # fixture added are removed again at the end of the session.
    added = [name for name in _DUMMY_AWS_ENV if name not in os.environ]
    for name, value in _DUMMY_AWS_ENV.items():
        os.environ.setdefault(name, value)

    executable = Path(sys.executable).parent / "moto_server"
    if not executable.exists():
        pytest.fail(f"{executable} not found: install the dev extra moto[server]")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    endpoint = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(executable), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while not _answers(endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                state = (
                    f"exited with {process.returncode}"
                    if process.poll() is not None
                    else f"did not answer within {_START_TIMEOUT:.0f} s"
                )
                log_tail = log_path.read_text(errors="replace")[-2000:]
                pytest.fail(f"moto_server on {endpoint} {state}; log:\n{log_tail}")
            time.sleep(0.1)
        yield S3Server(endpoint)
    finally:
        stop_process(process, 10)
        for name in added:
            os.environ.pop(name, None)


@dataclass(frozen=True)
class MlflowServer:
    """A running ``mlflow server``: its tracking URI and where it keeps its files."""

    url: str
    artifact_root: Path


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` process (SQLite backend, local artifacts), once per session.

    One worker and no job execution keep it small on the shared 2-core machine. Tests talk
    to it over HTTP exactly as tasks do in production; each test module uses its own
    registered model names, so modules do not see each other's versions.
    """
    executable = Path(sys.executable).parent / "mlflow"
    root = tmp_path_factory.mktemp("mlflow-server")
    artifacts = root / "artifacts"
    artifacts.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(executable),
                "server",
                "--backend-store-uri",
                f"sqlite:///{root / 'mlflow.db'}",
                "--default-artifact-root",
                str(artifacts),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 300  # a loaded 2-core machine: first start migrates the DB
        while not _answers(f"{url}/health"):
            if process.poll() is not None or time.monotonic() > deadline:
                log_tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"mlflow server on {url} did not start; log:\n{log_tail}")
            time.sleep(0.25)
        yield MlflowServer(url, artifacts)
    finally:
        stop_process(process, 15)


@contextlib.contextmanager
def team_package_forgotten_after(package: str = "rain_model") -> Iterator[None]:
    """Forget the example team package (and its sys.path entry) when a test module ends.

    Each module copies examples/team_project to its own folder. The factory refuses a
    package of the same name already imported from another folder (a real task process
    imports one copy), so a copy left in sys.modules by one module failed the next one.
    """
    path_before = list(sys.path)
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n == package or n.startswith(f"{package}.")]:
            del sys.modules[name]
        sys.path[:] = path_before
