"""Defaults that act: an untuned YAML gets a scale-free decay rule and a gate that can pass.

Before them, a model YAML with columns and target only had a trigger with no threshold
(nothing ever retrained) and a gate with no rule (it refused even the first model).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from retrainer.config import ModelConfig
from retrainer.evaluation.gate import judge_challenger
from retrainer.evaluation.metrics import chance_metrics
from retrainer.metric_specs import skill
from retrainer.monitoring.trigger import BatchSignals, judge_batch

pytestmark = pytest.mark.unit

BASE = {"name": "m", "numeric_features": ["x"], "target": {"column": "y"}}


def _config(**sections: object) -> ModelConfig:
    return ModelConfig.model_validate({**BASE, **sections})


def test_chance_is_what_a_label_prior_predictor_scores() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.2).astype(int)  # 20% positive
    share = y.mean()
    chance = chance_metrics(y, _config())
    assert chance["roc_auc"] == 0.5
    assert chance["accuracy"] == pytest.approx(1 - share)
    entropy = -(share * math.log(share) + (1 - share) * math.log(1 - share))
    assert chance["log_loss"] == pytest.approx(entropy)
    values = rng.normal(10.0, 3.0, 1000)
    regression = chance_metrics(values, _config(target={"column": "y", "task": "regression"}))
    assert regression["r2"] == pytest.approx(0.0)
    assert regression["rmse"] == pytest.approx(values.std())


def test_skill_is_the_share_of_the_way_from_chance_to_perfect() -> None:
    assert skill("roc_auc", 0.62, None) == pytest.approx(0.24)  # chance 0.5 by definition
    assert skill("accuracy", 0.9, 0.8) == pytest.approx(0.5)
    assert skill("log_loss", 0.3, 0.6) == pytest.approx(0.5)  # losses: perfect is 0
    assert skill("accuracy", 0.9, None) is None  # chance depends on the labels
    assert skill("accuracy", 1.0, 1.0) is None  # a one-class holdout: no skill to have


def test_an_untuned_yaml_gets_the_default_trigger_and_gate() -> None:
    config = _config()
    trigger, gate = config.trigger, config.gate
    assert trigger.has_threshold
    assert (trigger.max_skill_loss, trigger.estimated_max_skill_loss) == (0.25, 0.25)
    assert (trigger.breaches, trigger.of_last) == (2, 3)
    assert gate.min_skill == 0.1
    assert gate.comparison is not None and gate.comparison.kind == "superiority"
    assert gate.max_slice_regression is None  # no slices configured
    sliced = _config(evaluation={"slices": {"columns": ["x"]}})
    assert sliced.gate.max_slice_regression == 0.05
    assert _config(target={"column": "y", "task": "multiclass"}).gate.metric == "accuracy"
    regression = _config(target={"column": "y", "task": "regression"})
    assert regression.gate.metric == "rmse"
    assert regression.trigger.estimated_max_skill_loss is None  # no label-free estimate


def test_a_threshold_someone_chose_turns_that_sections_defaults_off() -> None:
    tuned = _config(trigger={"min_value": 0.7}, gate={"min_value": 0.6})
    assert tuned.trigger.max_skill_loss is None
    assert (tuned.trigger.breaches, tuned.trigger.of_last) == (1, 1)
    assert tuned.gate.min_skill is None and tuned.gate.comparison is None
    # M of N chosen without a threshold keeps the default rule and the chosen M of N.
    mofn = _config(trigger={"breaches": 3, "of_last": 4})
    assert mofn.trigger.max_skill_loss == 0.25
    assert (mofn.trigger.breaches, mofn.trigger.of_last) == (3, 4)
    # Drift alone: the default decay rule switched off by name.
    drift_only = _config(trigger={"max_skill_loss": None, "on_drift": True})
    assert drift_only.trigger.max_skill_loss is None


def _signals(value: float, baseline: float) -> BatchSignals:
    return BatchSignals(
        batch_id="b",
        champion_version="1",
        rows=1000,
        labelled_rows=1000,
        drift=False,
        realized={"roc_auc": value},
        baseline={"roc_auc": baseline, "chance_roc_auc": 0.5},
    )


@pytest.mark.parametrize(
    ("baseline", "value", "breach"),
    [
        (0.62, 0.58, True),  # a third of a weak model's skill: max_drop 0.10 missed it
        (0.62, 0.60, False),
        (0.90, 0.84, False),  # the same 0.04-0.06 loss is noise for a strong model
        (0.90, 0.78, True),
    ],
)
def test_the_default_decay_rule_is_relative_to_skill(
    baseline: float, value: float, breach: bool
) -> None:
    judged = judge_batch(_signals(value, baseline), _config().trigger, "roc_auc")
    assert judged.decay is breach, judged.reasons


def test_the_default_gate_crowns_a_skilled_first_model_and_refuses_a_chance_one() -> None:
    gate = _config().gate
    evidence = {"chance": {"roc_auc": 0.5}}
    first = judge_challenger({"roc_auc": 0.62}, None, gate, evidence)
    assert first.promote, first.reason
    weak = judge_challenger({"roc_auc": 0.53}, None, gate, evidence)
    assert not weak.promote and "skill_floor" in weak.reason
    # Against a champion, the bootstrap interval of the gain must lie above 0.
    interval = {"difference": 0.03, "lower": -0.01, "upper": 0.07, "confidence": 0.95}
    unsure = judge_challenger(
        {"roc_auc": 0.80}, {"roc_auc": 0.77}, gate, evidence | {"intervals": {"roc_auc": interval}}
    )
    assert not unsure.promote and "superiority" in unsure.reason
    sure = judge_challenger(
        {"roc_auc": 0.80},
        {"roc_auc": 0.77},
        gate,
        evidence | {"intervals": {"roc_auc": interval | {"lower": 0.01}}},
    )
    assert sure.promote, sure.reason
