"""Champion claims, the ledger's champion-at-time, and the evaluation report, offline."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from retrainer.errors import RegistryError
from retrainer.evaluation.report import render_html
from retrainer.registry.claims import claim_champion
from retrainer.registry.ledger import champion_at, record_event
from retrainer.storage import LocalStorage

pytestmark = pytest.mark.unit


def test_create_new_has_exactly_one_winner_among_threads(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    barrier = threading.Barrier(8)
    wins: list[int] = []

    def racer(i: int) -> None:
        barrier.wait()
        if storage.create_new("locks/m/x.json", f"{i}".encode()):
            wins.append(i)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert storage.read_bytes("locks/m/x.json") == f"{wins[0]}".encode()


def test_claims_are_per_champion_epoch_and_a_retry_finds_its_own(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = claim_champion(storage, "m", "1", "2", actor="a")
    assert key == "locks/m/champion-1-0.json"
    assert claim_champion(storage, "m", "1", "2", actor="a") == key  # retried task
    with pytest.raises(RegistryError, match="version 2 of 'm' already claimed"):
        claim_champion(storage, "m", "1", "3", actor="b")
    # Once the change is in the ledger the epoch moves on, even back to the same version.
    record_event(storage, "m", "promote", {"version": "2", "previous_version": "1"})
    record_event(storage, "m", "rollback", {"version": "1", "previous_version": "2"})
    assert claim_champion(storage, "m", "1", "3", actor="b") == "locks/m/champion-1-2.json"


def test_champion_at_a_time() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [
        {"event": "promote", "version": "1", "time": t0.isoformat()},
        {"event": "reject", "version": "2", "time": (t0 + timedelta(days=1)).isoformat()},
        {"event": "promote", "version": "3", "time": (t0 + timedelta(days=2)).isoformat()},
        {"event": "manual_change", "version": "1", "time": (t0 + timedelta(days=3)).isoformat()},
    ]
    assert champion_at(entries, t0 - timedelta(seconds=1)) is None
    assert champion_at(entries, t0 + timedelta(days=1, hours=12))["version"] == "1"  # type: ignore[index]
    assert champion_at(entries, datetime(2026, 1, 3, 12))["version"] == "3"  # type: ignore[index]
    assert champion_at(entries, t0 + timedelta(days=9))["event"] == "manual_change"  # type: ignore[index]


def test_report_leads_with_the_decision_and_escapes_text() -> None:
    report = {
        "model": "rainfall",
        "challenger_version": "2",
        "champion_version": "1",
        "holdout_key": "datasets/rainfall/x/holdout.parquet",
        "decision": {
            "promote": False,
            "decision": "reject",
            "reason": "rejected: slice_regression: <b>south</b>",
            "rules": [
                {"rule": "superiority", "kind": "comparison", "passed": True, "detail": "ok"},
                {"rule": "slice_regression", "kind": "safety", "passed": False, "detail": "x"},
            ],
        },
        "challenger_metrics": {"roc_auc": 0.86},
        "champion_metrics": {"roc_auc": 0.36},
        "evidence": {
            "rows": 548,
            "intervals": {
                "roc_auc": {"difference": 0.5, "lower": 0.45, "upper": 0.55, "confidence": 0.95}
            },
            "mcnemar": {"challenger_only": 120, "champion_only": 10, "p_value": 1e-20},
            "slices": [{"column": "t", "slice": "a", "rows": 150, "gain": -0.1}],
            "latency_ms_per_1k_rows": {"challenger": 20.0, "champion": 19.0},
            "model_size_mb": {"challenger": 0.4, "champion": 0.4},
        },
    }
    html = render_html(report)
    assert html.index("Gate decision: reject") < html.index("<h2>Metrics</h2>")
    assert "&lt;b&gt;south&lt;/b&gt;" in html and "<b>south</b>" not in html
    assert html.count("<svg") == 2  # metric intervals and slice gains
    assert "McNemar (exact)" in html and "FAIL" in html
