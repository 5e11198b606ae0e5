"""MLflow's errors are recognised by the codes a real registry raises: SQLite and server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from retrainer.errors import RegistryError
from retrainer.registry.errors import alias_unset, already_exists, is_missing
from retrainer.registry.versions import champion_version, get_version
from tests.integration.conftest import MlflowServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["sqlite", "server"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> MlflowClient:
    if request.param == "server":
        server: MlflowServer = request.getfixturevalue("mlflow_server")
        uri = server.url  # the REST store: errors come back as RestException
    else:
        uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    try:
        client.create_registered_model("errors-probe")
    except MlflowException as exc:
        assert already_exists(exc)
    return client


def _raised(call: Callable[[], Any]) -> MlflowException:
    with pytest.raises(MlflowException) as info:
        call()
    return info.value


def test_codes_of_the_registry(client: MlflowClient) -> None:
    unset = _raised(lambda: client.get_model_version_by_alias("errors-probe", "champion"))
    no_model = _raised(lambda: client.get_model_version_by_alias("errors-nope", "champion"))
    no_version = _raised(lambda: client.get_model_version("errors-probe", "7"))
    twice = _raised(lambda: client.create_registered_model("errors-probe"))
    assert alias_unset(unset) and not is_missing(unset)
    assert alias_unset(no_model) and is_missing(no_model)
    assert is_missing(no_version) and not already_exists(no_version)
    assert already_exists(twice) and not is_missing(twice)


def test_an_unset_alias_is_no_champion_and_a_missing_version_an_error(
    client: MlflowClient,
) -> None:
    assert champion_version(client, "errors-probe") is None
    assert champion_version(client, "errors-nope") is None
    with pytest.raises(RegistryError, match="has no version 7"):
        get_version(client, "errors-probe", "7")


def test_words_alone_are_not_an_mlflow_error() -> None:
    assert not is_missing(RuntimeError("RESOURCE_DOES_NOT_EXIST: not found"))
    assert not alias_unset(ValueError("alias champion not found"))


def test_an_unreachable_tracking_server_is_a_named_retried_error(
    client: MlflowClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from retrainer.errors import RegistryUnavailable
    from retrainer.orchestration.base import airflow_errors
    from retrainer.outages import is_outage

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    down = MlflowClient(dead, dead)
    with (
        pytest.raises(RegistryUnavailable, match=rf"MLflow did not answer.*{dead}"),
        airflow_errors(),
    ):
        down.get_registered_model("errors-probe")
    # An answer is not an outage: the real registry says the version does not exist.
    missing = _raised(lambda: client.get_model_version("errors-probe", "999"))
    assert not is_outage(missing)
