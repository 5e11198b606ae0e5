"""A landing's Asset-event POST is retried against a real HTTP server under load.

The server is ``http.server`` on a thread, speaking the three Airflow API calls a landing
makes (token, asset lookup, event POST); it answers the POST with HTTP 500 as many times
as it is told. When Airflow never accepts the event, ``retrainer land`` says the batch is
safe and who will take it in, and exits 3.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import make_config_dir

pytestmark = pytest.mark.integration


class _Airflow(ThreadingHTTPServer):
    failures = 0  # POSTs of an event answered 500 before one is accepted (-1: all)
    posts: list[dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    server: _Airflow

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.startswith("/api/v2/assets?"):
            self._reply(200, {"assets": [{"name": "rainfall_incoming", "id": 7}]})
        else:
            self._reply(404, {"detail": "not here"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/auth/token":
            self._reply(201, {"access_token": "t0k"})
            return
        self.server.posts.append(body)
        if self.server.failures:
            self.server.failures -= 1
            self._reply(500, {"detail": "database is locked"})
            return
        self._reply(200, {"id": len(self.server.posts), **body})


@pytest.fixture
def airflow() -> Iterator[_Airflow]:
    server = _Airflow(("127.0.0.1", 0), _Handler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _url(server: _Airflow) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_an_event_post_that_fails_twice_with_500_is_retried_until_it_lands(airflow) -> None:  # type: ignore[no-untyped-def]
    from retrainer.dev.airflow_api import AirflowAPI

    airflow.failures = 2
    api = AirflowAPI(_url(airflow), "admin", "admin", retry_wait=0.01)
    reply = api.post_asset_event("rainfall_incoming", {"batch_id": "p05"})
    assert reply["extra"] == {"batch_id": "p05"}
    assert len(airflow.posts) == 3  # two 500s, then the one Airflow kept


def test_a_refused_post_is_not_retried(airflow) -> None:  # type: ignore[no-untyped-def]
    from retrainer.dev.airflow_api import AirflowAPI, AirflowAPIError

    api = AirflowAPI(_url(airflow), "admin", "admin", retry_wait=0.01)
    with pytest.raises(AirflowAPIError, match="not known to Airflow"):
        api.post_asset_event("nosuch_incoming", {"batch_id": "p05"})


def test_land_says_the_batch_is_safe_when_airflow_never_takes_the_event(  # type: ignore[no-untyped-def]
    airflow, tmp_path, rainfall_periods
) -> None:
    from retrainer.cli import app
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    airflow.failures = -1  # every POST fails
    config_dir = make_config_dir(tmp_path, settings={"airflow_url": _url(airflow)})
    data = tmp_path / "p05.parquet"
    rainfall_periods[5].to_parquet(data, index=False)

    result = CliRunner().invoke(
        app, ["land", "rainfall", str(data), "--config-dir", str(config_dir)]
    )

    assert result.exit_code == 3, result.output
    assert "landed p05 but could not tell Airflow" in result.stderr
    assert "HTTP 500" in result.stderr and "gave up after 4 attempts" in result.stderr
    assert "the next rainfall_monitor run will pick it up" in result.stderr
    assert len(airflow.posts) == 4
    storage = open_storage(load_settings(config_dir).storage_root)
    assert storage.exists("incoming/rainfall/p05.parquet")  # the data is landed all the same
