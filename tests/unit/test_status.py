"""model_status() and `retrainer status` on per-batch records written into a local lake."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from typer.testing import CliRunner

from retrainer.config import load_model_config
from retrainer.registry.ledger import record_event
from retrainer.status import model_status
from retrainer.storage import LocalStorage
from tests.conftest import make_config_dir


class FakeRegistry:
    """Just enough of MlflowClient for the champion lookup."""

    def __init__(self, version: str | None, tags: dict[str, str] | None = None) -> None:
        self.version, self.tags = version, tags or {}

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        if self.version is None:
            # What a SQLite store and a tracking server raise for an unset alias.
            raise MlflowException(
                f"Registered model alias {alias} not found.", INVALID_PARAMETER_VALUE
            )
        return SimpleNamespace(version=self.version, tags=self.tags, run_id="r1")


def _monitor(batch: str, at: str, *, drift: bool, version: str | None = "2") -> dict[str, Any]:
    return {
        "model": "rainfall",
        "batch_id": batch,
        "champion_version": version,
        "drift": drift,
        "drift_score": 0.41 if drift else 0.05,
        "drifted_features": ["dew_point"] if drift else [],
        "explanation": "dew_point drifted" if drift else "no drift",
        "realized": {"roc_auc": 0.70},
        "checked_at": at,
    }


def _performance(batch: str, at: str, realized: float, estimated: float) -> dict[str, Any]:
    return {
        "model": "rainfall",
        "batch_id": batch,
        "champion_version": "2",
        "rows": 500,
        "labelled_rows": 480,
        "realized": {"roc_auc": realized},
        "estimated": {"roc_auc": estimated},
        "baseline": {"roc_auc": 0.74},
        "divergence": {"roc_auc": realized - estimated},
        "estimate_broken": abs(realized - estimated) > 0.1,
        "updated_at": at,
    }


def _trigger(batch: str, at: str, decision: str, event: str | None, reasons: list[str]) -> dict:
    return {
        "model": "rainfall",
        "batch_id": batch,
        "decided_at": at,
        "decision": decision,
        "event": event,
        "reasons": reasons,
        "signals": {"realized_roc_auc": 0.5},
        "suppressed_by": "cooldown" if decision == "suppressed" else None,
    }


def write_lake(tmp_path: Path) -> tuple[Path, LocalStorage]:
    """A rainfall config folder and a lake with three batches' records and a promotion."""
    config_dir = make_config_dir(tmp_path)
    storage = LocalStorage(tmp_path / "home" / "lake")
    r = "reports/rainfall"
    # b1: monitor only (written before the other engineers' records existed).
    storage.write_json(f"{r}/b1/monitor.json", _monitor("b1", "2026-11-01T00:00:00", drift=False))
    # b2: all three records; the estimate diverged from the realized value.
    storage.write_json(f"{r}/b2/monitor.json", _monitor("b2", "2026-11-02T00:00:00", drift=True))
    storage.write_json(
        f"{r}/b2/performance.json", _performance("b2", "2026-11-02T01:00:00", 0.52, 0.69)
    )
    storage.write_json(
        f"{r}/b2/trigger.json",
        _trigger("b2", "2026-11-02T01:00:01", "retrain", "decay", ["roc_auc 0.52 < 0.60"]),
    )
    # b3: a suppressed decision; its drift report HTML must not be mistaken for a record.
    storage.write_json(f"{r}/b3/monitor.json", _monitor("b3", "2026-11-03T00:00:00", drift=False))
    storage.write_bytes(f"{r}/b3/drift.html", b"<html></html>")
    storage.write_json(
        f"{r}/b3/trigger.json",
        _trigger("b3", "2026-11-03T00:00:01", "suppressed", "decay", ["cooldown: 1 of 3 batches"]),
    )
    record_event(
        storage, "rainfall", "promote", {"version": "2", "reason": "beats v1", "actor": "ann"}
    )
    return config_dir, storage


@pytest.fixture
def lake(tmp_path: Path) -> tuple[Path, LocalStorage]:
    return write_lake(tmp_path)


def test_status_joins_monitor_performance_and_trigger_records(lake) -> None:  # type: ignore[no-untyped-def]
    config_dir, storage = lake
    config = load_model_config(config_dir / "models" / "rainfall.yaml")
    client = FakeRegistry("2", {"retrainer.trigger": "decay"})

    status = model_status(client, storage, config)  # type: ignore[arg-type]

    assert status.metric == "roc_auc"
    assert status.champion is not None
    assert (status.champion.version, status.champion.event) == ("2", "promote")
    assert (status.champion.trigger, status.champion.by) == ("decay", "ann")
    assert [b.batch_id for b in status.batches] == ["b1", "b2", "b3"]
    b1, b2, _ = status.batches
    assert b1.realized == {"roc_auc": 0.70} and b1.estimated == {} and b1.rows is None
    assert b2.realized == {"roc_auc": 0.52}, "labels joined later win over the monitor's"
    assert b2.estimated == {"roc_auc": 0.69} and b2.estimate_broken is True
    assert (b2.rows, b2.labelled_rows) == (500, 480)
    assert status.last_drift is not None and status.last_drift.batch_id == "b3"
    assert [d.decision for d in status.decisions] == ["retrain", "suppressed"]
    assert status.last_decision is not None
    assert status.last_decision.suppressed_by == "cooldown"
    assert status.decisions[0].reasons == ("roc_auc 0.52 < 0.60",)
    assert status.problems == ()

    payload = json.loads(json.dumps(status.to_dict()))
    assert payload["champion"]["version"] == "2"
    assert payload["champion"]["tags"] == {"trigger": "decay"}
    assert payload["last_decision"]["decision"] == "suppressed"
    assert payload["batches"][1]["estimated"] == {"roc_auc": 0.69}


def test_status_keeps_the_newest_batches_and_names_damaged_records(lake) -> None:  # type: ignore[no-untyped-def]
    config_dir, storage = lake
    config = load_model_config(config_dir / "models" / "rainfall.yaml")
    storage.write_bytes("reports/rainfall/b4/trigger.json", b"{not json")

    status = model_status(FakeRegistry(None), storage, config, last=2)  # type: ignore[arg-type]

    assert status.champion is None
    assert [b.batch_id for b in status.batches] == ["b2", "b3"]
    assert len(status.decisions) == 2
    assert len(status.problems) == 1 and "b4/trigger.json" in status.problems[0]
    with pytest.raises(ValueError, match="last must be at least 1"):
        model_status(FakeRegistry(None), storage, config, last=0)  # type: ignore[arg-type]


def test_status_of_a_model_nothing_has_happened_to(tmp_path: Path) -> None:
    config_dir = make_config_dir(tmp_path)
    config = load_model_config(config_dir / "models" / "rainfall.yaml")
    status = model_status(FakeRegistry(None), LocalStorage(tmp_path / "lake"), config)  # type: ignore[arg-type]
    assert (status.champion, status.batches, status.decisions) == (None, (), ())
    assert status.to_dict()["last_drift"] is None


def test_status_command_prints_a_table_and_json(lake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import retrainer.registry
    from retrainer.cli import app

    config_dir, _ = lake
    client = FakeRegistry("2", {"retrainer.trigger": "decay"})
    monkeypatch.setattr(retrainer.registry, "connect", lambda settings: client)
    runner = CliRunner()

    table = runner.invoke(app, ["status", "rainfall", "--config-dir", str(config_dir)])
    assert table.exit_code == 0, table.output
    assert "champion v2" in table.stdout
    assert "0.520" in table.stdout and "0.690" in table.stdout  # realized / estimated
    assert "retrain (decay)" in table.stdout and "roc_auc 0.52 < 0.60" in table.stdout
    assert "suppressed by cooldown" in table.stdout

    as_json = runner.invoke(app, ["status", "rainfall", "--json", "--config-dir", str(config_dir)])
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.stdout)
    assert payload["model"] == "rainfall" and len(payload["batches"]) == 3

    unknown = runner.invoke(app, ["status", "nosuch", "--config-dir", str(config_dir)])
    assert unknown.exit_code == 2 and "nosuch" in unknown.output
