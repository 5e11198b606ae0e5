"""From per-feature statistics to one explained, importance-weighted verdict.

A feature drifts when its statistic passes its threshold. The batch drifts when the
drifted features carry at least ``drift_share`` of the champion's importance: drift in
features the model barely uses does not retrain for nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.drift.profile import CategoricalProfile, NumericProfile, Profile, profile_batch
from retrainer.drift.stats import STATISTICS

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import DriftConfig

__all__ = ["DriftResult", "FeatureDrift", "detect_drift"]


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: str
    statistic: str
    value: float
    threshold: float
    drifted: bool
    importance: float
    reference_missing_rate: float
    current_missing_rate: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DriftResult:
    drift: bool
    drift_score: float
    threshold_share: float
    features: tuple[FeatureDrift, ...]
    row_count: int
    explanation: str

    @property
    def drifted_features(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift": self.drift,
            "drift_score": self.drift_score,
            "threshold_share": self.threshold_share,
            "row_count": self.row_count,
            "explanation": self.explanation,
            "features": [f.to_dict() for f in self.features],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftResult:
        return cls(
            bool(data["drift"]),
            float(data["drift_score"]),
            float(data["threshold_share"]),
            tuple(FeatureDrift(**f) for f in data["features"]),
            int(data["row_count"]),
            str(data["explanation"]),
        )


def _buckets(profile: NumericProfile | CategoricalProfile, keys: list[str] | None) -> list[int]:
    if isinstance(profile, NumericProfile):
        return [*profile.counts, profile.missing]
    assert keys is not None
    return [*(profile.counts.get(k, 0) for k in keys), profile.missing]


def _missing_rate(profile: NumericProfile | CategoricalProfile) -> float:
    present = sum(profile.counts) if isinstance(profile, NumericProfile) else profile.count
    total = present + profile.missing
    return profile.missing / total if total else 0.0


def _weights(features: list[str], importances: dict[str, float] | None) -> dict[str, float]:
    raw = {f: max(float((importances or {}).get(f, 0.0)), 0.0) for f in features}
    total = sum(raw.values())
    if total <= 0:
        return {f: 1.0 / len(features) for f in features}
    return {f: v / total for f, v in raw.items()}


def detect_drift(
    reference: Profile,
    batch: pd.DataFrame | Profile,
    config: DriftConfig,
    importances: dict[str, float] | None = None,
) -> DriftResult:
    """Compare a batch with the reference feature by feature and decide."""
    current = batch if isinstance(batch, Profile) else profile_batch(batch, reference)
    statistic = STATISTICS[config.statistic]
    names = list(reference.features)
    weights = _weights(names, importances)
    results: list[FeatureDrift] = []
    for name in names:
        ref = reference.features[name]
        cur = current.features[name]
        keys = None
        if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
            keys = sorted(set(ref.counts) | set(cur.counts))
        ref_counts, cur_counts = _buckets(ref, keys), _buckets(cur, keys)
        value = statistic(ref_counts, cur_counts) if sum(cur_counts) else 0.0
        threshold = config.feature_thresholds.get(name, config.threshold)
        results.append(
            FeatureDrift(
                name,
                ref.kind,
                config.statistic,
                round(float(value), 6),
                threshold,
                bool(value > threshold),
                round(weights[name], 6),
                _missing_rate(ref),
                _missing_rate(cur),
            )
        )
    results.sort(key=lambda f: f.value, reverse=True)
    score = round(sum(f.importance for f in results if f.drifted), 6)
    drift = score >= config.drift_share
    drifted = [f for f in results if f.drifted]
    listed = ", ".join(
        f"{f.feature} ({config.statistic.upper()} {f.value:.2f}, weight {f.importance:.2f})"
        for f in drifted
    )
    if drift:
        explanation = (
            f"drift: {listed}; importance-weighted share {score:.2f} >= {config.drift_share:.2f}"
        )
    elif drifted:
        explanation = (
            f"no drift: {listed} shifted, but they carry only {score:.2f} of the model's "
            f"importance (< {config.drift_share:.2f})"
        )
    else:
        explanation = (
            f"no drift: no feature's {config.statistic.upper()} above its threshold "
            f"(largest {results[0].feature} {results[0].value:.2f})"
            if results
            else "no drift: no features"
        )
    return DriftResult(
        drift, score, config.drift_share, tuple(results), current.row_count, explanation
    )
