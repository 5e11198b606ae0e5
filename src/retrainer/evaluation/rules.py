"""Gate rules that judge the evaluation's evidence rather than point metrics.

Each function returns one :class:`RuleOutcome` per configured rule and never skips a rule
because its evidence is missing: missing evidence is a failed rule (the gate fails closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrainer.metric_specs import greater_is_better

if TYPE_CHECKING:
    from retrainer.config import GateConfig

__all__ = ["COMPARISON_RULES", "RuleOutcome", "evidence_rules"]

# Rules that compare with the champion; every other rule is a safety rule.
COMPARISON_RULES = frozenset({"improvement", "superiority", "non_inferiority", "champion_scored"})


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    passed: bool
    detail: str

    @property
    def kind(self) -> str:
        return "comparison" if self.rule in COMPARISON_RULES else "safety"


def _comparison(gate: GateConfig, evidence: dict[str, Any]) -> RuleOutcome:
    assert gate.comparison is not None
    rule = gate.comparison
    metric = rule.metric or gate.metric
    interval = (evidence.get("intervals") or {}).get(metric)
    if interval is None:
        return RuleOutcome(rule.kind, False, f"no bootstrap interval for {metric}")
    # The interval is of challenger - champion; turn it into a gain (positive = better).
    if greater_is_better(metric):
        gain, lower = interval["difference"], interval["lower"]
    else:
        gain, lower = -interval["difference"], -interval["upper"]
    bound = rule.margin if rule.kind == "superiority" else -rule.margin
    ok = lower > bound
    level = round(100 * interval["confidence"])
    return RuleOutcome(
        rule.kind,
        ok,
        f"{metric} gain {gain:+.4f}, {level}% lower bound {lower:+.4f} "
        f"{'>' if ok else '<='} {bound:+.4f}",
    )


def _slices(gate: GateConfig, evidence: dict[str, Any]) -> RuleOutcome:
    margin = gate.max_slice_regression
    slices = evidence.get("slices")
    if slices is None:
        return RuleOutcome("slice_regression", False, "no slice metrics were computed")
    judged = [s for s in slices if s.get("gain") is not None]
    worse = [s for s in judged if s["gain"] < -float(margin or 0.0)]
    if worse:
        detail = ", ".join(f"{s['column']}={s['slice']} {s['gain']:+.4f}" for s in worse)
        return RuleOutcome("slice_regression", False, f"slices lose more than {margin}: {detail}")
    worst = min((s["gain"] for s in judged), default=None)
    return RuleOutcome(
        "slice_regression",
        True,
        f"{len(judged)} slices judged, worst gain "
        f"{'n/a' if worst is None else f'{worst:+.4f}'} >= -{margin}",
    )


def _fairness(gate: GateConfig, evidence: dict[str, Any]) -> list[RuleOutcome]:
    bounds = gate.fairness
    assert bounds is not None
    mine = (evidence.get("fairness") or {}).get("challenger") or {}
    out = []
    if bounds.min_disparate_impact is not None:
        ratio = mine.get("disparate_impact")
        ok = ratio is not None and ratio >= bounds.min_disparate_impact
        shown = "missing" if ratio is None else f"{ratio:.3f}"
        out.append(
            RuleOutcome(
                "fairness_disparate_impact",
                ok,
                f"disparate impact {shown} {'>=' if ok else 'below'} "
                f"{bounds.min_disparate_impact} on {mine.get('attribute', '?')}",
            )
        )
    if bounds.max_equal_opportunity_difference is not None:
        gap = mine.get("equal_opportunity_difference")
        ok = gap is not None and gap <= bounds.max_equal_opportunity_difference
        shown = "missing" if gap is None else f"{gap:.3f}"
        out.append(
            RuleOutcome(
                "fairness_equal_opportunity",
                ok,
                f"equal opportunity difference {shown} {'<=' if ok else 'above'} "
                f"{bounds.max_equal_opportunity_difference}",
            )
        )
    return out


def _budget(rule: str, what: str, value: Any, limit: float, unit: str) -> RuleOutcome:
    if value is None:
        return RuleOutcome(rule, False, f"{what} was not measured")
    ok = float(value) <= limit
    return RuleOutcome(rule, ok, f"{what} {float(value):.3g} {unit} {'<=' if ok else '>'} {limit}")


def evidence_rules(
    gate: GateConfig, evidence: dict[str, Any], *, has_champion: bool
) -> list[RuleOutcome]:
    """Outcomes of every configured rule that reads the evaluation's evidence."""
    rules: list[RuleOutcome] = []
    if has_champion and evidence.get("champion_error"):
        rules.append(
            RuleOutcome(
                "champion_scored", False, f"champion not scored: {evidence['champion_error']}"
            )
        )
    if has_champion and gate.comparison is not None:
        rules.append(_comparison(gate, evidence))
    if has_champion and gate.max_slice_regression is not None:
        rules.append(_slices(gate, evidence))
    if gate.fairness is not None:
        rules.extend(_fairness(gate, evidence))
    if gate.max_latency_ms_per_1k_rows is not None:
        value = (evidence.get("latency_ms_per_1k_rows") or {}).get("challenger")
        rules.append(
            _budget(
                "latency", "scoring latency", value, gate.max_latency_ms_per_1k_rows, "ms/1k rows"
            )
        )
    if gate.max_model_size_mb is not None:
        value = (evidence.get("model_size_mb") or {}).get("challenger")
        rules.append(_budget("model_size", "model size", value, gate.max_model_size_mb, "MB"))
    return rules
