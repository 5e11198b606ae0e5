"""The one inventory of model-quality metrics: direction, tasks, and bootstrap support.

Config validation, the gate and its rules, the comparison, the trigger policy and the
shadow verdict all ask this module which way a metric is better and which tasks it fits,
so adding a metric is one entry here (and its computation in
:mod:`retrainer.evaluation.metrics`). No metric has a value at chance recorded: no rule
uses one. Import-light on purpose: the DAG parse imports it through ``retrainer.config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = [
    "BOOTSTRAP_METRICS",
    "METRICS",
    "GateMetric",
    "MetricSpec",
    "Task",
    "TriggerMetric",
    "bootstrap_metrics",
    "greater_is_better",
    "metric_spec",
]

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
    """

    name: str
    greater_is_better: bool
    tasks: frozenset[str]
    bootstrap_tasks: frozenset[str] = frozenset()
    gate: bool = True

    @property
    def bootstrappable(self) -> bool:
        return bool(self.bootstrap_tasks)

    def applies_to(self, task: str) -> bool:
        return task in self.tasks


# The order is the order intervals are computed and reported in.
_SPECS = (
    MetricSpec("roc_auc", True, _CLASSIFICATION, _BINARY),
    MetricSpec("accuracy", True, _CLASSIFICATION, _CLASSIFICATION),
    MetricSpec("f1", True, _CLASSIFICATION, _BINARY),
    MetricSpec("precision", True, _CLASSIFICATION, gate=False),
    MetricSpec("recall", True, _CLASSIFICATION, gate=False),
    MetricSpec("log_loss", False, _CLASSIFICATION, _BINARY),
    MetricSpec("rmse", False, _REGRESSION, _REGRESSION),
    MetricSpec("mae", False, _REGRESSION, _REGRESSION),
    MetricSpec("r2", True, _REGRESSION),
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
