"""A registered version that would run code when loaded is refused, and the gate rejects it.

Against a real MLflow SQLite store and a local lake: a rainfall champion trained the normal
way, then versions registered by hand as someone with registry access could: cloudpickle
whose object creates a marker file when unpickled, a python_function-only model, and a
skops model needing a type nobody vouched for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from tests.integration.stories import Stream

pytestmark = pytest.mark.integration

MODEL = "rainfall"
PIP = ["scikit-learn", "skops"]  # explicit: inferring requirements would load the model


class Booby:
    """Unpickling this object opens (creates) ``marker``: the code an attacker would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


class Doubler(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A team's own transformer: a type skops does not trust by default."""

    def fit(self, X: Any, y: Any = None) -> Doubler:
        return self

    def transform(self, X: Any) -> Any:
        return X * 2


DOUBLER = f"{__name__}.Doubler"


@pytest.fixture(scope="module")
def stream(tmp_path_factory, rainfall_periods):  # type: ignore[no-untyped-def]
    stream = Stream.open(
        tmp_path_factory.mktemp("safe-load"), MODEL, {"evaluation": {"bootstrap_resamples": 100}}
    )
    stream.accept("p0", rainfall_periods[0], validate=False)
    version, promoted = stream.retrain("manual", "first champion")
    assert (version, promoted) == ("1", True)
    return stream


def _register(stream: Stream, log: Any) -> str:
    """Log a model with ``log()`` in a run of the model's experiment; register it."""
    import mlflow

    from retrainer.registry.tags import HOLDOUT_KEY

    champion = stream.client.get_model_version(MODEL, "1")
    experiment = stream.client.get_run(champion.run_id).info.experiment_id
    with mlflow.start_run(experiment_id=experiment) as run:
        info = log()
    version = stream.client.create_model_version(
        MODEL, source=info.model_uri, run_id=run.info.run_id, model_id=info.model_id
    ).version
    # The holdout the gate scores on: the champion's, as a real challenger would carry.
    stream.client.set_model_version_tag(MODEL, version, HOLDOUT_KEY, champion.tags[HOLDOUT_KEY])
    return str(version)


def _cloudpickle_version(stream: Stream, marker: Path) -> str:
    import mlflow.sklearn

    return _register(
        stream,
        lambda: mlflow.sklearn.log_model(
            Booby(marker), name="model", serialization_format="cloudpickle", pip_requirements=PIP
        ),
    )


def _doubler_version(stream: Stream, rainfall_periods: Any, *, recorded: list[str]) -> str:
    """A skops model holding a :class:`Doubler`, its type recorded as trusted at log time."""
    import mlflow.sklearn

    frame = rainfall_periods[0]
    features = stream.config.features
    pipeline = Pipeline([("double", Doubler()), ("model", LogisticRegression(max_iter=500))])
    pipeline.fit(frame[features].fillna(0), frame["rain"])
    return _register(
        stream,
        lambda: mlflow.sklearn.log_model(
            pipeline,
            name="model",
            serialization_format="skops",
            skops_trusted_types=recorded,
            pip_requirements=PIP,
        ),
    )


def test_the_normal_path_loads_and_predicts(stream: Stream, rainfall_periods: Any) -> None:
    from retrainer.registry.safe_load import load_model_version

    model = load_model_version(stream.client, stream.config, "1")
    frame = rainfall_periods[1]
    proba = model.predict_proba(frame[stream.config.features])
    assert proba.shape == (len(frame), 2)


def test_a_cloudpickle_version_is_refused_and_its_code_never_runs(
    stream: Stream, tmp_path: Path
) -> None:
    from retrainer.errors import UnsafeModelError
    from retrainer.registry.safe_load import load_model_version

    marker = tmp_path / "pwned"
    version = _cloudpickle_version(stream, marker)
    assert not marker.exists()
    with pytest.raises(UnsafeModelError, match="serialised with cloudpickle") as info:
        load_model_version(stream.client, stream.config, version)
    assert (info.value.model, info.value.version, info.value.found) == (
        MODEL,
        version,
        "cloudpickle",
    )
    assert 'serialization_format="skops"' in str(info.value)
    assert not marker.exists()
    # The payload is live: MLflow's own loader (what retrainer used before) runs it.
    import mlflow.sklearn

    mlflow.sklearn.load_model(f"models:/{MODEL}/{version}")
    assert marker.exists()


def test_a_python_function_only_version_is_refused(stream: Stream, tmp_path: Path) -> None:
    import mlflow.pyfunc

    from retrainer.errors import UnsafeModelError
    from retrainer.registry.safe_load import load_model_version

    class Echo(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context: Any, model_input: Any) -> Any:
            return model_input

    version = _register(
        stream,
        lambda: mlflow.pyfunc.log_model(name="model", python_model=Echo(), pip_requirements=PIP),
    )
    with pytest.raises(UnsafeModelError, match="no sklearn flavor"):
        load_model_version(stream.client, stream.config, version)


def test_a_skops_version_needing_an_untrusted_type_is_refused_by_name(
    stream: Stream, rainfall_periods: Any
) -> None:
    from retrainer.config import ModelConfig
    from retrainer.errors import UnsafeModelError
    from retrainer.registry.safe_load import load_model_version

    # Recorded at log time, as MLflow lets anyone do: that alone does not make it trusted.
    version = _doubler_version(stream, rainfall_periods, recorded=[DOUBLER])
    with pytest.raises(UnsafeModelError, match=f"untrusted type\\(s\\) {DOUBLER};") as info:
        load_model_version(stream.client, stream.config, version)
    assert info.value.found == DOUBLER
    assert "model.trusted_types" in str(info.value)

    # The team vouches for it in the model YAML: now it loads and predicts.
    data = stream.config.model_dump()
    data["model"]["trusted_types"] = [DOUBLER]
    vouched = ModelConfig.model_validate(data)
    model = load_model_version(stream.client, vouched, version)
    assert len(model.predict(rainfall_periods[1][vouched.features].fillna(0)))

    # Allowed by the YAML but not recorded when logged (MLflow refuses to log it so; here
    # the MLmodel file is edited in the artifact store): the file is not what was logged.
    unrecorded = _doubler_version(stream, rainfall_periods, recorded=[DOUBLER])
    root = stream.client.get_model_version_download_uri(MODEL, unrecorded)
    mlmodel = Path(root.removeprefix("file://")) / "MLmodel"
    meta = yaml.safe_load(mlmodel.read_text())
    meta["flavors"]["sklearn"]["skops_trusted_types"] = []
    mlmodel.write_text(yaml.safe_dump(meta))
    with pytest.raises(UnsafeModelError, match="not recorded when it was logged"):
        load_model_version(stream.client, vouched, unrecorded)


def test_the_gate_rejects_an_unsafe_challenger_on_the_record(
    stream: Stream, tmp_path: Path
) -> None:
    from retrainer.evaluation import evaluate_challenger
    from retrainer.registry import champion_version, read_ledger
    from retrainer.registry.tags import CHALLENGER, GATE_DECISION, GATE_REASON, GATE_SAFETY

    marker = tmp_path / "pwned"
    version = _cloudpickle_version(stream, marker)
    evaluation = evaluate_challenger(
        stream.client, stream.storage, stream.settings, stream.config, version
    )
    assert not evaluation.promote
    assert evaluation.decision["safety_failures"] == ["safe_to_load"]
    assert "serialised with cloudpickle" in evaluation.decision["reason"]
    tags = stream.client.get_model_version(MODEL, version).tags
    assert tags[GATE_DECISION] == "reject"
    assert tags[GATE_SAFETY] == "fail: safe_to_load"
    assert "cloudpickle" in tags[GATE_REASON]
    report = stream.client.download_artifacts(
        evaluation.run_id, "evaluation/report.json", str(tmp_path)
    )
    assert "cloudpickle" in Path(report).read_text()
    assert str(stream.client.get_model_version_by_alias(MODEL, CHALLENGER).version) == version
    assert any(e.get("version") == version for e in read_ledger(stream.storage, MODEL))
    champion = champion_version(stream.client, MODEL)
    assert champion is not None and str(champion.version) == "1"
    assert not marker.exists()


def test_an_unsafe_version_is_never_made_champion_by_hand_either(
    stream: Stream, tmp_path: Path
) -> None:
    from retrainer.errors import UnsafeModelError
    from retrainer.registry import promote, rollback

    marker = tmp_path / "pwned"
    version = _cloudpickle_version(stream, marker)
    with pytest.raises(UnsafeModelError):
        promote(
            stream.client,
            stream.storage,
            MODEL,
            version,
            expected_champion="1",
            reason="forced",
            actor="test",
        )
    # Even with the gate's tags forged to look like a pass, rollback reads the MLmodel file.
    stream.client.set_model_version_tag(MODEL, version, "retrainer.gate.decision", "promote")
    stream.client.set_model_version_tag(MODEL, version, "retrainer.gate.safety", "pass")
    with pytest.raises(UnsafeModelError):
        rollback(
            stream.client,
            stream.storage,
            MODEL,
            target_version=version,
            reason="forced",
            actor="test",
        )
    assert str(stream.client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    assert not marker.exists()


def test_an_unsafe_champion_is_never_loaded_and_blocks_promotion(
    stream: Stream, tmp_path: Path, rainfall_periods: Any
) -> None:
    from retrainer.errors import UnsafeModelError
    from retrainer.evaluation import evaluate_challenger
    from retrainer.monitoring import check_batch
    from retrainer.training import train_challenger

    marker = tmp_path / "pwned"
    evil = _cloudpickle_version(stream, marker)
    trained = train_challenger(
        stream.client,
        stream.storage,
        stream.settings,
        stream.config,
        trigger="manual",
        reason="a sound challenger",
    )
    # Someone with registry access moves the alias by hand.
    stream.client.set_registered_model_alias(MODEL, "champion", evil)
    try:
        evaluation = evaluate_challenger(
            stream.client, stream.storage, stream.settings, stream.config, trained.version
        )
        assert not evaluation.promote
        assert evaluation.decision["safety_failures"] == []  # the challenger itself is fine
        assert "champion_scored" in evaluation.decision["reason"]
        assert "serialised with cloudpickle" in evaluation.decision["reason"]
        assert f"{MODEL}_rollback" in evaluation.decision["reason"]

        stream.accept("p1", rainfall_periods[1], validate=False)
        with pytest.raises(UnsafeModelError, match=f"version {evil} of 'rainfall'"):
            check_batch(stream.client, stream.storage, stream.settings, stream.config, "p1")
    finally:
        stream.client.set_registered_model_alias(MODEL, "champion", "1")
    assert not marker.exists()
