"""The gate fails closed and explains every rule."""

from __future__ import annotations

import pytest

from retrainer.config import GateConfig
from retrainer.evaluation import judge_challenger

pytestmark = pytest.mark.unit


def test_first_model_passes_on_the_floor_alone() -> None:
    decision = judge_challenger(
        {"roc_auc": 0.82}, None, GateConfig(min_value=0.7, min_improvement=0.02)
    )
    assert decision.promote
    assert [r.rule for r in decision.rules] == ["absolute_floor"]


def test_first_model_below_floor_is_rejected() -> None:
    decision = judge_challenger({"roc_auc": 0.65}, None, GateConfig(min_value=0.7))
    assert not decision.promote
    assert "absolute_floor" in decision.reason


def test_challenger_must_beat_champion_by_margin() -> None:
    gate = GateConfig(min_value=0.7, min_improvement=0.02)
    assert judge_challenger({"roc_auc": 0.85}, {"roc_auc": 0.80}, gate).promote
    rejected = judge_challenger({"roc_auc": 0.81}, {"roc_auc": 0.80}, gate)
    assert not rejected.promote
    assert "gain +0.0100 < margin 0.02" in rejected.reason


def test_lower_is_better_metrics() -> None:
    gate = GateConfig(metric="log_loss", min_value=0.6, min_improvement=0.01)
    assert judge_challenger({"log_loss": 0.40}, {"log_loss": 0.45}, gate).promote
    assert not judge_challenger({"log_loss": 0.445}, {"log_loss": 0.45}, gate).promote


def test_fails_closed_without_rules_or_metric() -> None:
    assert not judge_challenger({"roc_auc": 0.9}, None, GateConfig()).promote
    assert not judge_challenger({"roc_auc": 0.9}, {"roc_auc": 0.5}, GateConfig()).promote
    missing = judge_challenger({"accuracy": 0.9}, None, GateConfig(min_value=0.5))
    assert not missing.promote and "metric_available" in missing.reason
    unscorable_champion = judge_challenger(
        {"roc_auc": 0.9}, {}, GateConfig(min_value=0.5, min_improvement=0.0)
    )
    assert not unscorable_champion.promote


def _interval(diff: float, lower: float, upper: float, metric: str = "roc_auc") -> dict:
    return {
        "intervals": {
            metric: {
                "metric": metric,
                "difference": diff,
                "lower": lower,
                "upper": upper,
                "confidence": 0.95,
                "resamples": 1000,
            }
        }
    }


def test_superiority_needs_the_lower_bound_above_the_margin() -> None:
    gate = GateConfig(min_value=0.6, comparison={"kind": "superiority", "margin": 0.01})
    mine, theirs = {"roc_auc": 0.85}, {"roc_auc": 0.80}
    assert judge_challenger(mine, theirs, gate, _interval(0.05, 0.02, 0.08)).promote
    lucky = judge_challenger(mine, theirs, gate, _interval(0.05, -0.01, 0.11))
    assert not lucky.promote
    assert "superiority: roc_auc gain +0.0500, 95% lower bound -0.0100 <= +0.0100" in lucky.reason
    assert lucky.safety_failures == []  # not better is not unsafe
    no_interval = judge_challenger(mine, theirs, gate, {})
    assert not no_interval.promote and "no bootstrap interval" in no_interval.reason


def test_non_inferiority_on_a_lower_is_better_metric() -> None:
    gate = GateConfig(
        metric="log_loss",
        min_value=0.7,
        comparison={"kind": "non_inferiority", "margin": 0.02},
    )
    mine, theirs = {"log_loss": 0.41}, {"log_loss": 0.40}
    # challenger - champion log loss in [-0.005, +0.015]: gain lower bound -0.015 > -0.02
    assert judge_challenger(mine, theirs, gate, _interval(0.01, -0.005, 0.015, "log_loss")).promote
    worse = judge_challenger(mine, theirs, gate, _interval(0.01, -0.005, 0.03, "log_loss"))
    assert not worse.promote and "non_inferiority" in worse.reason


def test_slice_and_fairness_regressions_block_a_better_model_as_safety_failures() -> None:
    gate = GateConfig(
        min_value=0.6,
        min_improvement=0.01,
        max_slice_regression=0.05,
        fairness={"min_disparate_impact": 0.8, "max_equal_opportunity_difference": 0.1},
    )
    evidence = {
        "slices": [
            {"column": "region", "slice": "north", "rows": 400, "gain": 0.10},
            {"column": "region", "slice": "south", "rows": 300, "gain": -0.08},
            {"column": "region", "slice": "tiny", "rows": 5, "skipped": "fewer than 100 rows"},
        ],
        "fairness": {
            "challenger": {
                "attribute": "group",
                "disparate_impact": 0.62,
                "equal_opportunity_difference": 0.04,
            }
        },
    }
    decision = judge_challenger({"roc_auc": 0.90}, {"roc_auc": 0.80}, gate, evidence)
    assert not decision.promote
    assert decision.safety_failures == ["slice_regression", "fairness_disparate_impact"]
    assert "region=south -0.0800" in decision.reason
    assert "disparate impact 0.620 below 0.8" in decision.reason
    kinds = {r["rule"]: r["kind"] for r in decision.to_dict()["rules"]}
    assert kinds["improvement"] == "comparison" and kinds["slice_regression"] == "safety"


def test_fairness_latency_and_size_apply_to_a_first_model_and_fail_closed() -> None:
    gate = GateConfig(
        min_value=0.6,
        fairness={"min_disparate_impact": 0.8},
        max_latency_ms_per_1k_rows=50.0,
        max_model_size_mb=10.0,
    )
    good = {
        "fairness": {"challenger": {"attribute": "g", "disparate_impact": 0.9}},
        "latency_ms_per_1k_rows": {"challenger": 12.0},
        "model_size_mb": {"challenger": 1.5},
    }
    assert judge_challenger({"roc_auc": 0.8}, None, gate, good).promote
    slow = {**good, "latency_ms_per_1k_rows": {"challenger": 80.0}}
    assert judge_challenger({"roc_auc": 0.8}, None, gate, slow).safety_failures == ["latency"]
    missing = judge_challenger({"roc_auc": 0.8}, None, gate, {})
    assert set(missing.safety_failures) == {"fairness_disparate_impact", "latency", "model_size"}


def test_extra_floors_and_an_unscorable_champion() -> None:
    gate = GateConfig(min_value=0.6, floors={"accuracy": 0.7, "log_loss": 0.5})
    ok = judge_challenger({"roc_auc": 0.8, "accuracy": 0.75, "log_loss": 0.45}, None, gate)
    assert ok.promote
    low = judge_challenger({"roc_auc": 0.8, "accuracy": 0.65, "log_loss": 0.55}, None, gate)
    assert low.safety_failures == ["floor_accuracy", "floor_log_loss"]
    gate = GateConfig(min_value=0.6, comparison={"kind": "superiority"})
    broken = judge_challenger({"roc_auc": 0.8}, {}, gate, {"champion_error": "no such file"})
    assert not broken.promote and broken.safety_failures == []
    assert "champion_scored" in broken.reason


def test_shadow_verdict_needs_k_batches_and_a_positive_mean_gain() -> None:
    from retrainer.evaluation.shadow import shadow_verdict

    def result(batch: str, mine: float | None, theirs: float) -> dict:
        return {
            "batch_id": batch,
            "challenger": {} if mine is None else {"roc_auc": mine},
            "champion": {"roc_auc": theirs},
        }

    assert shadow_verdict([result("a", 0.8, 0.7)], 2, "roc_auc")[0] == "running"
    won = shadow_verdict([result("a", 0.8, 0.7), result("b", 0.69, 0.7)], 2, "roc_auc")
    assert won == ("won", "mean roc_auc gain +0.0450 over 2 shadow batches")
    lost = shadow_verdict([result("a", 0.6, 0.7), result("b", 0.75, 0.7)], 2, "roc_auc")
    assert lost[0] == "lost"
    missing = shadow_verdict([result("a", None, 0.7)], 1, "roc_auc")
    assert missing == ("lost", "roc_auc missing on batch a")
