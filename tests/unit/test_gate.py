"""The gate fails closed and explains every rule."""

from __future__ import annotations

import pytest

from retrainer.config import GateConfig
from retrainer.evaluation import decide

pytestmark = pytest.mark.unit


def test_first_model_passes_on_the_floor_alone() -> None:
    decision = decide({"roc_auc": 0.82}, None, GateConfig(min_value=0.7, min_improvement=0.02))
    assert decision.promote
    assert [r.rule for r in decision.rules] == ["absolute_floor"]


def test_first_model_below_floor_is_rejected() -> None:
    decision = decide({"roc_auc": 0.65}, None, GateConfig(min_value=0.7))
    assert not decision.promote
    assert "absolute_floor" in decision.reason


def test_challenger_must_beat_champion_by_margin() -> None:
    gate = GateConfig(min_value=0.7, min_improvement=0.02)
    assert decide({"roc_auc": 0.85}, {"roc_auc": 0.80}, gate).promote
    rejected = decide({"roc_auc": 0.81}, {"roc_auc": 0.80}, gate)
    assert not rejected.promote
    assert "gain +0.0100 < margin 0.02" in rejected.reason


def test_lower_is_better_metrics() -> None:
    gate = GateConfig(metric="log_loss", min_value=0.6, min_improvement=0.01)
    assert decide({"log_loss": 0.40}, {"log_loss": 0.45}, gate).promote
    assert not decide({"log_loss": 0.445}, {"log_loss": 0.45}, gate).promote


def test_fails_closed_without_rules_or_metric() -> None:
    assert not decide({"roc_auc": 0.9}, None, GateConfig()).promote
    assert not decide({"roc_auc": 0.9}, {"roc_auc": 0.5}, GateConfig()).promote
    missing = decide({"accuracy": 0.9}, None, GateConfig(min_value=0.5))
    assert not missing.promote and "metric_available" in missing.reason
    unscorable_champion = decide(
        {"roc_auc": 0.9}, {}, GateConfig(min_value=0.5, min_improvement=0.0)
    )
    assert not unscorable_champion.promote
