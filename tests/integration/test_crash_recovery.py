"""A champion move killed or raced at each boundary ends consistent, on a real registry.

A real MLflow SQLite store and a local lake; tiny logged models (with signatures, so a
rollback's input check reads real model metadata). Faults are injected at the boundary
they hit in production: a lake that refuses the ledger write (killed after the alias
moved), a store that is locked for the alias write, an empty claim (killed between
creating the claim and writing it), a rollback run in the middle of a promotion.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from typer.testing import CliRunner

from retrainer.errors import ChampionMoved, RegistryError, StaleClaim, StorageError
from retrainer.registry.tags import GATE_DECISION, GATE_SAFETY
from retrainer.storage import LocalStorage
from tests.conftest import make_config_dir

pytestmark = pytest.mark.integration


class LedgerRefused(LocalStorage):
    """The lake refuses ledger writes: the process 'dies' right after the alias moved."""

    def write_bytes(self, key: str, data: bytes) -> str:
        if key.startswith("ledger/"):
            raise StorageError(f"killed before writing {key}")
        return super().write_bytes(key, data)

    def create_new(self, key: str, data: bytes) -> bool:
        if key.startswith("ledger/"):
            raise StorageError(f"killed before writing {key}")
        return super().create_new(key, data)


class LockedStore(MlflowClient):
    """The registry is locked for the first ``failures`` alias writes (SQLite busy)."""

    failures = 0

    def set_registered_model_alias(self, name: str, alias: str, version: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise MlflowException("(sqlite3.OperationalError) database is locked")
        super().set_registered_model_alias(name, alias, version)


class RacedClient(MlflowClient):
    """Runs ``interleave`` right after its first read of an alias: a racing move."""

    interleave: Any = None

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        found = super().get_model_version_by_alias(name, alias)
        step, self.interleave = self.interleave, None
        if step is not None:
            step()
        return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from retrainer.registry import connect, ensure_experiment
    from retrainer.settings import load_settings

    root = tmp_path_factory.mktemp("crash")
    config_dir = make_config_dir(root)
    settings = load_settings(config_dir)
    client = connect(settings)  # SQLite under root/home, the embedded default
    experiment = ensure_experiment(client, "crash", str(settings.mlflow_artifact_root))
    return {
        "config_dir": str(config_dir),
        "settings": settings,
        "uri": settings.mlflow_tracking_uri,
        "client": client,
        "lake": Path(str(settings.storage_root)),
        "experiment": experiment,
    }


def _register(stack: dict[str, Any], model: str, *, gated: bool = True) -> str:
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.dummy import DummyClassifier

    x = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [1.0, 0.0, 1.0]})
    y = [0, 1, 0]
    with mlflow.start_run(experiment_id=stack["experiment"]):
        info = mlflow.sklearn.log_model(
            DummyClassifier().fit(x, y),
            name="model",
            signature=infer_signature(x, y),
            registered_model_name=model,
            pip_requirements=["scikit-learn"],
        )
    version = str(info.registered_model_version)
    if gated:
        stack["client"].set_model_version_tag(model, version, GATE_DECISION, "promote")
        stack["client"].set_model_version_tag(model, version, GATE_SAFETY, "pass")
    return version


def _storage(stack: dict[str, Any], cls: type[LocalStorage] = LocalStorage) -> LocalStorage:
    return cls(stack["lake"])


def _promote(client: MlflowClient, storage: Any, model: str, version: str, expected: Any) -> Any:
    from retrainer.registry import promote

    return promote(
        client,
        storage,
        model,
        version,
        expected_champion=expected,
        reason=f"v{version} is better",
        actor="retrainer",
        context={"airflow_run_id": f"run-v{version}"},
    )


def _events(storage: Any, model: str) -> list[tuple[str, Any, Any]]:
    from retrainer.registry import read_ledger

    return [(e["event"], e.get("version"), e.get("actor")) for e in read_ledger(storage, model)]


def _champion(stack: dict[str, Any], model: str) -> str:
    return str(stack["client"].get_model_version_by_alias(model, "champion").version)


def _evaluation(model: str, challenger: str, champion: str | None) -> Any:
    from retrainer.evaluation.challenger import Evaluation

    return Evaluation(
        model=model,
        challenger_version=challenger,
        champion_version=champion,
        challenger_metrics={},
        champion_metrics=None,
        decision={"promote": True, "reason": f"v{challenger} is better", "rules": []},
        run_id="eval-run",
    )


def _two_versions(stack: dict[str, Any], model: str) -> tuple[str, str]:
    v1, v2 = _register(stack, model), _register(stack, model)
    _promote(stack["client"], _storage(stack), model, v1, None)
    return v1, v2


def test_killed_after_the_alias_moved_is_recorded_once_as_the_pipelines_promotion(
    stack: dict[str, Any],
) -> None:
    from retrainer.registry.steps import promote_challenger, reconcile_ledger

    model, storage = "crash-ledger", _storage(stack)
    v1, v2 = _two_versions(stack, model)
    with pytest.raises(StorageError, match="killed before writing ledger/"):
        _promote(stack["client"], _storage(stack, LedgerRefused), model, v2, v1)
    assert _champion(stack, model) == v2  # the alias moved, the ledger does not know yet

    alerts: list[tuple[str, str]] = []
    found = reconcile_ledger(
        stack["client"],
        storage,
        lambda t, b, *_, **k: alerts.append((t, k["event"])),
        model,
        context={"airflow_run_id": "monitor-1"},
    )
    assert found is None and alerts == []  # no "champion changed outside retrainer"
    assert _events(storage, model)[-1] == ("promote", v2, "retrainer")
    entry = json.loads((stack["lake"] / _last_key(storage, model)).read_text())
    assert entry["previous_version"] == v1 and entry["airflow_run_id"] == f"run-v{v2}"
    assert entry["reason"] == f"v{v2} is better" and entry["recovered_by"]

    # The retried promote task finds the move done and writes nothing more.
    retried = promote_challenger(
        stack["client"],
        storage,
        lambda *a, **k: None,
        _evaluation(model, v2, v1),
        approval_mode="auto",
        actor="retrainer",
        context={},
    )
    assert retried.version == v2
    assert [e for e in _events(storage, model) if e[0] == "promote"] == [
        ("promote", v1, "retrainer"),
        ("promote", v2, "retrainer"),
    ]


def test_the_retry_of_a_killed_promote_completes_it_exactly_once(stack: dict[str, Any]) -> None:
    from retrainer.registry.steps import promote_challenger, reconcile_ledger

    model, storage = "crash-retry", _storage(stack)
    v1, v2 = _two_versions(stack, model)
    with pytest.raises(StorageError):
        _promote(stack["client"], _storage(stack, LedgerRefused), model, v2, v1)
    alerts: list[str] = []
    retried = promote_challenger(
        stack["client"],
        storage,
        lambda t, *_, **k: alerts.append(k["event"]),
        _evaluation(model, v2, v1),
        approval_mode="auto",
        actor="retrainer",
        context={},
    )
    assert retried.change is not None and retried.change.previous_version == v1
    assert alerts == ["promotion"]  # the champion Asset event and alert still go out, once
    assert (
        reconcile_ledger(stack["client"], storage, lambda *a, **k: None, model, context={}) is None
    )
    assert [e[:2] for e in _events(storage, model)] == [("promote", v1), ("promote", v2)]


def test_a_promote_raced_by_a_rollback_loses_and_says_so(stack: dict[str, Any]) -> None:
    from retrainer.registry import rollback

    model, storage = "crash-race", _storage(stack)
    v1, v2 = _two_versions(stack, model)
    _promote(stack["client"], storage, model, v2, v1)
    v3 = _register(stack, model)  # evaluated against champion v2

    def roll_back() -> None:
        rollback(
            stack["client"], storage, model, target_version=None, reason="v2 is bad", actor="ops"
        )

    # 1. The rollback finishes between the promotion's compare-and-set read and its claim.
    raced = RacedClient(stack["uri"], stack["uri"])
    raced.interleave = roll_back
    with pytest.raises(ChampionMoved, match=rf"moved from v{v2} to v{v1}.*a rollback"):
        _promote(raced, storage, model, v3, v2)
    assert _champion(stack, model) == v1  # the rollback stands
    assert _events(storage, model)[-1][:2] == ("rollback", v1)

    # 2. Promotion and rollback read the same snapshot; the rollback claims first.
    _promote(stack["client"], storage, model, v2, v1)
    from retrainer.registry.claims import take_snapshot
    from retrainer.registry.moves import move_champion

    snapshot = take_snapshot(stack["client"], storage, model)
    roll_back()
    with pytest.raises(ChampionMoved, match="a rollback won"):
        move_champion(
            stack["client"],
            storage,
            snapshot,
            v3,
            event="promote",
            actor="retrainer",
            tags={},
            ledger={},
        )
    assert _champion(stack, model) == v1
    assert not [e for e in _events(storage, model) if e[:2] == ("promote", v3)]


def test_a_failed_promote_does_not_block_a_better_challenger(stack: dict[str, Any]) -> None:
    model, storage = "crash-stale", _storage(stack)
    v1, v2 = _two_versions(stack, model)
    locked = LockedStore(stack["uri"], stack["uri"])
    locked.failures = 2
    for _ in range(2):  # the task and its retry: the store is locked both times
        with pytest.raises(MlflowException, match="database is locked"):
            _promote(locked, storage, model, v2, v1)
    assert _champion(stack, model) == v1
    v3 = _register(stack, model)  # a new, better challenger, judged against v1
    change = _promote(stack["client"], storage, model, v3, v1)
    assert change.version == v3 and _champion(stack, model) == v3
    events = _events(storage, model)
    assert ("claim_takeover", v3, "retrainer") in events
    assert events[-1] == ("promote", v3, "retrainer")


def test_a_dead_claim_is_named_until_it_expires_or_the_doctor_clears_it(
    stack: dict[str, Any],
) -> None:
    from retrainer.registry.claims import claim_champion, take_snapshot

    model, storage = "crash-dead", _storage(stack)
    v1, v2 = _two_versions(stack, model)
    snapshot = take_snapshot(stack["client"], storage, model)
    # A promote of v2 SIGKILLed right after claiming: nothing released the claim.
    claim_champion(storage, snapshot, v2, event="promote", actor="retrainer", ledger={})
    v3 = _register(stack, model)
    with pytest.raises(RegistryError, match=rf"v?{v2}.*has not moved the alias.*retrainer doctor"):
        _promote(stack["client"], storage, model, v3, v1)
    from retrainer.registry import promote

    change = promote(
        stack["client"],
        storage,
        model,
        v3,
        expected_champion=v1,
        reason="r",
        actor="t",
        stale_after=timedelta(0),
    )
    assert change.version == v3 and _champion(stack, model) == v3


def test_doctor_explains_and_repairs_on_the_real_store(stack: dict[str, Any]) -> None:
    from retrainer.cli import app

    model, storage = "rainfall", _storage(stack)  # the CLI checks the model has a config
    v1, v2 = _two_versions(stack, model)
    with pytest.raises(StorageError):
        _promote(stack["client"], _storage(stack, LedgerRefused), model, v2, v1)
    unjudged = _register(stack, model, gated=False)
    runner = CliRunner()

    def doctor(*args: str) -> Any:
        return runner.invoke(app, ["doctor", model, *args, "--config-dir", stack["config_dir"]])

    before = _events(storage, model)
    dry = doctor("--dry-run", "--stale-after", "0")
    assert dry.exit_code == 1, dry.output
    assert "unrecorded_move" in dry.output and "would write it" in dry.output
    assert f"ungated_version v{unjudged}" in dry.output
    assert _events(storage, model) == before  # a dry run writes nothing

    fixed = doctor("--stale-after", "0", "--json")
    assert fixed.exit_code == 1, fixed.output  # the unjudged version is not for it to fix
    report = json.loads(fixed.stdout)
    kinds = {f["kind"]: f["repaired"] for f in report["findings"]}
    assert kinds == {"unrecorded_move": True, "ungated_version": False}
    assert _events(storage, model)[-1] == ("promote", v2, "retrainer")

    # A claim killed between create and write (what retrainer did before claims were atomic).
    empty = stack["lake"] / "locks" / model / "champion-2-2.json"
    empty.write_bytes(b"")
    with pytest.raises(StaleClaim, match=r"champion-2-2.json is empty.*retrainer doctor rainfall"):
        _promote(stack["client"], storage, model, unjudged, v2)
    stack["client"].set_model_version_tag(model, unjudged, GATE_DECISION, "reject")
    cleared = doctor()
    assert cleared.exit_code == 0, cleared.output
    assert "empty_claim locks/rainfall/champion-2-2.json" in cleared.output
    assert "repaired: released (ledger: claim_cleared)" in cleared.output
    assert _events(storage, model)[-1] == ("claim_cleared", None, "retrainer doctor")
    change = _promote(stack["client"], storage, model, unjudged, v2)  # the model is unwedged
    assert change.version == unjudged
    healthy = doctor()
    assert healthy.exit_code == 0 and "no problems found" in healthy.output


def _last_key(storage: LocalStorage, model: str) -> str:
    return [k for k in storage.list(f"ledger/{model}/") if k.endswith("-promote.json")][-1]
