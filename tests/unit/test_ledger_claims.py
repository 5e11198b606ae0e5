"""Champion claims, the ledger's champion-at-time, and the evaluation report, offline."""

from __future__ import annotations

import errno
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from retrainer.errors import RegistryError, StaleClaim
from retrainer.evaluation.report import render_html
from retrainer.registry.claims import Claim, Snapshot, claim_champion, read_claim, release_claim
from retrainer.registry.ledger import champion_at, read_ledger
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


def _claim(storage: LocalStorage, snapshot: Snapshot, version: str, **kw: Any) -> Claim:
    return claim_champion(storage, snapshot, version, event="promote", actor="a", ledger={}, **kw)


def test_claims_are_per_champion_epoch_and_a_retry_finds_its_own(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    claim = _claim(storage, Snapshot("m", "1", 0), "2")
    assert claim.key == "locks/m/champion-1-0.json"
    assert claim.replaces == "1" and claim.ledger == {"claim": claim.key}
    assert _claim(storage, Snapshot("m", "1", 0), "2") == claim  # retried task
    with pytest.raises(RegistryError, match="version 2 of 'm' claimed the replacement"):
        _claim(storage, Snapshot("m", "1", 0), "3")
    # Once the change is in the ledger the epoch moves on, even back to the same version.
    assert _claim(storage, Snapshot("m", "1", 2), "3").key == "locks/m/champion-1-2.json"


def test_a_claim_is_never_on_disk_without_its_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between creating the key and writing it, a claim used to stay empty for ever."""
    storage = LocalStorage(tmp_path)
    target = storage.path / "locks/m/champion-1-0.json"

    def no_hard_links(*_: Any) -> None:
        raise OSError(errno.EPERM, "hard links not supported")

    real_fdopen = os.fdopen

    def full_disk_on_target(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)
        if os.readlink(f"/proc/self/fd/{fd}") == str(target):
            handle.write = _raise_disk_full  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(os, "link", no_hard_links)
    monkeypatch.setattr(os, "fdopen", full_disk_on_target)
    with pytest.raises(OSError, match="No space"):
        storage.create_new("locks/m/champion-1-0.json", b'{"version": "2"}')
    assert not target.exists()  # no empty claim left behind to wedge the model
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    assert storage.create_new("locks/m/champion-1-0.json", b'{"version": "2"}')
    assert target.read_bytes() == b'{"version": "2"}'


def _raise_disk_full(_: bytes) -> int:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_an_empty_claim_is_named_and_a_cleared_one_is_taken_over(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("locks/m/champion-1-0.json", b"")  # what a kill left before the fix
    with pytest.raises(StaleClaim, match=r"champion-1-0.json is empty.*retrainer doctor m") as e:
        _claim(storage, Snapshot("m", "1", 0), "2")
    assert e.value.key == "locks/m/champion-1-0.json"
    release_claim(storage, e.value.key, reason="cleared", actor="retrainer doctor")
    claim = _claim(storage, Snapshot("m", "1", 0), "2")
    assert claim.key == "locks/m/champion-1-0.1.json"
    assert [x["event"] for x in read_ledger(storage, "m")] == ["claim_takeover"]


def test_a_released_or_expired_claim_is_taken_over_once(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    dead = _claim(storage, Snapshot("m", "1", 0), "2")
    with pytest.raises(RegistryError, match=r"retrainer doctor m --stale-after 0"):
        _claim(storage, Snapshot("m", "1", 0), "3")
    taken = _claim(storage, Snapshot("m", "1", 0), "3", stale_after=timedelta(0))
    assert taken.key == "locks/m/champion-1-0.1.json"
    takeover = read_ledger(storage, "m")[-1]
    assert takeover["event"] == "claim_takeover" and takeover["taken_from"] == dead.key
    assert takeover["stale_version"] == "2" and takeover["version"] == "3"
    release_claim(storage, taken.key, reason="move failed: locked", actor="a")
    again = _claim(storage, Snapshot("m", "1", 0), "4")  # released: no wait for the TTL
    assert again.key == "locks/m/champion-1-0.2.json"
    assert read_claim(storage, again.key).version == "4"


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
