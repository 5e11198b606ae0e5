"""The one inventory of model-quality metrics: direction, tasks, and bootstrap support.

Config validation, the gate and its rules, the comparison, the trigger policy and the
shadow verdict all ask this module which way a metric is better and which tasks it fits,
so adding a metric is one entry here (and its computation in
:mod:`retrainer.evaluation.metrics`). Each metric also knows its perfect value, so the
default rules can speak of *skill over chance*, the share of the way from chance to
perfect a model has come (:func:`skill`): it means the same at AUC 0.62 as at 0.95.
Import-light on purpose: the DAG parse imports it through ``retrainer.config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "BOOTSTRAP_METRICS",
    "CHANCE_PREFIX",
    "METRICS",
    "GateMetric",
    "MetricSpec",
    "Task",
    "TriggerMetric",
    "bootstrap_metrics",
    "greater_is_better",
    "metric_spec",
    "skill",
]

# Baseline keys holding the chance level of a metric: "chance_roc_auc" (see :func:`skill`).
CHANCE_PREFIX = "chance_"

Task = Literal["binary", "multiclass", "regression"]
# Pydantic and mypy need the names spelled out; tests check they match METRICS.
GateMetric = Literal["roc_auc", "accuracy", "f1", "log_loss", "rmse", "mae", "r2"]
TriggerMetric = Literal[
    "roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "rmse", "mae", "r2"
]

_CLASSIFICATION: frozenset[str] = frozenset({"binary", "multiclass"})
_BINARY: frozenset[str] = frozenset({"binary"})
_REGRESSION: frozenset[str] = frozenset({"regression"})


@dataclass(frozen=True)
class MetricSpec:
    """One metric: which way is better and where it can be used.

    Attributes:
        name: the key in metric dictionaries, MLflow metrics and YAML.
        greater_is_better: False for losses (a rise is a regression).
        tasks: the target tasks whose metrics include it.
        bootstrap_tasks: the tasks for which the paired bootstrap resamples it (it needs
            the binary positive-class score, or is defined on labels alone).
        gate: whether gate rules may name it; the others only the trigger can watch.
        perfect: its value for a model that is never wrong (1 for scores, 0 for losses).
        chance: its value at chance whatever the data (AUC 0.5), or None when that
            depends on the labels and must be measured.
    """

    name: str
    greater_is_better: bool
    tasks: frozenset[str]
    bootstrap_tasks: frozenset[str] = frozenset()
    gate: bool = True
    perfect: float = 1.0
    chance: float | None = None

    @property
    def bootstrappable(self) -> bool:
        return bool(self.bootstrap_tasks)

    def applies_to(self, task: str) -> bool:
        return task in self.tasks


# The order is the order intervals are computed and reported in.
_SPECS = (
    MetricSpec("roc_auc", True, _CLASSIFICATION, _BINARY, chance=0.5),
    MetricSpec("accuracy", True, _CLASSIFICATION, _CLASSIFICATION),
    MetricSpec("f1", True, _CLASSIFICATION, _BINARY),
    MetricSpec("precision", True, _CLASSIFICATION, gate=False),
    MetricSpec("recall", True, _CLASSIFICATION, gate=False),
    MetricSpec("log_loss", False, _CLASSIFICATION, _BINARY, perfect=0.0),
    MetricSpec("rmse", False, _REGRESSION, _REGRESSION, perfect=0.0),
    MetricSpec("mae", False, _REGRESSION, _REGRESSION, perfect=0.0),
    MetricSpec("r2", True, _REGRESSION, chance=0.0),
)
METRICS: Mapping[str, MetricSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
# Every metric the bootstrap can resample for some task.
BOOTSTRAP_METRICS: tuple[str, ...] = tuple(s.name for s in _SPECS if s.bootstrappable)


def metric_spec(name: str) -> MetricSpec:
    """The spec of a metric.

    Raises:
        KeyError: retrainer does not know the metric.
    """
    return METRICS[name]


def greater_is_better(name: str) -> bool:
    """Whether a higher value of the metric is better (KeyError for unknown metrics)."""
    return METRICS[name].greater_is_better


def bootstrap_metrics(task: str) -> tuple[str, ...]:
    """The metrics that get a bootstrap interval for a task, in reporting order."""
    return tuple(s.name for s in _SPECS if task in s.bootstrap_tasks)


def skill(name: str, value: float, chance: float | None) -> float | None:
    """Skill over chance: 0 at ``chance``, 1 at the metric's perfect value, < 0 below chance.

    ``chance`` is the metric of a predictor that knows only the label distribution
    (:func:`retrainer.evaluation.metrics.chance_metrics`); when not measured, the metric's
    own (AUC 0.5, R² 0) if it has one. None when chance is unknown or already perfect (a
    one-class holdout), so a rule on it cannot be judged.
    """
    chance = METRICS[name].chance if chance is None else chance
    if chance is None:
        return None
    span = METRICS[name].perfect - chance
    if abs(span) < 1e-12:
        return None
    return (value - chance) / span
