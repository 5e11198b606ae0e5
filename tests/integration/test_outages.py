"""An outage is retried, never judged: the champion's artifacts unreachable mid-evaluation.

A real MLflow SQLite store whose artifacts live in S3 (moto's server over HTTP) and a local
lake. The outage is real: between loading the challenger and fetching the champion, the
artifact store's endpoint is pointed at a closed port (boto meets a refused connection).
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from mlflow import MlflowClient

from tests.conftest import make_config_dir
from tests.integration.stories import Stream

if TYPE_CHECKING:
    from .conftest import S3Server

pytestmark = pytest.mark.integration

MODEL = "rainfall"
ENDPOINT = "MLFLOW_S3_ENDPOINT_URL"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChampionOutage(MlflowClient):
    """The artifact store goes down right before the champion ``version`` is fetched."""

    champion = ""
    dead = ""

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        if str(version) == self.champion:
            os.environ[ENDPOINT] = self.dead
        return str(super().get_model_version_download_uri(name, version))


@pytest.fixture(scope="module")
def stream(
    tmp_path_factory: pytest.TempPathFactory, moto_s3: S3Server, rainfall_periods: Any
) -> Stream:
    from retrainer.config import load_model_config
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    bucket = f"mlflow-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=bucket)
    root = tmp_path_factory.mktemp("outages")
    config_dir = make_config_dir(
        root,
        overrides={MODEL: {"evaluation": {"bootstrap_resamples": 100}}},
        settings={
            "mlflow_artifact_root": f"s3://{bucket}/mlflow",
            "s3_endpoint_url": moto_s3.endpoint_url,
        },
    )
    os.environ.pop(ENDPOINT, None)  # connect() sets it from the settings
    settings = load_settings(config_dir)
    stream = Stream(
        MODEL,
        load_model_config(settings.models_dir / f"{MODEL}.yaml"),
        settings,
        open_storage(settings.storage_root),
        connect(settings),
        root,
    )
    stream.accept("p0", rainfall_periods[0], validate=False)
    assert stream.retrain("manual", "first champion") == ("1", True)
    stream.accept("p1", rainfall_periods[1], validate=False)
    yield stream
    os.environ.pop(ENDPOINT, None)


def test_champion_artifacts_unavailable_is_retried_not_judged(
    stream: Stream, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrainer.errors import NothingToDo, RegistryUnavailable
    from retrainer.evaluation import evaluate_challenger
    from retrainer.registry.tags import GATE_DECISION, gate_rule
    from retrainer.training import train_challenger
    from retrainer.training.retrain import skip_if_already_trained

    trained = train_challenger(
        stream.client,
        stream.storage,
        stream.settings,
        stream.config,
        trigger="manual",
        reason="challenger",
    )
    monkeypatch.setenv(ENDPOINT, os.environ[ENDPOINT])  # restored after the test
    uri = stream.settings.mlflow_tracking_uri
    down = ChampionOutage(uri, uri)
    down.champion, down.dead = "1", f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(RegistryUnavailable, match=r"version 1 of 'rainfall'") as raised:
        evaluate_challenger(down, stream.storage, stream.settings, stream.config, trained.version)
    assert down.dead in str(raised.value)  # the message names the endpoint that failed
    mv = stream.client.get_model_version(MODEL, trained.version)
    assert GATE_DECISION not in mv.tags  # nothing judged, nothing rejected
    # ... so the next retrain on the same batches is not skipped as "already judged".
    skip_if_already_trained(stream.client, stream.storage, stream.config, None, None)

    # The store is back: the retry judges normally against the champion.
    monkeypatch.setenv(ENDPOINT, str(stream.settings.s3_endpoint_url))
    evaluation = evaluate_challenger(
        stream.client, stream.storage, stream.settings, stream.config, trained.version
    )
    assert evaluation.champion_metrics, evaluation.decision
    assert "champion_scored" not in evaluation.decision["reason"]
    judged = stream.client.get_model_version(MODEL, trained.version).tags
    assert judged[GATE_DECISION] == evaluation.decision["decision"]
    with pytest.raises(NothingToDo, match="already trained and judged"):
        skip_if_already_trained(stream.client, stream.storage, stream.config, None, None)

    # A rejection recorded for an unreachable champion (before outages were retried) is
    # not a judgement either.
    for name, value in {
        GATE_DECISION: "reject",
        gate_rule("champion_scored"): "fail: champion not scored: the champion could not be loaded",
    }.items():
        stream.client.set_model_version_tag(MODEL, trained.version, name, value)
    skip_if_already_trained(stream.client, stream.storage, stream.config, None, None)


def test_an_artifact_store_outage_names_the_endpoint_not_a_wrong_path(
    stream: Stream, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrainer.errors import RegistryUnavailable
    from retrainer.registry.artifacts import read_artifact

    run_id = str(stream.client.get_model_version(MODEL, "1").run_id)
    dead = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv(ENDPOINT, dead)
    with pytest.raises(RegistryUnavailable) as raised:
        read_artifact(stream.client, run_id, "profile")
    message = str(raised.value)
    assert dead in message and "reference/profile.json" in message and run_id in message
    assert "ensure that the path is correct" not in message
