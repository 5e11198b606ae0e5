"""Batch and task metrics pushed to a real Pushgateway and read back from its /metrics.

The Pushgateway is Debian's ``prometheus-pushgateway``, started on a free port; the
records are written to a local lake in the shapes the monitor tasks write them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.services_ops import Pushgateway, pushgateway

pytestmark = pytest.mark.integration
__all__ = ["pushgateway"]  # a fixture, imported to be used here


def _lake(tmp_path: Path):  # type: ignore[no-untyped-def]
    from retrainer.storage import open_storage

    return open_storage(str(tmp_path / "lake"))


def _write_checked_batch(storage, batch_id: str) -> None:  # type: ignore[no-untyped-def]
    """An accepted batch with three quarantined rows, drift, performance and a decision."""
    from retrainer.monitoring.check import BatchCheck

    storage.write_json(
        f"batches/rainfall/{batch_id}/meta.json",
        {"batch_id": batch_id, "data_key": "x", "rows": 97, "labelled_rows": 97},
    )
    storage.write_json(
        f"quarantine/rainfall/{batch_id}/validation_result.json",
        {"retrainer": {"status": "rows_quarantined", "quarantined_rows": 3, "row_count": 100}},
    )
    storage.write_bytes(f"quarantine/rainfall/{batch_id}/rows.parquet", b"rows")
    evidence = [
        {"feature": "dew_point", "statistic": "psi", "value": 0.9, "threshold": 0.2},
        {"feature": "humidity", "statistic": "ks", "value": 0.3, "threshold": 0.1},
    ]
    check = BatchCheck(
        "rainfall",
        batch_id,
        "2",
        True,
        0.62,
        ["dew_point", "humidity"],
        "2 of 4 features drifted",
        {"roc_auc": 0.48, "accuracy": 0.51},
        f"reports/rainfall/{batch_id}/drift.html",
        None,
        "2026-11-30T00:00:00+00:00",
        evidence,
    )
    storage.write_json(f"reports/rainfall/{batch_id}/monitor.json", check.to_dict())
    storage.write_json(
        f"reports/rainfall/{batch_id}/drift.json",
        {
            "drift": True,
            "drift_score": 0.62,
            "features": [
                *(e | {"drifted": True} for e in evidence),
                {"feature": "pressure", "statistic": "psi", "value": 0.01, "threshold": 0.2},
                {"feature": "wind", "statistic": "psi", "value": 0.02, "threshold": 0.2},
            ],
        },
    )
    storage.write_json(
        f"reports/rainfall/{batch_id}/performance.json",
        {
            "realized": {"roc_auc": 0.48},
            "estimated": {"roc_auc": 0.55},
            "baseline": {"roc_auc": 0.81},
            "estimate_broken": False,
        },
    )
    storage.write_json(
        f"reports/rainfall/{batch_id}/trigger.json",
        {"decision": "retrain", "event": "decay", "reasons": ["roc_auc 0.55 < 0.70"]},
    )


def test_batch_metrics_are_pushed_and_the_next_batch_replaces_them(
    tmp_path: Path, pushgateway: Pushgateway
) -> None:
    from retrainer.notify.prometheus import push_batch_metrics, read_batch_records

    storage = _lake(tmp_path)
    _write_checked_batch(storage, "p7")
    push_batch_metrics(pushgateway.url, read_batch_records(storage, "rainfall", "p7"))

    m = {"model": "rainfall"}
    info = pushgateway.samples("retrainer_batch_info", **m)
    assert [(s.labels["batch"], s.labels["champion_version"]) for s in info] == [("p7", "2")]
    assert info[0].labels["job"] == "retrainer_batch"  # the group's labels travel along
    assert pushgateway.value("retrainer_champion_version", **m) == 2
    assert pushgateway.value("retrainer_drift_detected", **m) == 1
    assert pushgateway.value("retrainer_drift_score", **m) == pytest.approx(0.62)
    assert pushgateway.value("retrainer_drifted_features", **m) == 2
    assert pushgateway.value("retrainer_drift_share", **m) == pytest.approx(0.5)
    top = dict(feature="dew_point", statistic="psi", **m)
    assert pushgateway.value("retrainer_drift_top_effect", **top) == pytest.approx(0.9)
    assert pushgateway.value("retrainer_drift_top_effect_ratio", **top) == pytest.approx(4.5)
    perf = dict(metric="roc_auc", **m)
    assert pushgateway.value("retrainer_performance_realized", **perf) == pytest.approx(0.48)
    assert pushgateway.value("retrainer_performance_estimated", **perf) == pytest.approx(0.55)
    assert pushgateway.value("retrainer_performance_baseline", **perf) == pytest.approx(0.81)
    assert pushgateway.value("retrainer_performance_estimate_broken", **m) == 0
    assert pushgateway.value("retrainer_validation_status", status="rows_quarantined", **m) == 1
    assert pushgateway.value("retrainer_validation_status", status="accepted", **m) == 0
    assert pushgateway.value("retrainer_validation_rows", **m) == 100
    assert pushgateway.value("retrainer_validation_quarantined_rows", **m) == 3
    assert pushgateway.value("retrainer_trigger_decision", decision="retrain", **m) == 1
    assert pushgateway.value("retrainer_trigger_decision", decision="suppressed", **m) == 0
    assert pushgateway.value("retrainer_trigger_event", event="decay", **m) == 1

    # The next batch is blocked: no monitor, performance or trigger record. Its push
    # replaces the model's group, so nothing of p7 lingers as a stale series.
    storage.write_json(
        "quarantine/rainfall/p8/validation_result.json",
        {"retrainer": {"success": False, "row_count": 120}},
    )
    storage.write_bytes("quarantine/rainfall/p8/p8.parquet", b"raw")
    push_batch_metrics(pushgateway.url, read_batch_records(storage, "rainfall", "p8"))
    assert [s.labels["batch"] for s in pushgateway.samples("retrainer_batch_info", **m)] == ["p8"]
    assert pushgateway.samples("retrainer_drift_top_effect", **m) == []
    assert pushgateway.samples("retrainer_trigger_decision", **m) == []
    assert pushgateway.value("retrainer_validation_status", status="blocked", **m) == 1
    assert pushgateway.value("retrainer_validation_rows", **m) == 120
    counts = {
        s.labels["status"]: s.value
        for s in pushgateway.samples("retrainer_validation_batches", **m)
    }
    assert counts == {"accepted": 0, "rows_quarantined": 1, "blocked": 1}


def test_task_durations_go_to_one_group_per_task(pushgateway: Pushgateway) -> None:
    from retrainer.notify.prometheus import push_task_duration

    common = {"model": "ozone", "dag": "ozone_monitor"}
    push_task_duration(pushgateway.url, task="validate_batch", seconds=2.5, failed=False, **common)
    push_task_duration(pushgateway.url, task="check_batch", seconds=7.25, failed=True, **common)
    push_task_duration(pushgateway.url, task="validate_batch", seconds=1.5, failed=False, **common)
    durations = {
        s.labels["task"]: s.value
        for s in pushgateway.samples("retrainer_task_duration_seconds", **common)
    }
    assert durations == {"validate_batch": 1.5, "check_batch": 7.25}
    assert pushgateway.value("retrainer_task_failed", task="check_batch", **common) == 1
