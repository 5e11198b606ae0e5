"""The champion/challenger gate. It fails closed.

No configured rule, a missing metric, or a champion that cannot be scored means *no
promotion*: a model reaches production only when every configured rule says yes. The
decision explains itself rule by rule so it can be written to the registry before any
alias moves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.evaluation.metrics import GREATER_IS_BETTER

if TYPE_CHECKING:
    from retrainer.config import GateConfig

__all__ = ["GateDecision", "RuleOutcome", "decide"]


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    passed: bool
    detail: str


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["decision"] = self.decision
        return data


def _fmt(value: float | None) -> str:
    return "missing" if value is None else f"{value:.4f}"


def decide(
    challenger: dict[str, float], champion: dict[str, float] | None, gate: GateConfig
) -> GateDecision:
    """Decide whether the challenger may replace the champion.

    Args:
        challenger: the challenger's metrics on the shared holdout.
        champion: the champion's metrics on the same rows, or None when there is no champion.
        gate: the model's gate rules.
    """
    metric = gate.metric
    higher = GREATER_IS_BETTER[metric]
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
    if not [r for r in rules if r.rule != "metric_available"] and mine is not None:
        rules.append(
            RuleOutcome(
                "rules_configured",
                False,
                "no gate rule applies: set gate.min_value or min_improvement",
            )
        )

    failed = [r for r in rules if not r.passed]
    promote = not failed
    if promote:
        reason = "; ".join(r.detail for r in rules)
    else:
        reason = "rejected: " + "; ".join(f"{r.rule}: {r.detail}" for r in failed)
    return GateDecision(promote, reason, metric, mine, theirs, tuple(rules))
