"""Killed at every write of land, validate, promote and rollback, then retried: consistent.

Each test first runs its step cleanly with every write counted (``record_boundaries``),
then, for each of those writes, starts from the same state, kills a child process right
after that write (``os._exit``: no cleanup runs, as under SIGKILL), plays the retry (or
the next run) in-process with the domain function the operator calls, and checks what a
user would: one version per retrain, ``champion`` and the ledger agree and
``retrainer doctor`` finds nothing left, every landed batch taken in once and its original
kept, and a later promotion still works (no model wedged). A new write in one of these
steps is a new crash point by itself. On a real MLflow SQLite store and a real lake.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from retrainer.errors import NothingToDo
from retrainer.registry.tags import GATE_DECISION, GATE_SAFETY
from tests.conftest import make_config_dir
from tests.integration.crash_points import crash, record_boundaries

pytestmark = pytest.mark.integration

# The rows of the fault table (fault, what happened, ...), printed with ``-s``.
ROWS: list[str] = []


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One MLflow SQLite store for the module (creating one takes seconds), one experiment."""
    from retrainer.registry import connect, ensure_experiment
    from retrainer.settings import load_settings

    root = tmp_path_factory.mktemp("points")
    settings = load_settings(make_config_dir(root))
    client = connect(settings)
    experiment = ensure_experiment(client, "points", str(settings.mlflow_artifact_root))
    return {"uri": settings.mlflow_tracking_uri, "model_uri": _log_model(experiment), "root": root}


def _log_model(experiment: str) -> str:
    """A tiny model with a signature (a rollback checks the inputs of both versions)."""
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.dummy import DummyClassifier

    x = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [1.0, 0.0, 1.0]})
    y = [0, 1, 0]
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(
            DummyClassifier().fit(x, y),
            name="model",
            signature=infer_signature(x, y),
            pip_requirements=["scikit-learn"],
        )
    return str(info.model_uri)


class Case:
    """A fresh lake (and config) on the shared store: the state one crash starts from."""

    def __init__(self, store: dict[str, Any], name: str) -> None:
        from retrainer.registry import connect
        from retrainer.settings import load_settings
        from retrainer.storage import open_storage

        root = store["root"] / name
        root.mkdir()
        self.config_dir = str(
            make_config_dir(
                root,
                settings={"mlflow_tracking_uri": store["uri"], "storage_root": str(root / "lake")},
            )
        )
        self.settings = load_settings(self.config_dir)
        self.client = connect(self.settings)
        self.storage = open_storage(self.settings.storage_root)
        self.model_uri = store["model_uri"]
        self.root = root


def _register(case: Case, model: str) -> str:
    """Register a new gated version of the module's one logged model (fast: no logging)."""
    import mlflow

    info = mlflow.register_model(case.model_uri, model)
    version = str(info.version)
    case.client.set_model_version_tag(model, version, GATE_DECISION, "promote")
    case.client.set_model_version_tag(model, version, GATE_SAFETY, "pass")
    return version


def _evaluation(model: str, challenger: str, champion: str | None) -> dict[str, Any]:
    from retrainer.evaluation.challenger import Evaluation

    return asdict(
        Evaluation(
            model=model,
            challenger_version=challenger,
            champion_version=champion,
            challenger_metrics={},
            champion_metrics=None,
            decision={"promote": True, "reason": f"v{challenger} is better", "rules": []},
            run_id=f"eval-{model}-{challenger}",
        )
    )


def _promote_args(model: str, challenger: str, champion: str | None) -> dict[str, Any]:
    return {
        "evaluation": _evaluation(model, challenger, champion),
        "context": {"airflow_run_id": f"retrain-v{challenger}"},
    }


def _step(case: Case, step: str, args: dict[str, Any]) -> Any:
    """The retry: the same step in this process, on clients that die nowhere."""
    return record_boundaries(step, case.config_dir, args)[0]


def _alias_events(case: Case, model: str) -> list[tuple[str, str]]:
    from retrainer.registry.ledger import alias_events

    return [(e["event"], str(e["version"])) for e in alias_events(case.storage, model)]


def _champion(case: Case, model: str) -> str:
    return str(case.client.get_model_version_by_alias(model, "champion").version)


def _findings(case: Case, model: str, *, repair: bool = False) -> list[str]:
    from retrainer.registry.doctor import examine

    checkup = examine(case.client, case.storage, model, repair=repair, unchecked_after=timedelta(0))
    return [f"{f.kind} {f.subject}" for f in checkup.findings]


def _versions(case: Case, model: str) -> list[str]:
    return sorted(str(v.version) for v in case.client.search_model_versions(f"name='{model}'"))


def _row(*cells: object) -> None:
    ROWS.append(" | ".join(str(c) for c in cells))
    print("ROW", ROWS[-1])


def _two_champions(case: Case, model: str) -> tuple[str, str]:
    """v1 promoted, v2 promoted over it (so a rollback has somewhere to go)."""
    v1 = _register(case, model)
    _step(case, "promote", _promote_args(model, v1, None))
    v2 = _register(case, model)
    _step(case, "promote", _promote_args(model, v2, v1))
    return v1, v2


def _what_the_retry_did(moved: bool, retried: dict[str, Any]) -> str:
    if not moved:
        return "made the move"
    return "found it done" if retried.get("reused") else "wrote the missing ledger entry"


def _still_promotable(case: Case, model: str, champion: str) -> None:
    """No model wedged: a new challenger judged against the champion becomes champion."""
    v_next = _register(case, model)
    _step(case, "promote", _promote_args(model, v_next, champion))
    assert _champion(case, model) == v_next
    assert _findings(case, model) == []


def test_a_promote_killed_after_any_write_is_completed_once_by_its_retry(
    store: dict[str, Any],
) -> None:
    clean = Case(store, "promote-clean")
    v1 = _register(clean, "promote-clean")
    _step(clean, "promote", _promote_args("promote-clean", v1, None))
    v2 = _register(clean, "promote-clean")
    _, points = record_boundaries(
        "promote", clean.config_dir, _promote_args("promote-clean", v2, v1)
    )
    assert points, "a promotion writes something"
    assert any(p.startswith("client.set_registered_model_alias") for p in points), points
    assert any(p.startswith("storage.") and "ledger/" in p for p in points), points

    for index, point in enumerate(points):
        model = f"promote-{index}"
        case = Case(store, model)
        v1 = _register(case, model)
        _step(case, "promote", _promote_args(model, v1, None))
        v2 = _register(case, model)
        crash("promote", case.config_dir, _promote_args(model, v2, v1), point)
        seen = _findings(case, model)
        moved = _champion(case, model) == v2

        retried = _step(case, "promote", _promote_args(model, v2, v1))

        assert retried["version"] == v2, point
        assert _champion(case, model) == v2, point
        assert _alias_events(case, model) == [("promote", v1), ("promote", v2)], point
        assert _findings(case, model) == [], point
        assert _versions(case, model) == [v1, v2], point  # no version made by the retry
        _still_promotable(case, model, v2)
        _row(
            f"promote killed after {point}",
            f"alias {'moved' if moved else 'not moved'}; doctor saw {seen or 'nothing'}; "
            f"retry {_what_the_retry_did(moved, retried)}",
            "none",
            "none",
            "yes",
            "yes (retry)",
        )


def test_a_rollback_killed_after_any_write_is_completed_once_by_its_retry(
    store: dict[str, Any],
) -> None:
    args = {"reason": "v2 misbehaves", "context": {"airflow_run_id": "rollback-1"}}
    clean = Case(store, "rollback-clean")
    _two_champions(clean, "rollback-clean")
    _, points = record_boundaries("rollback", clean.config_dir, {**args, "model": "rollback-clean"})
    assert any(p.startswith("client.set_registered_model_alias") for p in points), points

    for index, point in enumerate(points):
        model = f"rollback-{index}"
        case = Case(store, model)
        v1, v2 = _two_champions(case, model)
        crash("rollback", case.config_dir, {**args, "model": model}, point)
        seen = _findings(case, model)
        moved = _champion(case, model) == v1

        retried = _step(case, "rollback", {**args, "model": model})

        assert retried["version"] == v1, point
        assert _champion(case, model) == v1, point
        events = _alias_events(case, model)
        assert events == [("promote", v1), ("promote", v2), ("rollback", v1)], point
        assert _findings(case, model) == [], point
        _still_promotable(case, model, v1)
        _row(
            f"rollback killed after {point}",
            f"alias {'moved' if moved else 'not moved'}; doctor saw {seen or 'nothing'}",
            "none",
            "none",
            "yes",
            "yes (retry)",
        )


@pytest.fixture(scope="module")
def batches(store: dict[str, Any], rainfall_periods: list[Any]) -> dict[str, Path]:
    """Two good batches and one without its dew-point column (quarantined)."""
    folder = store["root"] / "files"
    folder.mkdir()
    files = {}
    for index in (3, 4):
        files[f"p{index}"] = folder / f"p{index}.parquet"
        rainfall_periods[index].to_parquet(files[f"p{index}"], index=False)
    files["broken"] = folder / "broken.csv"
    rainfall_periods[5].drop(columns=["dew_point"]).to_csv(files["broken"], index=False)
    return files


def _land_args(files: dict[str, Path], batch: str) -> dict[str, Any]:
    return {"model": "rainfall", "file": str(files[batch]), "batch_id": batch}


def _originals_kept(case: Case, files: dict[str, Path]) -> None:
    for batch, path in files.items():
        key = f"incoming/rainfall/{batch}{path.suffix}"
        assert case.storage.read_bytes(key) == path.read_bytes(), key


def _taken_in_once(case: Case) -> None:
    """Accepted once each, the broken batch quarantined, and the next run has nothing."""
    for batch in ("p3", "p4"):
        assert case.storage.exists(f"batches/rainfall/{batch}/meta.json"), batch
    assert case.storage.exists("quarantine/rainfall/broken/validation_result.json")
    with pytest.raises(NothingToDo, match="every landed batch was checked already"):
        _step(case, "validate", {"model": "rainfall", "run": "rainfall_monitor/next"})
    assert [f for f in _findings(case, "rainfall") if f.startswith("unchecked")] == []


def test_a_landing_killed_after_its_write_is_kept_and_taken_in_once(
    store: dict[str, Any], batches: dict[str, Path]
) -> None:
    clean = Case(store, "land-clean")
    _, points = record_boundaries("land", clean.config_dir, _land_args(batches, "p3"))
    assert points == ["storage.create_new:incoming/*@1"]

    for index, point in enumerate(points):
        case = Case(store, f"land-{index}")
        crash("land", case.config_dir, _land_args(batches, "p3"), point)
        # Its Asset event was never posted: the retry lands the same bytes (a no-op)...
        assert _step(case, "land", _land_args(batches, "p3")) == "incoming/rainfall/p3.parquet"
        for batch in ("p4", "broken"):
            _step(case, "land", _land_args(batches, batch))
        # ... and a run started by another batch's event takes p3 in as well.
        intake = _step(case, "validate", {"model": "rainfall", "run": "m/1", "batch_ids": ["p4"]})
        assert intake == ["p3", "p4"], point
        _originals_kept(case, batches)
        _taken_in_once(case)
        _row(
            f"land killed after {point} (before the Asset event)",
            "file kept; retry is a no-op; the next run swept it in",
            "none",
            "none",
            "n/a",
            "yes (retry or next run)",
        )


def test_a_validation_killed_after_any_write_takes_every_batch_in_once(
    store: dict[str, Any], batches: dict[str, Path]
) -> None:
    request = {"model": "rainfall", "run": "rainfall_monitor/run-1", "batch_ids": ["p4"]}

    def landed(name: str) -> Case:
        case = Case(store, name)
        for batch in batches:
            _step(case, "land", _land_args(batches, batch))
        return case

    clean = landed("validate-clean")
    accepted, points = record_boundaries("validate", clean.config_dir, request)
    assert accepted == ["p3", "p4"]
    assert any("intake/" in p for p in points) and any("batches/" in p for p in points)

    for index, point in enumerate(points):
        case = landed(f"validate-{index}")
        crash("validate", case.config_dir, request, point)
        seen = [f for f in _findings(case, "rainfall") if f.startswith("unchecked")]

        retried = _step(case, "validate", request)  # the task's retry: same run

        assert retried == ["p3", "p4"], point
        _originals_kept(case, batches)
        _taken_in_once(case)
        _row(
            f"validate killed after {point}",
            f"doctor saw {len(seen)} unchecked batch(es); retry took every batch in",
            "none",
            "none",
            "n/a",
            "yes (retry)",
        )
