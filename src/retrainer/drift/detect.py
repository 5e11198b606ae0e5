"""From per-feature statistics to one explained, importance-weighted verdict.

A feature drifts when an effect size passes its threshold *and* the change is
significant after Benjamini-Hochberg correction across features. Effect sizes do not
grow with the batch, p-values do: the threshold keeps a million-row batch from flagging
every column, the test keeps a small batch from flagging noise. Thresholds shrink for the
features the model leans on, but only down to ``importance_floor`` of the configured one:
below that an effect is too small to matter, and at a large n it would always be
significant. The batch drifts when the
drifted features carry at least ``drift_share`` of the champion's importance: drift in
features the model barely uses does not retrain for nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from retrainer.drift.build import profile_batch
from retrainer.drift.profile import FeatureProfile, NumericProfile, Profile
from retrainer.drift.registry import STATISTICS, Comparison
from retrainer.drift.result import DriftResult, FeatureDrift
from retrainer.drift.stats import chi_square

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import DriftConfig

__all__ = ["PREDICTION", "detect_drift"]

PREDICTION = "prediction"


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


def _statistic_for(kind: str, config: DriftConfig) -> tuple[str, float]:
    name = config.statistic if kind == "numeric" else config.categorical_statistic
    configured = config.threshold if kind == "numeric" else config.categorical_threshold
    return name, STATISTICS[name].default_threshold if configured is None else configured


def _threshold(
    name: str, base: float, weight: float, n_features: int, config: DriftConfig
) -> float:
    if name in config.feature_thresholds:
        return float(config.feature_thresholds[name])
    if not config.importance_scaled or weight <= 0:
        return base
    # A feature carrying k equal shares of the importance gets a k times smaller threshold:
    # a small shift in what the model leans on matters more than a large one elsewhere.
    return base * max(config.importance_floor, min(1.0, 1.0 / (n_features * weight)))


def _evaluate(
    comparison: Comparison, threshold: float, config: DriftConfig
) -> tuple[str, float, dict[str, float], tuple[str, ...], float]:
    """Every applicable statistic, the thresholds passed, and the chi-square p-value."""
    statistic, _ = _statistic_for(comparison.kind, config)
    values = {
        key: round(stat(comparison), 6)
        for key, stat in STATISTICS.items()
        if comparison.kind in stat.kinds
    }
    value = values[statistic]
    reasons = []
    if value > threshold:
        reasons.append(f"{STATISTICS[statistic].label} {value:.3g} > {threshold:.3g}")
    if values["missing_rate"] > config.missing_threshold:
        before, after = comparison.missing_rates()
        reasons.append(f"missing {before:.1%} -> {after:.1%}")
    if values.get("unseen_share", 0.0) > config.unseen_threshold:
        reasons.append(f"{values['unseen_share']:.1%} unseen categories")
    p_value = chi_square(comparison.reference, comparison.current)[1]
    return statistic, value, values, tuple(reasons), p_value


def _explain(results: list[FeatureDrift], score: float, config: DriftConfig) -> str:
    drifted = [f for f in results if f.drifted]
    listed = ", ".join(
        f"{f.feature} ({'; '.join(f.reasons)}; p_adj {f.p_adjusted:.2g}, weight {f.importance:.2f})"
        for f in drifted
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
    noise = [f for f in results if f.reasons]
    if noise:
        return (
            f"no drift: {', '.join(f.feature for f in noise)} passed a threshold but the "
            f"change is not significant (p_adj > {config.alpha:g})"
        )
    top = results[0]
    return (
        f"no drift: no feature above its threshold (largest {top.feature} "
        f"{top.statistic} {top.value:.3g} <= {top.threshold:.3g})"
    )


def _prediction_drift(
    reference: Profile, current: Profile, config: DriftConfig
) -> FeatureDrift | None:
    # One hypothesis of its own (not in the features' BH family): evidence, not verdict.
    if reference.prediction is None or current.prediction is None:
        return None
    comparison = Comparison.of(reference.prediction, current.prediction)
    _, threshold = _statistic_for(comparison.kind, config)
    statistic, value, values, reasons, p = _evaluate(comparison, threshold, config)
    before, after = comparison.missing_rates()
    drifted = bool(reasons) and p <= config.alpha
    return FeatureDrift(
        PREDICTION,
        comparison.kind,
        statistic,
        value,
        threshold,
        drifted,
        0.0,
        before,
        after,
        p,
        p,
        values,
        reasons,
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
            merged from chunk or partition profiles).
        config: statistics, thresholds, the false discovery rate and the share of
            importance that makes a drift.
        importances: the champion's feature importances (e.g. permutation importance).
            Negative, NaN and absent values count as 0; when none is positive every
            feature weighs the same.

    Raises:
        ValueError: ``batch`` is a profile that was not made on the reference's bins.

    Notes:
        For feature :math:`j` with effect size :math:`d_j` (``statistic`` for numeric,
        ``categorical_statistic`` for categorical features, on the bins plus a missing
        bucket) and chi-square p-value :math:`p_j` on the same 2 x k table, with weights
        :math:`w_j = \\max(I_j, 0) / \\sum_k \\max(I_k, 0)` over :math:`m` features:

        .. math::
            t_j = t \\cdot \\max(f, \\min(1, 1 / (m w_j))), \\qquad
            \\text{drifted}_j = [d_j > t_j \\lor \\text{missing or unseen change}]
                \\land [\\tilde p_j \\le \\alpha]

        where :math:`f` is ``importance_floor``, :math:`\\tilde p` are Benjamini-Hochberg
        adjusted p-values (scipy's ``false_discovery_control``) and
        ``feature_thresholds[j]`` replaces :math:`t_j`. The batch drifts when

        .. math:: \\text{score} = \\sum_j w_j \\, \\text{drifted}_j \\ge \\text{drift\\_share}.

        With no feature changed, BH keeps the chance of any flag at most :math:`\\alpha`.
    """
    current = batch if isinstance(batch, Profile) else profile_batch(batch, reference)
    names = list(reference.features)
    weights = _weights(names, importances)
    evaluated = []
    for name in names:
        ref = reference.features[name]
        comparison = Comparison.of(ref, _comparable(name, ref, current.features.get(name)))
        _, base = _statistic_for(comparison.kind, config)
        threshold = _threshold(name, base, weights[name], len(names), config)
        evaluated.append((name, comparison, threshold, _evaluate(comparison, threshold, config)))
    from scipy.stats import false_discovery_control

    adjusted = false_discovery_control([e[3][4] for e in evaluated], method="bh")
    results: list[FeatureDrift] = []
    for (name, comparison, threshold, evaluation), p_adj in zip(evaluated, adjusted, strict=True):
        statistic, value, values, reasons, p_value = evaluation
        before, after = comparison.missing_rates()
        results.append(
            FeatureDrift(
                name,
                comparison.kind,
                statistic,
                value,
                round(threshold, 6),
                bool(reasons) and bool(p_adj <= config.alpha),
                round(weights[name], 6),
                before,
                after,
                float(p_value),
                float(p_adj),
                values,
                reasons,
            )
        )
    results.sort(key=lambda f: (-f.value / f.threshold, f.feature))
    score = round(sum(f.importance for f in results if f.drifted), 6)
    return DriftResult(
        score >= config.drift_share,
        score,
        config.drift_share,
        tuple(results),
        current.row_count,
        _explain(results, score, config),
        _prediction_drift(reference, current, config),
        config.alpha,
    )
