"""The REST client decides by HTTP status, authenticates once and reports unreachable servers."""

from __future__ import annotations

import json

import httpx
import pytest


def _api(handler):  # type: ignore[no-untyped-def]
    from retrainer.dev.airflow_api import AirflowAPI

    return AirflowAPI(
        "http://airflow:8080/", "admin", "admin", transport=httpx.MockTransport(handler)
    )


def test_a_missing_dag_is_none_and_other_errors_carry_their_status() -> None:
    from retrainer.dev.airflow_api import AirflowAPIError

    seen: list[tuple[str, str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.headers.get("Authorization")))
        if request.url.path == "/auth/token":
            assert json.loads(request.content) == {"username": "admin", "password": "admin"}
            return httpx.Response(201, json={"access_token": "t0k"})
        if request.url.path == "/api/v2/dags/gone":
            return httpx.Response(404, json={"detail": "The Dag with ID: `gone` was not found"})
        if request.url.path == "/api/v2/dags/broken":
            return httpx.Response(500, text="boom")
        return httpx.Response(200, json={"dag_id": "rainfall_monitor"})

    api = _api(handler)
    assert api.dag("gone") is None
    assert api.dag("rainfall_monitor") == {"dag_id": "rainfall_monitor"}
    with pytest.raises(AirflowAPIError, match="HTTP 500: boom") as caught:
        api.dag("broken")
    assert caught.value.status == 500
    # One token for the session, sent as a bearer token on every API call.
    assert [s for s in seen if s[1] == "/auth/token"] == [("POST", "/auth/token", None)]
    assert {s[2] for s in seen if s[1] != "/auth/token"} == {"Bearer t0k"}


def test_an_unreachable_server_has_no_status_and_is_not_healthy() -> None:
    from retrainer.dev.airflow_api import AirflowAPIError

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    api = _api(handler)
    assert not api.healthy()
    with pytest.raises(AirflowAPIError, match="unreachable") as caught:
        api.trigger("rainfall_retrain", {"reason": "manual"})
    assert caught.value.status is None
