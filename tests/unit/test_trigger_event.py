"""The trigger event: one typed schema from the monitor's decision to the retrain run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from retrainer.errors import ConfigError, GateError, NothingToDo, RegistryError
from retrainer.monitoring.events import TriggerEvent
from retrainer.monitoring.verdicts import Verdict
from retrainer.orchestration.base import airflow_errors
from retrainer.orchestration.context import batch_ids_from, trigger_of

# The extra the monitor emitted before TriggerEvent existed: readers rely on these keys.
EXTRA_KEYS = [
    "model",
    "event",
    "batch_id",
    "batches",
    "champion_version",
    "reasons",
    "explanation",
    "drift",
    "drift_score",
    "realized",
    "estimated",
    "baseline",
    "drifted_features",
    "report_uri",
    "evidence",
    "prediction_drift",
]


def _verdict(batch_id: str, event: str | None, decision: str = "retrain") -> Verdict:
    record = {
        "model": "rainfall",
        "batch_id": batch_id,
        "decided_at": "2026-01-01T00:00:00+00:00",
        "decision": decision,
        "event": event,
        "reasons": [f"roc_auc 0.41 < floor 0.65 in {batch_id}"],
        "signals": {
            "drift": True,
            "drift_score": 0.7,
            "realized": {"roc_auc": 0.41},
            "estimated": {},
            "baseline": {"roc_auc": 0.8},
        },
        "suppressed_by": None,
        "champion_version": "1",
        "breach": {"decay": True, "drift": True},
    }
    return Verdict.from_xcom(
        record
        | {
            "report_uri": f"file:///lake/reports/rainfall/{batch_id}/drift.html",
            "drifted_features": ["dew_point"],
            "explanation": "dew_point drifted",
            "evidence": [{"feature": "dew_point", "value": 0.4, "threshold": 0.1}],
            "prediction_drift": {"statistic": "psi", "value": 0.3},
        }
    )


def test_verdict_round_trips_through_xcom() -> None:
    verdict = _verdict("p7", "decay")
    assert Verdict.from_xcom(json.loads(json.dumps(verdict.to_xcom()))) == verdict


def test_event_from_verdicts_keeps_the_extra_keys_and_the_newest_batch() -> None:
    event = TriggerEvent.from_verdicts(
        "rainfall", "decay", [_verdict("p6", "decay"), _verdict("p7", "decay")]
    )
    extra = event.to_xcom()
    assert list(extra) == EXTRA_KEYS
    assert extra["batch_id"] == "p7" and extra["batches"] == ["p6", "p7"]
    assert extra["explanation"] == "roc_auc 0.41 < floor 0.65 in p7"
    assert extra["baseline"] == {"roc_auc": 0.8} and extra["drift"] is True
    assert extra["evidence"][0]["feature"] == "dew_point"
    again = TriggerEvent.from_xcom(json.loads(json.dumps(extra)))
    assert again == event and again.to_xcom() == extra


def test_no_verdict_for_the_event_is_nothing_to_do() -> None:
    with pytest.raises(NothingToDo, match=r"no drift retrain requested \(p7: retrain\)"):
        TriggerEvent.from_verdicts("rainfall", "drift", [_verdict("p7", "decay")])


def test_hand_posted_event_with_a_few_keys_is_read() -> None:
    event = TriggerEvent.from_xcom(
        {"batch_id": "p9", "explanation": "labels say so"}, model="rainfall", event="drift"
    )
    assert (event.model, event.event, event.batches) == ("rainfall", "drift", ("p9",))
    assert event.to_xcom()["realized"] == {} and event.to_xcom()["reasons"] == []


def test_event_without_a_batch_names_the_missing_field() -> None:
    with pytest.raises(ConfigError, match="lacks batch_id"):
        TriggerEvent.from_xcom({"explanation": "x"}, model="rainfall", event="drift")


class _Event:
    def __init__(self, extra: dict[str, Any]) -> None:
        self.extra = extra


class _Run:
    run_type = "asset_triggered"


def test_trigger_of_prefers_decay_and_parses_the_event() -> None:
    decay = TriggerEvent.from_verdicts("rainfall", "decay", [_verdict("p7", "decay")])
    context = {
        "dag_run": _Run(),
        "params": {},
        "triggering_asset_events": {
            "retrainer://rainfall/drift": [_Event({"batch_id": "p6"})],
            "retrainer://rainfall/decay": [_Event(decay.to_xcom())],
        },
    }
    kind, reason, event = trigger_of(context)
    assert kind == "decay" and event == decay
    assert reason == "p6: retrainer://rainfall/drift; p7: roc_auc 0.41 < floor 0.65 in p7"
    assert batch_ids_from(context) == ["p6", "p7"]


def test_airflow_errors_maps_skip_fail_and_lets_faults_retry() -> None:
    with pytest.raises(AirflowSkipException), airflow_errors():
        raise NothingToDo("nothing")
    with pytest.raises(AirflowFailException), airflow_errors():
        raise RegistryError("refused")
    with pytest.raises(GateError), airflow_errors():
        raise GateError("undecided")
