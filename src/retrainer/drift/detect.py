"""From per-feature statistics to one explained, importance-weighted verdict.

A feature drifts when its statistic passes its threshold. The batch drifts when the
drifted features carry at least ``drift_share`` of the champion's importance: drift in
features the model barely uses does not retrain for nothing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.drift.profile import (
    CategoricalProfile,
    FeatureProfile,
    NumericProfile,
    Profile,
    profile_batch,
)
from retrainer.drift.stats import STATISTICS

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import DriftConfig

__all__ = ["DriftResult", "FeatureDrift", "detect_drift"]


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's statistic against its threshold.

    ``importance`` is the feature's normalised weight in the verdict (weights sum to 1),
    not the raw importance it was given.
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

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
        )


@dataclass(frozen=True)
class DriftResult:
    """The batch-level verdict with its evidence; ``features`` sorted by value, largest first."""

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
            tuple(FeatureDrift.from_dict(f) for f in data["features"]),
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


def _weight(value: Any) -> float:
    # Permutation importance can be negative (or NaN): such a feature does not matter.
    value = float(value)
    return value if math.isfinite(value) and value > 0 else 0.0


def _weights(features: list[str], importances: dict[str, float] | None) -> dict[str, float]:
    raw = {f: _weight((importances or {}).get(f, 0.0)) for f in features}
    total = sum(raw.values())
    if total <= 0:
        return {f: 1.0 / len(features) for f in features}
    return {f: v / total for f, v in raw.items()}


def _comparable(name: str, ref: FeatureProfile, cur: FeatureProfile | None) -> FeatureProfile:
    if cur is None:
        raise ValueError(
            f"the batch profile has no feature {name!r}; profile it with profile_batch"
        )
    if ref.kind != cur.kind:
        raise ValueError(f"feature {name!r} is {ref.kind} in the reference but {cur.kind} now")
    if (
        isinstance(ref, NumericProfile)
        and isinstance(cur, NumericProfile)
        and ref.edges != cur.edges
    ):
        raise ValueError(f"feature {name!r} was not profiled on the reference's bins")
    return cur


def _explain(results: list[FeatureDrift], score: float, config: DriftConfig) -> str:
    name = config.statistic.upper()
    drifted = [f for f in results if f.drifted]
    listed = ", ".join(
        f"{f.feature} ({name} {f.value:.2f}, weight {f.importance:.2f})" for f in drifted
    )
    if score >= config.drift_share:
        return (
            f"drift: {listed} drifted; importance-weighted share {score:.2f} "
            f">= {config.drift_share:.2f}"
        )
    if drifted:
        return (
            f"no drift: {listed} drifted, but they carry only {score:.2f} of the model's "
            f"importance (< {config.drift_share:.2f})"
        )
    if not results:
        return "no drift: no features to compare"
    top = results[0]
    return (
        f"no drift: no feature's {name} above its threshold "
        f"(largest {top.feature} {top.value:.2f} <= {top.threshold:.2f})"
    )


def detect_drift(
    reference: Profile,
    batch: pd.DataFrame | Profile,
    config: DriftConfig,
    importances: dict[str, float] | None = None,
) -> DriftResult:
    """Compare a batch with the reference feature by feature and decide.

    Args:
        reference: the champion's reference profile.
        batch: the batch itself, or its profile on the reference's bins (for example
            merged from chunk profiles).
        config: statistic, per-feature thresholds and the share that makes a drift.
        importances: the champion's feature importances (e.g. permutation importance).
            Negative, NaN and absent values count as 0; when none is positive every
            feature weighs the same.

    Raises:
        ValueError: ``batch`` is a profile that was not made on the reference's bins.

    Notes:
        Feature :math:`j` drifts when its statistic :math:`d_j` (PSI on the bins plus a
        missing bucket) exceeds its threshold :math:`t_j`
        (``feature_thresholds[j]``, else ``threshold``). With weights
        :math:`w_j = \\max(I_j, 0) / \\sum_k \\max(I_k, 0)`, the batch drifts when

        .. math:: \\text{score} = \\sum_j w_j \\, [d_j > t_j] \\ge \\text{drift\\_share}.

        So a large shift in a feature the model barely uses does not retrain for nothing.
    """
    current = batch if isinstance(batch, Profile) else profile_batch(batch, reference)
    statistic = STATISTICS[config.statistic]
    names = list(reference.features)
    weights = _weights(names, importances)
    results: list[FeatureDrift] = []
    for name in names:
        ref = reference.features[name]
        cur = _comparable(name, ref, current.features.get(name))
        keys = None
        if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
            keys = sorted(set(ref.counts) | set(cur.counts))
        ref_counts, cur_counts = _buckets(ref, keys), _buckets(cur, keys)
        value = statistic(ref_counts, cur_counts) if sum(cur_counts) else 0.0
        threshold = float(config.feature_thresholds.get(name, config.threshold))
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
    results.sort(key=lambda f: (-f.value, f.feature))
    score = round(sum(f.importance for f in results if f.drifted), 6)
    drift = score >= config.drift_share
    return DriftResult(
        drift,
        score,
        config.drift_share,
        tuple(results),
        current.row_count,
        _explain(results, score, config),
    )
