"""The champion/challenger gate. It fails closed.

No configured rule, a missing metric, or a champion that cannot be scored means *no
promotion*: a model reaches production only when every configured rule says yes. The
decision explains itself rule by rule so it can be written to the registry before any
alias moves.

Rules are of two kinds. *Safety* rules judge the challenger on its own (floors, slices,
fairness, latency, size, safe to load): a version that failed one must never serve, not even by a
rollback. *Comparison* rules judge it against the champion (improvement, superiority,
non-inferiority): failing one only means it was not worth a change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.evaluation.rules import COMPARISON_RULES, RuleOutcome, evidence_rules
from retrainer.metric_specs import greater_is_better, skill

if TYPE_CHECKING:
    from retrainer.config import GateConfig

__all__ = ["COMPARISON_RULES", "GateDecision", "RuleOutcome", "judge_challenger"]


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    metric: str
    challenger_value: float | None
    champion_value: float | None
    rules: tuple[RuleOutcome, ...]

    @property
    def decision(self) -> str:
        return "promote" if self.promote else "reject"

    @property
    def safety_failures(self) -> list[str]:
        """Failed rules that make this version unfit to serve at all."""
        return [r.rule for r in self.rules if not r.passed and r.kind == "safety"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["decision"] = self.decision
        data["safety_failures"] = self.safety_failures
        for rule, outcome in zip(data["rules"], self.rules, strict=True):
            rule["kind"] = outcome.kind
        return data


def _fmt(value: float | None) -> str:
    return "missing" if value is None else f"{value:.4f}"


def _skill_floor(
    metric: str, value: float, minimum: float, evidence: dict[str, Any]
) -> RuleOutcome:
    chance = (evidence.get("chance") or {}).get(metric)
    level = skill(metric, value, chance)
    if level is None or chance is None:
        return RuleOutcome("skill_floor", False, f"no chance level of {metric} on the holdout")
    ok = level >= minimum
    return RuleOutcome(
        "skill_floor",
        ok,
        f"challenger {metric} {value:.4f} is {level:.3f} of the way from chance "
        f"({chance:.4f}) to perfect {'>=' if ok else '<'} min_skill {minimum}",
    )


def judge_challenger(
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    gate: GateConfig,
    evidence: dict[str, Any] | None = None,
) -> GateDecision:
    """Decide whether the challenger may replace the champion.

    Args:
        challenger: the challenger's metrics on the shared holdout.
        champion: the champion's metrics on the same rows, or None when there is no champion.
        gate: the model's gate rules.
        evidence: what :func:`~retrainer.evaluation.compare.compare_models` measured
            (intervals, slices, fairness, latency, size); a rule whose evidence is missing
            fails. ``unsafe_challenger`` (why the challenger was refused unloaded) rejects it
            on the safety rule ``safe_to_load`` alone.
    """
    metric = gate.metric
    unsafe = (evidence or {}).get("unsafe_challenger")
    if unsafe:
        # A version that would run code when loaded was never loaded: nothing else to judge.
        refused = RuleOutcome("safe_to_load", False, str(unsafe))
        return GateDecision(
            False, f"rejected: safe_to_load: {unsafe}", metric, None, None, (refused,)
        )
    higher = greater_is_better(metric)
    mine = challenger.get(metric)
    theirs = champion.get(metric) if champion is not None else None
    rules: list[RuleOutcome] = []

    if mine is None:
        rules.append(RuleOutcome("metric_available", False, f"challenger has no {metric}"))
    if gate.min_value is not None and mine is not None:
        ok = mine >= gate.min_value if higher else mine <= gate.min_value
        bound = (">=" if ok else "<") if higher else ("<=" if ok else ">")
        rules.append(
            RuleOutcome(
                "absolute_floor", ok, f"challenger {metric} {_fmt(mine)} {bound} {gate.min_value}"
            )
        )
    if gate.min_skill is not None and mine is not None:
        rules.append(_skill_floor(metric, mine, gate.min_skill, evidence or {}))
    if champion is not None and gate.min_improvement is not None:
        if theirs is None:
            rules.append(
                RuleOutcome(
                    "improvement", False, f"champion {metric} could not be computed on the holdout"
                )
            )
        elif mine is not None:
            gain = (mine - theirs) if higher else (theirs - mine)
            ok = gain >= gate.min_improvement
            rules.append(
                RuleOutcome(
                    "improvement",
                    ok,
                    f"challenger {_fmt(mine)} vs champion {_fmt(theirs)}: "
                    f"gain {gain:+.4f} {'>=' if ok else '<'} margin {gate.min_improvement}",
                )
            )
    for name, floor in gate.floors.items():
        value = challenger.get(name)
        up = greater_is_better(name)
        ok = value is not None and (value >= floor if up else value <= floor)
        rules.append(
            RuleOutcome(
                f"floor_{name}",
                ok,
                f"challenger {name} {_fmt(value)} {('>=' if up else '<=') if ok else 'fails'} "
                f"{floor}",
            )
        )
    rules.extend(evidence_rules(gate, evidence or {}, has_champion=champion is not None))
    if not [r for r in rules if r.rule != "metric_available"] and mine is not None:
        rules.append(
            RuleOutcome(
                "rules_configured",
                False,
                "no gate rule applies: set gate.min_skill, min_value or min_improvement",
            )
        )

    failed = [r for r in rules if not r.passed]
    promote = not failed
    if promote:
        reason = "; ".join(r.detail for r in rules)
    else:
        reason = "rejected: " + "; ".join(f"{r.rule}: {r.detail}" for r in failed)
    return GateDecision(promote, reason, metric, mine, theirs, tuple(rules))
