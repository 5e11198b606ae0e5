"""The retrain-trigger policy: should this batch make the model retrain, and why?

Pure functions over plain signals (no MLflow, no lake, no Airflow), so the policy can be
tested on synthetic sequences and reused by any orchestrator.

Notes
-----
Per batch, the *breach* test of :func:`judge_batch`:

- performance: the realized ``metric`` (when the batch has at least ``min_labels``
  labelled rows) or else the label-free estimate breaches when it is worse than the floor
  ``min_value`` or than ``baseline - max_drop`` (``baseline + max_drop`` for metrics where
  lower is better), ``baseline`` being the champion's holdout metric at training;
- drift: the batch's drift verdict breaches only when ``on_drift`` is true.

Hysteresis (:func:`decide_trigger`): a retrain is wanted when at least ``M = breaches`` of
the last ``N = of_last`` batches scored by the *current* champion breached (a new
champion starts with a clean slate). A wanted retrain is still suppressed when the batch
has fewer than ``min_rows`` rows, within ``cooldown_days`` of the last retrain, or when
``max_retrains`` automatic retrains already happened in the last ``period_days``.
Decay (performance) takes precedence over drift when both hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from retrainer.metric_specs import CHANCE_PREFIX, greater_is_better, skill

if TYPE_CHECKING:
    from retrainer.config import TriggerConfig

__all__ = [
    "AUTOMATIC_TRIGGERS",
    "BatchJudgement",
    "BatchSignals",
    "PastRetrain",
    "TriggerDecision",
    "decide_trigger",
    "judge_batch",
]

# Retrains the policy itself starts; manual and scheduled ones do not use up its budget.
AUTOMATIC_TRIGGERS = frozenset({"decay", "drift"})

Decision = Literal["retrain", "none", "suppressed"]


@dataclass(frozen=True)
class BatchSignals:
    """What the monitor knows about one batch when the policy looks at it."""

    batch_id: str
    champion_version: str | None
    rows: int
    labelled_rows: int
    drift: bool
    drift_score: float | None = None
    realized: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    estimate_broken: bool = False
    # The end of the batch's data (ISO); the policy's clock when ``clock: data``.
    batch_time: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchSignals:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class PastRetrain:
    """One earlier retrain: which version, what started it, and when (in the policy clock)."""

    version: str
    trigger: str
    at: datetime


@dataclass(frozen=True)
class BatchJudgement:
    """One batch against the thresholds, before hysteresis."""

    decay: bool
    drift: bool
    reasons: tuple[str, ...]
    # Set when a performance breach was seen on too few labels to count.
    too_few_labels: str | None = None

    @property
    def breached(self) -> bool:
        return self.decay or self.drift


@dataclass(frozen=True)
class TriggerDecision:
    """The policy's answer for one batch; ``to_dict`` is the ``trigger.json`` record."""

    model: str
    batch_id: str
    decided_at: str
    decision: Decision
    event: Literal["decay", "drift"] | None
    reasons: tuple[str, ...]
    signals: BatchSignals
    suppressed_by: str | None = None
    breach: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        s = self.signals
        return {
            "model": self.model,
            "batch_id": self.batch_id,
            "decided_at": self.decided_at,
            "decision": self.decision,
            "event": self.event,
            "reasons": list(self.reasons),
            "signals": {
                "drift": s.drift,
                "drift_score": s.drift_score,
                "realized": dict(s.realized),
                "estimated": dict(s.estimated),
                "baseline": dict(s.baseline),
                # Beyond the UI contract: what the next decision's M-of-N needs.
                "champion_version": s.champion_version,
                "rows": s.rows,
                "labelled_rows": s.labelled_rows,
                "estimate_broken": s.estimate_broken,
                "batch_time": s.batch_time,
            },
            "suppressed_by": self.suppressed_by,
            "champion_version": s.champion_version,
            "breach": dict(self.breach),
        }

    def explain(self) -> str:
        """One line for the task log and the alert."""
        head = f"{self.model} batch {self.batch_id}: {self.decision}"
        if self.event:
            head += f" ({self.event})"
        if self.suppressed_by:
            head += f", suppressed by {self.suppressed_by}"
        return head + ": " + "; ".join(self.reasons)


def _worse(metric: str, value: float, bound: float) -> bool:
    return value < bound if greater_is_better(metric) else value > bound


def _fmt(value: float) -> str:
    return f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.3g}"


def _skill_loss(
    metric: str, value: float, baseline: float, chance: float | None
) -> tuple[float, float | None] | None:
    """The share of the champion's skill over chance lost at ``value`` (and the chance used)."""
    before = skill(metric, baseline, chance)
    now = skill(metric, value, chance)
    if before is None or now is None or before <= 0:
        return None  # no skill to lose: a champion at chance is the floor's business
    return (before - now) / before, chance


def _performance_breaches(
    metric: str,
    value: float,
    baseline: float | None,
    floor: float | None,
    max_drop: float | None,
    label: str,
    *,
    max_skill_loss: float | None = None,
    chance: float | None = None,
) -> list[str]:
    lower = not greater_is_better(metric)
    out = []
    if max_skill_loss is not None and baseline is not None:
        lost = _skill_loss(metric, value, baseline, chance)
        if lost is not None and lost[0] > max_skill_loss:
            out.append(
                f"{label}{metric} {_fmt(value)} lost {lost[0]:.0%} of the champion's skill "
                f"over chance ({_fmt(baseline)} at training; max_skill_loss "
                f"{max_skill_loss:.0%})"
            )
    if floor is not None and _worse(metric, value, floor):
        word = "ceiling" if lower else "floor"
        op = ">" if lower else "<"
        out.append(f"{label}{metric} {_fmt(value)} {op} {word} {_fmt(floor)}")
    if max_drop is not None and baseline is not None:
        loss = (value - baseline) if lower else (baseline - value)
        if loss > max_drop:
            out.append(
                # Three decimals: "0.208 > max_drop 0.20" must not read as "0.21 > 0.20".
                f"{label}{metric} {_fmt(value)} is {loss:.3f} worse than the champion's "
                f"{_fmt(baseline)} at training (max_drop {_fmt(max_drop)})"
            )
    return out


def judge_batch(signals: BatchSignals, policy: TriggerConfig, metric: str) -> BatchJudgement:
    """Say which thresholds one batch breaches (no hysteresis, no history)."""
    reasons: list[str] = []
    baseline = signals.baseline.get(metric)
    # Measured on the champion's holdout at training (older versions: the metric's own).
    chance = signals.baseline.get(f"{CHANCE_PREFIX}{metric}")
    realized_rule = {"max_skill_loss": policy.max_skill_loss, "chance": chance}
    estimated_rule = {"max_skill_loss": policy.estimated_max_skill_loss, "chance": chance}
    realized = signals.realized.get(metric)
    too_few: str | None = None
    decay = False
    usable = realized is not None and math.isfinite(realized)
    if usable and signals.labelled_rows >= policy.min_labels:
        assert realized is not None
        found = _performance_breaches(
            metric, realized, baseline, policy.min_value, policy.max_drop, "", **realized_rule
        )
        decay = bool(found)
        reasons += found or [f"{metric} {_fmt(realized)} within bounds"]
    else:
        if usable:
            assert realized is not None
            found = _performance_breaches(
                metric, realized, baseline, policy.min_value, policy.max_drop, "", **realized_rule
            )
            if found:
                too_few = f"only {signals.labelled_rows} labels < min_labels {policy.min_labels}"
                reasons += [f"{found[0]} (not counted: {too_few})"]
        estimate = signals.estimated.get(metric)
        if estimate is not None and math.isfinite(estimate):
            if signals.estimate_broken:
                reasons.append(f"estimated {metric} ignored: its assumptions broke")
            else:
                found = _performance_breaches(
                    metric,
                    estimate,
                    baseline,
                    policy.estimated_min_value,
                    policy.estimated_max_drop,
                    "estimated ",
                    **estimated_rule,
                )
                decay = bool(found)
                reasons += found or [f"estimated {metric} {_fmt(estimate)} within bounds"]
        elif not usable:
            reasons.append(f"no {metric} for this batch (no labels, no estimate)")
    drift = signals.drift and policy.on_drift
    score = "n/a" if signals.drift_score is None else _fmt(signals.drift_score)
    if signals.drift:
        reasons.append(
            f"input drift (score {score})"
            + ("" if policy.on_drift else ", not a retrain reason alone (on_drift: false)")
        )
    else:
        reasons.append(f"no input drift (score {score})")
    return BatchJudgement(decay, drift, tuple(reasons), too_few)


def _as_time(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _suppression(
    signals: BatchSignals,
    policy: TriggerConfig,
    history: Sequence[PastRetrain],
    now: datetime,
) -> str | None:
    if signals.rows < policy.min_rows:
        return f"only {signals.rows} rows < min_rows {policy.min_rows}"
    if history and policy.cooldown_days > 0:
        last = max(history, key=lambda r: r.at)
        until = last.at + timedelta(days=policy.cooldown_days)
        if now < until:
            return f"cooldown until {until.date().isoformat()} (v{last.version}, {last.trigger})"
    if policy.max_retrains is not None:
        since = now - timedelta(days=policy.period_days)
        recent = [r for r in history if r.trigger in AUTOMATIC_TRIGGERS and since < r.at <= now]
        if len(recent) >= policy.max_retrains:
            return (
                f"max {policy.max_retrains} retrains per {policy.period_days:g} days "
                f"({', '.join('v' + r.version for r in recent)})"
            )
    return None


def decide_trigger(
    model: str,
    current: BatchSignals,
    previous: Sequence[BatchSignals],
    history: Sequence[PastRetrain],
    policy: TriggerConfig,
    metric: str,
    *,
    now: datetime | None = None,
    decided_at: str | None = None,
) -> TriggerDecision:
    """Decide whether ``current`` starts a retrain.

    Args:
        previous: earlier batches, oldest first; only those scored by the same champion
            count towards M of N.
        history: earlier retrains (the registry's versions), for cooldown and budget.
        now: the policy clock; default: the batch's time with ``clock: data``, else now.

    Returns:
        A decision whose reasons say which thresholds each counted batch breached.
    """
    wall = datetime.now(UTC)
    if now is None:
        batch_time = _as_time(current.batch_time)
        now = batch_time if policy.clock == "data" and batch_time is not None else wall
    decided_at = decided_at or wall.isoformat()
    judged = judge_batch(current, policy, metric)
    breach = {"decay": judged.decay, "drift": judged.drift}

    if current.champion_version is None:
        return TriggerDecision(
            model, current.batch_id, decided_at, "none", None,
            ("no champion yet: nothing to judge",), current, None, breach,
        )  # fmt: skip

    same = [p for p in previous if p.champion_version == current.champion_version]
    window = [*same[-(policy.of_last - 1) :], current] if policy.of_last > 1 else [current]
    verdicts = [judge_batch(s, policy, metric) for s in window[:-1]] + [judged]
    decays = sum(v.decay for v in verdicts)
    drifts = sum(v.drift for v in verdicts)
    n = len(window)
    event: Literal["decay", "drift"] | None = None
    reasons = list(judged.reasons)
    if decays >= policy.breaches and judged.decay:
        event = "decay"
    elif drifts >= policy.breaches and judged.drift:
        event = "drift"
    # Require the current batch to breach too: a retrain must be about the present, and
    # a recovered batch after a breach run ends the alarm instead of repeating it.
    if policy.of_last > 1:
        reasons.append(
            f"{decays} of last {n} batches of v{current.champion_version} breached performance"
            + (f", {drifts} drifted" if policy.on_drift else "")
            + f" (need {policy.breaches} of {policy.of_last})"
        )
    if event is None:
        # A breach seen on too few labels that would have completed M of N: say so.
        if judged.too_few_labels and decays + 1 >= policy.breaches:
            return TriggerDecision(
                model, current.batch_id, decided_at, "suppressed", None,
                tuple(reasons), current, judged.too_few_labels, breach,
            )  # fmt: skip
        return TriggerDecision(
            model, current.batch_id, decided_at, "none", None, tuple(reasons), current, None, breach
        )
    suppressed = _suppression(current, policy, history, now)
    if suppressed is not None:
        return TriggerDecision(
            model, current.batch_id, decided_at, "suppressed", None,
            tuple(reasons), current, suppressed, breach,
        )  # fmt: skip
    return TriggerDecision(
        model, current.batch_id, decided_at, "retrain", event, tuple(reasons), current, None, breach
    )
