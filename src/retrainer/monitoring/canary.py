"""The live gate: promote, stop or keep watching a canary on the labelled rows it served.

A canary is a version with a traffic share (:mod:`retrainer.registry.traffic`). Its
evidence is the unpaired comparison of :func:`retrainer.monitoring.live_ab.compare_versions`
with the champion as baseline, over every batch in which the canary served rows.

Rule (``gate.live``), with ``d`` the interval of canary minus champion on the live metric,
oriented so that positive is better (a loss such as ``log_loss`` is negated):

- either version has fewer than ``min_rows`` labelled rows, or the metric has no interval
  (no probabilities logged for ``roc_auc``): **collect**;
- ``lower(d) > margin``: **promote** (better by more than the margin, beyond noise);
- ``upper(d) < -margin``: **stop** (worse by more than the margin, beyond noise);
- otherwise: **collect**.

The same margin on both sides: a canary is only stopped when it is clearly worse, so a
canary that is merely no better keeps collecting until a person ends it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from retrainer.metric_specs import greater_is_better

__all__ = ["CanaryDecision", "decide_canary"]

Action = Literal["collect", "promote", "stop"]


@dataclass(frozen=True)
class CanaryDecision:
    """What the live evidence says about one canary, and the evidence itself."""

    version: str
    champion_version: str
    action: Action
    reason: str
    metric: str
    margin: float
    min_rows: int
    labelled_rows: dict[str, int] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    interval: dict[str, Any] | None = None
    batches: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def evidence(self) -> dict[str, Any]:
        """The numbers behind the decision, small enough for a version tag."""
        return {
            "champion_version": self.champion_version,
            "metric": self.metric,
            "labelled_rows": self.labelled_rows,
            "values": self.values,
            "interval": self.interval,
            "margin": self.margin,
            "batches": len(self.batches),
        }


def decide_canary(
    comparison: dict[str, Any],
    canary: str,
    champion: str,
    *,
    metric: str,
    margin: float,
    min_rows: int,
    batches: list[str] | None = None,
) -> CanaryDecision:
    """Apply the live gate's rule (module docstring) to one canary's comparison.

    Args:
        comparison: the output of ``compare_versions`` with ``champion`` as baseline.
    """
    versions = comparison.get("versions", {})
    rows = {v: int(versions.get(v, {}).get("labelled_rows", 0)) for v in (champion, canary)}
    values = {
        v: float(versions[v]["realized"][metric])
        for v in (champion, canary)
        if metric in versions.get(v, {}).get("realized", {})
    }
    interval = comparison.get("intervals", {}).get(canary, {}).get(metric)

    def decided(action: Action, reason: str) -> CanaryDecision:
        return CanaryDecision(
            canary,
            champion,
            action,
            reason,
            metric,
            margin,
            min_rows,
            rows,
            values,
            interval,
            list(batches or []),
        )

    short = [v for v, n in rows.items() if n < min_rows]
    if short:
        counts = ", ".join(f"v{v} {rows[v]}" for v in (champion, canary))
        return decided(
            "collect", f"labelled served rows {counts}; each needs {min_rows} (gate.live.min_rows)"
        )
    if interval is None:
        return decided(
            "collect",
            f"no live interval for {metric} (roc_auc and log_loss need logged probabilities)",
        )
    sign = 1.0 if greater_is_better(metric) else -1.0
    low, high = sorted((sign * interval["lower"], sign * interval["upper"]))
    gain = sign * interval["difference"]
    pct = round(100 * interval["confidence"])
    text = (
        f"live {metric}: v{canary} {values.get(canary, float('nan')):.4f} on {rows[canary]} "
        f"rows vs v{champion} {values.get(champion, float('nan')):.4f} on {rows[champion]}; "
        f"gain {gain:+.4f}, {pct}% interval [{low:+.4f}, {high:+.4f}] (unpaired)"
    )
    if low > margin:
        return decided("promote", f"{text} lies above the margin {margin:g}")
    if high < -margin:
        return decided("stop", f"{text} lies below {f'-{margin:g}' if margin else '0'}")
    return decided("collect", f"{text} is not clear of ±{margin:g}: keep collecting")
