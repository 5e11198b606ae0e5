"""Policies that act when a model YAML sets none: the trigger's decay rule and the gate.

A model described by its columns and target alone must still be watched and judged:
without these, nothing would ever retrain and the gate, failing closed, would never
crown even the first model. Every default is scale-free (skill over chance, see
:func:`retrainer.metric_specs.skill`), so it means the same for a weak model as for a
strong one. Only an untuned section gets them: a threshold someone chose is theirs, and
setting any threshold of a section turns that section's defaults off. The README lists
them as a table.
"""

from __future__ import annotations

from typing import Any

from retrainer.metric_specs import metric_spec

__all__ = [
    "DEFAULT_BREACHES",
    "DEFAULT_MIN_SKILL",
    "DEFAULT_OF_LAST",
    "DEFAULT_SKILL_LOSS",
    "DEFAULT_SLICE_REGRESSION",
    "GATE_RULES",
    "TRIGGER_THRESHOLDS",
    "with_default_policies",
]

# Decay: a quarter of the champion's skill over chance lost (AUC 0.62 -> below 0.59,
# 0.90 -> below 0.80), in 2 of the last 3 batches: one bad batch is noise, two are not.
DEFAULT_SKILL_LOSS = 0.25
DEFAULT_BREACHES = 2
DEFAULT_OF_LAST = 3
# Gate: a tenth of the way from chance to perfect (AUC 0.55, R² 0.1); better than the
# champion with 95% confidence (the bootstrap interval's lower bound above 0); no judged
# slice worse by more than 0.05.
DEFAULT_MIN_SKILL = 0.1
DEFAULT_SLICE_REGRESSION = 0.05

# The gate metric when none is named, beside the binary roc_auc: AUC cannot score a
# regressor, and a multiclass AUC is undefined on any holdout missing a rare class.
TASK_METRIC = {"multiclass": "accuracy", "regression": "rmse"}

TRIGGER_THRESHOLDS = (
    "min_value",
    "max_drop",
    "estimated_min_value",
    "estimated_max_drop",
    "max_skill_loss",
    "estimated_max_skill_loss",
)
GATE_RULES = (
    "min_value",
    "min_improvement",
    "min_skill",
    "floors",
    "comparison",
    "max_slice_regression",
    "fairness",
    "max_latency_ms_per_1k_rows",
    "max_model_size_mb",
)


def _section(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return {}
    return dict(value) if isinstance(value, dict) else None  # an object: built in code, as is


def _slice_columns(data: dict[str, Any]) -> list[str]:
    evaluation = data.get("evaluation")
    if isinstance(evaluation, dict):
        slices = evaluation.get("slices") or {}
        return list(slices.get("columns") or []) if isinstance(slices, dict) else []
    return list(evaluation.slices.columns) if evaluation is not None else []


def with_default_policies(data: dict[str, Any]) -> dict[str, Any]:
    """The raw model mapping with the default trigger and gate filled in where untuned."""
    target = data.get("target")
    task = (target.get("task") if isinstance(target, dict) else getattr(target, "task", None)) or (
        "binary"
    )
    out = dict(data)
    gate = _section(data, "gate")
    if gate is not None:
        if "metric" not in gate and task in TASK_METRIC:
            gate["metric"] = TASK_METRIC[task]
        if not any(key in gate for key in GATE_RULES):
            gate["min_skill"] = DEFAULT_MIN_SKILL
            metric = gate.get("metric", "roc_auc")
            if task in metric_spec(metric).bootstrap_tasks:
                gate["comparison"] = {"kind": "superiority", "margin": 0.0}
            else:
                gate["min_improvement"] = 0.0
            if _slice_columns(data):
                gate["max_slice_regression"] = DEFAULT_SLICE_REGRESSION
        out["gate"] = gate
    trigger = _section(data, "trigger")
    if trigger is not None and not any(key in trigger for key in TRIGGER_THRESHOLDS):
        trigger["max_skill_loss"] = DEFAULT_SKILL_LOSS
        if task != "regression":  # only classifiers have a label-free estimate
            trigger["estimated_max_skill_loss"] = DEFAULT_SKILL_LOSS
        if "breaches" not in trigger and "of_last" not in trigger:
            trigger |= {"breaches": DEFAULT_BREACHES, "of_last": DEFAULT_OF_LAST}
        out["trigger"] = trigger
    return out
