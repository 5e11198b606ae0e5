"""What a drift check found: per-feature evidence and the batch verdict, JSON round-trip."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DriftResult", "FeatureDrift"]


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's evidence: its effect size against its threshold, its significance.

    ``importance`` is the feature's normalised weight in the verdict (weights sum to 1),
    not the raw importance it was given. ``statistics`` holds every registered statistic
    that applies to the feature; ``reasons`` the thresholds it passed; ``p_adjusted`` is
    the Benjamini-Hochberg adjusted p-value of the chi-square test on its buckets.
    """

    feature: str
    kind: str
    statistic: str
    value: float
    threshold: float
    drifted: bool
    importance: float
    reference_missing_rate: float
    current_missing_rate: float
    p_value: float = 1.0
    p_adjusted: float = 1.0
    statistics: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "kind": self.kind,
            "statistic": self.statistic,
            "value": self.value,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "importance": self.importance,
            "reference_missing_rate": self.reference_missing_rate,
            "current_missing_rate": self.current_missing_rate,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "statistics": dict(self.statistics),
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureDrift:
        return cls(
            str(data["feature"]),
            str(data["kind"]),
            str(data["statistic"]),
            float(data["value"]),
            float(data["threshold"]),
            bool(data["drifted"]),
            float(data["importance"]),
            float(data["reference_missing_rate"]),
            float(data["current_missing_rate"]),
            float(data.get("p_value", 1.0)),
            float(data.get("p_adjusted", 1.0)),
            {str(k): float(v) for k, v in data.get("statistics", {}).items()},
            tuple(str(r) for r in data.get("reasons", ())),
        )

    def to_evidence(self) -> dict[str, Any]:
        """The few numbers an Asset event or an alert carries for a drifted feature."""
        return {
            "feature": self.feature,
            "statistic": self.statistic,
            "value": self.value,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "p_adjusted": self.p_adjusted,
            "importance": self.importance,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class DriftResult:
    """The batch-level verdict with its evidence; ``features`` sorted by value / threshold,
    largest first. ``prediction`` is the drift of the model's outputs, when both profiles
    have them: evidence, not part of the verdict."""

    drift: bool
    drift_score: float
    threshold_share: float
    features: tuple[FeatureDrift, ...]
    row_count: int
    explanation: str
    prediction: FeatureDrift | None = None
    alpha: float = 0.05

    @property
    def drifted_features(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift": self.drift,
            "drift_score": self.drift_score,
            "threshold_share": self.threshold_share,
            "alpha": self.alpha,
            "row_count": self.row_count,
            "explanation": self.explanation,
            "features": [f.to_dict() for f in self.features],
            "prediction": None if self.prediction is None else self.prediction.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftResult:
        prediction = data.get("prediction")
        return cls(
            bool(data["drift"]),
            float(data["drift_score"]),
            float(data["threshold_share"]),
            tuple(FeatureDrift.from_dict(f) for f in data["features"]),
            int(data["row_count"]),
            str(data["explanation"]),
            None if prediction is None else FeatureDrift.from_dict(prediction),
            float(data.get("alpha", 0.05)),
        )
