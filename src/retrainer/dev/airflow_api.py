"""A small client for the Airflow 3 REST API (v2) on httpx, used by the CLI, the demo and tests.

It speaks HTTP only (no ``airflow`` import): an ``airflow`` CLI call costs ~10 s here, a
REST call ~0.1 s. A refused request raises :class:`AirflowAPIError` with its HTTP status
(``status``, None when the server was not reached), so callers decide by status code.

Posting an Asset event is retried with backoff on a 5xx answer or a connection error (an
API server under load); a retried post that had got through posts the event twice, which
the monitor shrugs off (each batch is taken in once, under its intake claim).
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from retrainer.errors import RetrainerError

__all__ = ["AirflowAPI", "AirflowAPIError", "notify_landing"]

FINISHED = {"success", "failed"}


class AirflowAPIError(RetrainerError):
    """The Airflow API server refused a request (``status``) or is unreachable (None)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        """A fault worth retrying: the server was not reached or failed (5xx)."""
        return self.status is None or self.status >= 500


class AirflowAPI:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 30,
        transport: httpx.BaseTransport | None = None,
        event_attempts: int = 4,
        retry_wait: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self._token: str | None = None
        # Waits retry_wait, 2x, 4x ... between attempts of an Asset-event post.
        self.event_attempts = max(1, event_attempts)
        self.retry_wait = retry_wait
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            transport=transport,  # tests answer in-process (httpx.MockTransport)
        )

    def _request(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}"} if auth else {}
        try:
            response = self._http.request(method, path, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise AirflowAPIError(f"Airflow API at {self.base_url} unreachable: {exc}") from exc
        if response.is_error:
            detail = response.text[:500]
            raise AirflowAPIError(
                f"{method} {path}: HTTP {response.status_code}: {detail}",
                status=response.status_code,
            )
        return response.json() if response.content else None

    def token(self) -> str:
        if self._token is None:
            reply = self._request(
                "POST",
                "/auth/token",
                {"username": self.username, "password": self.password},
                auth=False,
            )
            self._token = reply["access_token"]
        return self._token

    def healthy(self) -> bool:
        try:
            self._request("GET", "/api/v2/monitor/health", auth=False)
        except AirflowAPIError:
            return False
        return True

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            time.sleep(1)
        raise AirflowAPIError(f"Airflow API at {self.base_url} not healthy after {timeout:.0f} s")

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        try:
            return self._request("GET", f"/api/v2/dags/{dag_id}")
        except AirflowAPIError as exc:
            if exc.status == 404:
                return None
            raise

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        missing = list(dag_ids)
        while time.monotonic() < deadline:
            missing = [d for d in dag_ids if self.dag(d) is None]
            if not missing:
                return
            time.sleep(2)
        raise AirflowAPIError(f"DAGs {missing} not parsed after {timeout:.0f} s")

    def unpause(self, dag_id: str) -> None:
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(
        self, dag_id: str, conf: dict[str, Any] | None = None, note: str | None = None
    ) -> str:
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if note:
            body["note"] = note
        return str(self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        reply = self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=run_after")
        return list(reply["dag_runs"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(run_id, safe="")
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        quoted = urllib.parse.quote(run_id, safe="")
        reply = self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances")
        return list(reply["task_instances"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED:
                return run
            time.sleep(1)
        raise AirflowAPIError(f"run {run_id} of {dag_id} not finished after {timeout:.0f} s")

    def task_links(self, dag_id: str, run_id: str, task_id: str) -> dict[str, str | None]:
        """A task instance's extra links by name (None: not produced)."""
        quoted = urllib.parse.quote(run_id, safe="")
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}/links"
        return dict(self._request("GET", path)["extra_links"])

    def answer_hitl(
        self, dag_id: str, run_id: str, task_id: str, options: list[str]
    ) -> dict[str, Any]:
        """Answer a human-in-the-loop task as the API user (a second answer gets HTTP 409)."""
        quoted = urllib.parse.quote(run_id, safe="")
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}/-1/hitlDetails"
        return self._request("PATCH", path, {"chosen_options": options, "params_input": {}})

    def asset_id(self, name: str) -> int:
        reply = self._request("GET", f"/api/v2/assets?name_pattern={urllib.parse.quote(name)}")
        for asset in reply["assets"]:
            if asset["name"] == name:
                return int(asset["id"])
        raise AirflowAPIError(f"asset {name!r} is not known to Airflow (is its DAG parsed?)")

    def _post_event(self, name: str, extra: dict[str, Any]) -> dict[str, Any]:
        body = {"asset_id": self.asset_id(name), "extra": extra}
        return self._request("POST", "/api/v2/assets/events", body)

    def post_asset_event(self, name: str, extra: dict[str, Any]) -> dict[str, Any]:
        """Post an event of Asset ``name``, retried on 5xx and connection errors.

        Raises:
            AirflowAPIError: refused (4xx, at once) or still failing after every attempt.
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.event_attempts),
            wait=wait_exponential(multiplier=self.retry_wait, max=30),
            retry=retry_if_exception(lambda e: isinstance(e, AirflowAPIError) and e.transient),
            reraise=True,
        )
        try:
            return retrying(self._post_event, name, extra)
        except AirflowAPIError as exc:
            if not exc.transient or self.event_attempts == 1:
                raise
            raise AirflowAPIError(
                f"{exc} (gave up after {self.event_attempts} attempts)", status=exc.status
            ) from exc


def notify_landing(api: AirflowAPI, model: str, batch_id: str, key: str) -> None:
    """Post the ``<model>_incoming`` event of a landed batch.

    Raises:
        AirflowAPIError: Airflow was not told; the message says the batch is safe and the
            next monitor run takes it in (every run takes in the never-checked batches).
    """
    try:
        api.post_asset_event(f"{model}_incoming", {"batch_id": batch_id, "key": key})
    except AirflowAPIError as exc:
        raise AirflowAPIError(
            f"landed {batch_id} but could not tell Airflow: {exc}. The batch is safe in the "
            f"lake and the next {model}_monitor run will pick it up; to check it now, "
            f"trigger {model}_monitor or run this landing again (landing the same file "
            "again only posts the event)",
            status=exc.status,
        ) from exc
