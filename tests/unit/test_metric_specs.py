"""The metric inventory: the YAML vocabularies, directions and bootstrap support agree."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from retrainer.config import GateConfig, ModelConfig
from retrainer.evaluation.bootstrap import weighted_metric
from retrainer.metric_specs import (
    BOOTSTRAP_METRICS,
    METRICS,
    GateMetric,
    Task,
    TriggerMetric,
    bootstrap_metrics,
    greater_is_better,
    metric_spec,
)


def test_yaml_vocabularies_are_the_inventory() -> None:
    assert get_args(TriggerMetric) == tuple(METRICS)
    assert get_args(GateMetric) == tuple(m for m, spec in METRICS.items() if spec.gate)


def test_directions() -> None:
    losses = {m for m in METRICS if not greater_is_better(m)}
    assert losses == {"log_loss", "rmse", "mae"}
    assert GateConfig(metric="rmse").greater_is_better is False
    assert GateConfig(metric="r2").greater_is_better is True
    with pytest.raises(KeyError):
        greater_is_better("mape")


def test_tasks() -> None:
    regression = {m for m, spec in METRICS.items() if spec.applies_to("regression")}
    assert regression == {"rmse", "mae", "r2"}
    for name, spec in METRICS.items():
        # A metric is either a regression metric or one of every classifier.
        assert spec.tasks in ({"regression"}, {"binary", "multiclass"}), name
        assert spec.bootstrap_tasks <= spec.tasks, name


def test_bootstrap_metrics_per_task() -> None:
    assert bootstrap_metrics("binary") == ("roc_auc", "accuracy", "f1", "log_loss")
    assert bootstrap_metrics("multiclass") == ("accuracy",)
    assert bootstrap_metrics("regression") == ("rmse", "mae")
    assert BOOTSTRAP_METRICS == ("roc_auc", "accuracy", "f1", "log_loss", "rmse", "mae")
    assert not metric_spec("r2").bootstrappable
    assert set(get_args(Task)) == {"binary", "multiclass", "regression"}


@pytest.mark.parametrize("metric", BOOTSTRAP_METRICS)
def test_every_bootstrappable_metric_can_be_resampled(metric: str) -> None:
    y = np.array([1.0, 0.0, 1.0, 0.0])
    value = weighted_metric(metric, np.ones((1, 4)), y, y, np.array([0.9, 0.2, 0.7, 0.4]))
    assert np.isfinite(value).all()


def test_config_rejects_a_metric_of_another_task() -> None:
    base = {"name": "m", "numeric_features": ["x"], "target": {"column": "y"}}
    regression = {**base, "target": {"column": "y", "task": "regression"}}
    with pytest.raises(ValueError, match="do not fit a regression task"):
        ModelConfig.model_validate({**regression, "gate": {"metric": "roc_auc"}})
    # Unset, the gate metric follows the task: roc_auc cannot score a regressor.
    assert ModelConfig.model_validate(regression).gate.metric == "rmse"
    with pytest.raises(ValueError, match=r"trigger\.metric 'rmse' does not fit a binary task"):
        ModelConfig.model_validate({**base, "trigger": {"metric": "rmse"}})
    config = ModelConfig.model_validate(
        {**base, "target": {"column": "y", "task": "multiclass"}, "gate": {"metric": "roc_auc"}}
    )
    assert config.trigger_metric == "roc_auc"
