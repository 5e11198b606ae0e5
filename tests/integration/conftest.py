"""Real local services for integration tests: moto's S3 server over HTTP.

``moto_s3`` starts ``moto_server`` (from ``moto[server]``, next to the interpreter) on a
free loopback port once per session. Tests get the endpoint from the fixture and pass it
explicitly (``S3Storage(bucket, prefix, endpoint_url=moto_s3.endpoint_url)``); nothing is
patched.
"""

from __future__ import annotations

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
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for name in added:
            os.environ.pop(name, None)
