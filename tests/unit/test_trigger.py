"""The trigger policy on seeded and hand-written signal sequences: exact decision points.

``replay`` plays a sequence of monthly batches through :func:`decide_trigger` the way the
monitor does: each decision sees the earlier batches, and a retrain makes a new champion
(a new version, its history record at the batch's time) from the next batch on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from retrainer.config import ModelConfig, TriggerConfig, WindowConfig
from retrainer.lake import BatchMeta
from retrainer.monitoring.trigger import (
    BatchSignals,
    PastRetrain,
    TriggerDecision,
    decide_trigger,
    judge_batch,
)
from retrainer.training.window import choose_batches

pytestmark = pytest.mark.unit

START = datetime(2013, 1, 31, tzinfo=UTC)


def _signals(i: int, value: float | None, version: str, **kw: Any) -> BatchSignals:
    base = {
        "batch_id": f"b{i:02d}",
        "champion_version": version,
        "rows": 30,
        "labelled_rows": 30,
        "drift": False,
        "drift_score": 0.05,
        "realized": {} if value is None else {"accuracy": value},
        "baseline": {"accuracy": 0.80},
        "batch_time": (START + timedelta(days=30 * i)).isoformat(),
    }
    return BatchSignals(**(base | kw))


def replay(values: list[float | None], policy: TriggerConfig, **kw: Any) -> list[TriggerDecision]:
    history = [PastRetrain("1", "manual", START - timedelta(days=31))]
    previous: list[BatchSignals] = []
    decisions = []
    for i, value in enumerate(values):
        current = _signals(i, value, history[-1].version, **kw)
        decision = decide_trigger("m", current, previous, history, policy, "accuracy")
        decisions.append(decision)
        previous.append(current)
        if decision.decision == "retrain":
            history.append(PastRetrain(str(len(history) + 1), decision.event or "", _at(i)))
    return decisions


def _at(i: int) -> datetime:
    return START + timedelta(days=30 * i)


def _points(decisions: list[TriggerDecision], kind: str = "retrain") -> list[int]:
    return [i for i, d in enumerate(decisions) if d.decision == kind]


FLOOR_3_OF_4 = TriggerConfig(min_value=0.6, breaches=3, of_last=4)


def test_noise_around_the_baseline_never_triggers() -> None:
    rng = np.random.default_rng(42)
    values = list(np.clip(rng.normal(0.80, 0.06, size=60), 0, 1))
    decisions = replay(values, FLOOR_3_OF_4)
    assert _points(decisions) == []
    assert all(d.event is None for d in decisions)


def test_single_bad_batches_are_noise_but_a_sustained_fall_fires_once() -> None:
    #         0    1    2    3    4    5    6    7    8    9   10   11
    values = [0.8, 0.5, 0.8, 0.8, 0.5, 0.8, 0.5, 0.4, 0.8, 0.4, 0.4, 0.4]
    decisions = replay(values, FLOOR_3_OF_4)
    # 4-7: b04, b06, b07 breach -> 3 of the last 4 at batch 7. The new champion (v2) starts
    # with a clean slate: 9, 10, 11 are its first three breaches -> fires again at 11.
    assert _points(decisions) == [7, 11]
    assert decisions[7].event == "decay"
    assert "accuracy 0.40 < floor 0.60" in decisions[7].reasons
    assert "3 of last 4 batches of v1 breached performance (need 3 of 4)" in decisions[7].reasons
    assert decisions[9].signals.champion_version == "2"


def test_a_recovered_batch_ends_the_alarm() -> None:
    # 3 of the last 4 breached at batch 3 too, but batch 3 itself is fine: no retrain.
    decisions = replay([0.5, 0.5, 0.5, 0.8], TriggerConfig(min_value=0.6, breaches=2, of_last=4))
    assert _points(decisions) == [1]
    assert decisions[3].decision == "none"


def test_drop_from_the_baseline_and_lower_is_better_metrics() -> None:
    policy = TriggerConfig(max_drop=0.1)
    assert _points(replay([0.75, 0.71, 0.69], policy)) == [2]
    reason = replay([0.69], policy)[0].reasons[0]
    assert reason == (
        "accuracy 0.69 is 0.110 worse than the champion's 0.80 at training (max_drop 0.10)"
    )
    loss = TriggerConfig(min_value=0.7)  # for log_loss min_value is a ceiling
    current = BatchSignals("b", "1", 30, 30, False, realized={"log_loss": 0.9})
    judged = judge_batch(current, loss, "log_loss")
    assert judged.decay and judged.reasons[0] == "log_loss 0.90 > ceiling 0.70"


def test_cooldown_suppresses_and_says_until_when() -> None:
    policy = TriggerConfig(min_value=0.6, cooldown_days=75)
    decisions = replay([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], policy)
    # v1 was trained 31 days before batch 0: cooldown to START+44d, so batch 0 (day 0) and
    # batch 1 (day 30) are suppressed, batch 2 (day 60) retrains, then 3-4 cool down.
    assert [d.decision for d in decisions] == [
        "suppressed",
        "suppressed",
        "retrain",
        "suppressed",
        "suppressed",
        "retrain",
    ]
    assert decisions[0].suppressed_by == "cooldown until 2013-03-16 (v1, manual)"
    assert decisions[0].event is None


def test_at_most_n_retrains_per_period() -> None:
    policy = TriggerConfig(min_value=0.6, max_retrains=2, period_days=100)
    decisions = replay([0.5] * 8, policy)
    assert _points(decisions) == [0, 1, 4, 5]
    assert decisions[2].suppressed_by == "max 2 retrains per 100 days (v2, v3)"


def test_too_few_labels_or_rows_suppress() -> None:
    policy = TriggerConfig(min_value=0.6, min_labels=25, min_rows=20)
    few_labels = replay([0.3], policy, labelled_rows=10)[0]
    assert few_labels.decision == "suppressed"
    assert few_labels.suppressed_by == "only 10 labels < min_labels 25"
    few_rows = replay([0.3], policy, rows=12, labelled_rows=12)[0]
    assert few_rows.decision == "suppressed"
    # 12 labels are also < 25: the labels speak first, the batch never counted.
    assert few_rows.suppressed_by == "only 12 labels < min_labels 25"
    small = replay([0.3], TriggerConfig(min_value=0.6, min_labels=5, min_rows=20), rows=12)[0]
    assert small.suppressed_by == "only 12 rows < min_rows 20"


def test_drift_alone_triggers_only_when_allowed() -> None:
    drifted = {"drift": True, "drift_score": 0.7}
    quiet = replay([0.8, 0.8], TriggerConfig(min_value=0.6), **drifted)
    assert _points(quiet) == []
    assert "input drift (score 0.70), not a retrain reason alone (on_drift: false)" in (
        quiet[0].reasons
    )
    loud = replay([0.8, 0.8], TriggerConfig(on_drift=True), **drifted)
    assert _points(loud) == [0, 1] and loud[0].event == "drift"
    both = replay([0.5], TriggerConfig(min_value=0.6, on_drift=True), **drifted)
    assert both[0].event == "decay"  # decay wins: it is the stronger evidence


def test_estimate_counts_without_labels_unless_broken() -> None:
    policy = TriggerConfig(min_value=0.6, estimated_min_value=0.65)
    unlabelled = {"labelled_rows": 0, "estimated": {"accuracy": 0.55}}
    decisions = replay([None], policy, **unlabelled)
    assert decisions[0].event == "decay"
    assert decisions[0].reasons[0] == "estimated accuracy 0.55 < floor 0.65"
    broken = replay([None], policy, estimate_broken=True, **unlabelled)
    assert broken[0].decision == "none"
    assert "estimated accuracy ignored: its assumptions broke" in broken[0].reasons


def test_no_champion_is_nothing_to_judge() -> None:
    current = BatchSignals("b0", None, 100, 100, False)
    decision = decide_trigger("m", current, [], [], TriggerConfig(min_value=0.9), "accuracy")
    assert decision.decision == "none"
    record = decision.to_dict()
    assert set(record) >= {
        "model",
        "batch_id",
        "decided_at",
        "decision",
        "event",
        "reasons",
        "signals",
        "suppressed_by",
    }
    assert set(record["signals"]) >= {"drift", "drift_score", "realized", "estimated", "baseline"}


def test_trigger_config_is_validated() -> None:
    with pytest.raises(ValueError, match="breaches 4 cannot exceed of_last 3"):
        TriggerConfig(breaches=4, of_last=3)
    base: dict[str, Any] = {
        "name": "m",
        "numeric_features": ["x"],
        "target": {"column": "y", "task": "binary"},
    }
    with pytest.raises(ValueError, match=r"trigger\.metric 'rmse' does not fit a binary task"):
        ModelConfig.model_validate(base | {"trigger": {"metric": "rmse"}})
    with pytest.raises(ValueError, match="extra"):
        ModelConfig.model_validate(base | {"trigger": {"min_valu": 0.5}})
    with pytest.raises(ValueError, match="not both"):
        ModelConfig.model_validate(
            base | {"training": {"window_batches": 2, "window": {"kind": "expanding"}}}
        )
    old = ModelConfig.model_validate(base | {"training": {"window_batches": 3}})
    assert old.training.window == WindowConfig(kind="sliding", batches=3)
    assert ModelConfig.model_validate(base).trigger_metric == "roc_auc"  # the gate's


def _metas(n: int, rows: int = 30) -> list[BatchMeta]:
    return [BatchMeta(f"b{i}", rows=rows, labelled_rows=rows) for i in range(n)]


def test_window_policies_pick_their_batches() -> None:
    metas = _metas(10)
    common = {"min_rows": 60, "holdout_fraction": 0.3}

    def ids(window: WindowConfig, **kw: Any) -> list[str]:
        return [m.batch_id for m in choose_batches(metas, window, **common, **kw)[0]]

    assert ids(WindowConfig(kind="sliding", batches=3)) == ["b7", "b8", "b9"]
    assert len(ids(WindowConfig(kind="expanding"))) == 10
    since = WindowConfig(kind="since_break", batches=4)
    # The champion learned b0-b2; b5 is the first flagged batch after it (b1 is older).
    assert ids(since, champion_batches=["b0", "b1", "b2"], flagged=["b1", "b5", "b6"]) == [
        "b5",
        "b6",
        "b7",
        "b8",
        "b9",
    ]
    # Right after the break there is too little new data: widen back to min_rows.
    chosen, note = choose_batches(metas, since, **common, champion_batches=["b0"], flagged=["b9"])
    assert [m.batch_id for m in chosen] == ["b7", "b8", "b9"]
    assert "widened back to b7" in note
    assert ids(since, champion_batches=["b0"], flagged=[]) == ["b6", "b7", "b8", "b9"]


class _Version:
    tags = {"retrainer.holdout_accuracy": "0.81", "retrainer.holdout_rows": "120.0"}


class _Client:
    def get_model_version(self, model: str, version: str) -> _Version:
        assert (model, version) == ("rainfall", "3")
        return _Version()


def test_signals_come_from_performance_json_when_present_else_monitor_json(
    tmp_path, repo_root
) -> None:  # type: ignore[no-untyped-def]
    from retrainer.config import load_model_config
    from retrainer.monitoring.signals import gather_signals
    from retrainer.storage import LocalStorage

    storage = LocalStorage(tmp_path)
    config = load_model_config(repo_root / "config/models/rainfall.yaml")
    storage.write_json(
        "batches/rainfall/b1/meta.json", {"rows": 900, "labelled_rows": 900, "end": "1960-01-01"}
    )
    storage.write_json(
        "reports/rainfall/b1/monitor.json",
        {
            "champion_version": "3",
            "drift": True,
            "drift_score": 0.4,
            "realized": {"accuracy": 0.7, "rows": 880.0},
        },
    )
    fallback = gather_signals(storage, _Client(), config, "b1")  # type: ignore[arg-type]
    assert fallback.realized == {"accuracy": 0.7}
    assert fallback.baseline == {"accuracy": 0.81}  # the champion's tags, not "rows"
    assert (fallback.rows, fallback.labelled_rows, fallback.drift) == (900, 880, True)
    assert fallback.batch_time == "1960-01-01"

    storage.write_json(
        "reports/rainfall/b1/performance.json",
        {
            "champion_version": "3",
            "rows": 900,
            "labelled_rows": 0,
            "realized": {},
            "estimated": {"accuracy": 0.55},
            "baseline": {"accuracy": 0.8},
            "estimate_broken": False,
        },
    )
    merged = gather_signals(storage, _Client(), config, "b1")  # type: ignore[arg-type]
    assert merged.realized == {} and merged.labelled_rows == 0
    assert merged.estimated == {"accuracy": 0.55} and merged.baseline == {"accuracy": 0.8}
    assert merged.drift is True  # drift still comes from the check


def test_a_batch_never_checked_is_a_clear_error(tmp_path, repo_root) -> None:  # type: ignore[no-untyped-def]
    from retrainer.config import load_model_config
    from retrainer.errors import ObjectNotFound
    from retrainer.monitoring.signals import gather_signals
    from retrainer.storage import LocalStorage

    config = load_model_config(repo_root / "config/models/rainfall.yaml")
    with pytest.raises(ObjectNotFound, match="check_batch must run before"):
        gather_signals(LocalStorage(tmp_path), _Client(), config, "b9")  # type: ignore[arg-type]
