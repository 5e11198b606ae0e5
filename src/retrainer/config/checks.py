"""Policies that load but cannot work: floors that fire for ever, rules that contradict.

A model YAML can be valid field by field and still be wrong as a whole: a trigger floor
above the champion's own skill retrains on every batch, a trigger nothing can fire never
retrains, slices smaller than ``min_size`` are never judged. (A gate floor below the
trigger's is not one of them: a challenger under the trigger's floor but far better than a
decayed champion should still serve, and the trigger then retrains again.)
:func:`check_policies` says so before the first run: as warnings at DAG parse
(on the monitor DAG's docs in the Airflow UI, from the YAML alone) and through
``retrainer check MODEL`` (with the champion's holdout metrics from MLflow).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.metric_specs import CHANCE_PREFIX, greater_is_better, metric_spec, skill

if TYPE_CHECKING:
    from retrainer.config.model import ModelConfig

__all__ = ["PolicyFinding", "check_policies"]


@dataclass(frozen=True)
class PolicyFinding:
    """One policy that cannot work as written: where, what happens, what to change."""

    field: str
    problem: str
    fix: str

    def line(self) -> str:
        return f"{self.field}: {self.problem}; {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _worse(metric: str, value: float, bound: float) -> bool:
    return value < bound if greater_is_better(metric) else value > bound


def _range_findings(config: ModelConfig) -> list[PolicyFinding]:
    out = []
    for section, metric, value in (
        ("trigger.min_value", config.trigger_metric, config.trigger.min_value),
        ("trigger.estimated_min_value", config.trigger_metric, config.trigger.estimated_min_value),
        ("gate.min_value", config.gate.metric, config.gate.min_value),
    ):
        if value is None:
            continue
        spec = metric_spec(metric)
        perfect, chance = spec.perfect, spec.chance
        beyond = value > perfect if spec.greater_is_better else value < perfect
        if beyond:
            verb = "breaches" if section.startswith("trigger") else "is refused"
            out.append(
                PolicyFinding(
                    section,
                    f"{value} is beyond a perfect {metric} ({perfect}): every batch/model {verb}",
                    f"choose a value between chance and {perfect}",
                )
            )
        elif chance is not None and not _worse(metric, chance, value):
            out.append(
                PolicyFinding(
                    section,
                    f"{value} is at or below chance ({metric} {chance}): only a model no better "
                    "than a coin is caught",
                    f"raise it above {chance}, or use max_skill_loss",
                )
            )
    return out


def _contradictions(config: ModelConfig) -> list[PolicyFinding]:
    out = []
    trigger = config.trigger
    if not trigger.has_threshold and not trigger.on_drift and config.schedule is None:
        out.append(
            PolicyFinding(
                "trigger",
                "no threshold, no on_drift and no schedule: nothing will ever retrain this model",
                "set max_skill_loss (or min_value / max_drop), on_drift: true, or a schedule",
            )
        )
    slices = config.evaluation.slices
    if slices.columns and config.training.window.kind == "since_break":
        # since_break stops widening at min_rows: the smallest holdout a retrain can have
        # (sliding and expanding windows are as big as their batches, unknown here).
        holdout = int(config.training.min_rows * config.training.holdout_fraction)
        per_slice = holdout // slices.bins
        if per_slice < slices.min_size:
            out.append(
                PolicyFinding(
                    "evaluation.slices.min_size",
                    f"a retrain on training.min_rows {config.training.min_rows} rows holds out "
                    f"about {holdout}, {per_slice} per slice of {slices.bins} bins: below "
                    f"min_size {slices.min_size}, so its slices are reported, never judged",
                    "raise training.min_rows or lower evaluation.slices.min_size / bins",
                )
            )
    return out


def _baseline_findings(config: ModelConfig, baseline: dict[str, float]) -> list[PolicyFinding]:
    out: list[PolicyFinding] = []
    metric = config.trigger_metric
    value = baseline.get(metric)
    if value is None:
        return out
    trigger = config.trigger
    for field, floor in (
        ("trigger.min_value", trigger.min_value),
        ("trigger.estimated_min_value", trigger.estimated_min_value),
    ):
        if floor is not None and not _worse(metric, floor, value):
            out.append(
                PolicyFinding(
                    field,
                    f"the champion's own holdout {metric} is {value:.4f}, no better than the "
                    f"floor {floor}: every batch breaches, it retrains for ever",
                    f"set it below {value:.4f}, or use max_skill_loss (relative to the champion)",
                )
            )
    chance = baseline.get(f"{CHANCE_PREFIX}{metric}")
    own = skill(metric, value, chance)
    for field, drop in (
        ("trigger.max_drop", trigger.max_drop),
        ("trigger.estimated_max_drop", trigger.estimated_max_drop),
    ):
        if drop is None or own is None:
            continue
        fallen = value - drop if greater_is_better(metric) else value + drop
        if (skill(metric, fallen, chance) or 0.0) <= 0.0:
            out.append(
                PolicyFinding(
                    field,
                    f"the champion ({metric} {value:.4f}) may fall to chance "
                    f"({chance if chance is not None else metric_spec(metric).chance}) "
                    f"before a drop of {drop} breaches: decay goes unnoticed",
                    "use max_skill_loss, which scales with the champion's skill",
                )
            )
    return out


def check_policies(
    config: ModelConfig, baseline: dict[str, float] | None = None
) -> list[PolicyFinding]:
    """Every policy of ``config`` that cannot work; ``baseline``: the champion's metrics."""
    found = _range_findings(config) + _contradictions(config)
    if baseline:
        found += _baseline_findings(config, baseline)
    return found
