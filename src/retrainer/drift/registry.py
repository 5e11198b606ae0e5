"""Named drift statistics: what each measures, which columns it accepts, its default threshold.

Every statistic is a small function of a :class:`Comparison` (two feature profiles on
common buckets) returning an effect size, registered with :func:`register`. Significance
is a separate step (a chi-square test on the same buckets, Benjamini-Hochberg across
features, in :mod:`retrainer.drift.detect`): an effect size does not grow with the batch,
a p-value does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from retrainer.drift.profile import UNSEEN, CategoricalProfile, FeatureProfile, NumericProfile
from retrainer.drift.stats import (
    chi_square,
    jensen_shannon,
    ks_statistic,
    psi,
    wasserstein_binned,
)

__all__ = ["STATISTICS", "Comparison", "Statistic", "register"]


@dataclass(frozen=True)
class Comparison:
    """A reference and a current feature profile on common buckets.

    ``reference`` and ``current`` are counts per bucket with the missing bucket last; for
    categoricals the buckets are ``keys`` (the union of both sides' categories, including
    :data:`UNSEEN`). Numeric comparisons also carry the edges, both sides' sums of the
    outer bins and the reference standard deviation (``scale``) for unit-free distances.
    """

    kind: str
    keys: tuple[str, ...]
    reference: np.ndarray
    current: np.ndarray
    edges: tuple[float, ...] = ()
    reference_tails: tuple[float, float] = (0.0, 0.0)
    current_tails: tuple[float, float] = (0.0, 0.0)
    scale: float = math.nan

    @classmethod
    def of(cls, reference: FeatureProfile, current: FeatureProfile) -> Comparison:
        if isinstance(reference, NumericProfile) and isinstance(current, NumericProfile):
            return cls(
                "numeric",
                tuple(str(i) for i in range(len(reference.counts))),
                np.asarray([*reference.counts, reference.missing], "float64"),
                np.asarray([*current.counts, current.missing], "float64"),
                reference.edges,
                reference.tail_sums(),
                current.tail_sums(),
                reference.std,
            )
        if isinstance(reference, CategoricalProfile) and isinstance(current, CategoricalProfile):
            keys = tuple(sorted(set(reference.counts) | set(current.counts)))
            return cls(
                "categorical",
                keys,
                np.asarray([*(reference.counts.get(k, 0) for k in keys), reference.missing], "f8"),
                np.asarray([*(current.counts.get(k, 0) for k in keys), current.missing], "f8"),
            )
        raise ValueError("cannot compare a numeric with a categorical profile")

    @property
    def empty(self) -> bool:
        return bool(self.reference.sum() <= 0 or self.current.sum() <= 0)

    def missing_rates(self) -> tuple[float, float]:
        return (
            float(self.reference[-1] / max(self.reference.sum(), 1.0)),
            float(self.current[-1] / max(self.current.sum(), 1.0)),
        )


@dataclass(frozen=True)
class Statistic:
    """A registered effect size: ``function`` maps a comparison to a value >= 0."""

    name: str
    kinds: frozenset[str]
    default_threshold: float
    function: Callable[[Comparison], float]
    description: str
    label: str

    def __call__(self, comparison: Comparison) -> float:
        if comparison.kind not in self.kinds:
            raise ValueError(f"{self.name} does not accept {comparison.kind} features")
        return 0.0 if comparison.empty else float(self.function(comparison))


STATISTICS: dict[str, Statistic] = {}


def register(
    name: str, kinds: set[str], default_threshold: float, description: str, label: str
) -> Callable[[Callable[[Comparison], float]], Callable[[Comparison], float]]:
    """Register the decorated function as statistic ``name`` (``label`` names it in
    explanations and reports)."""

    def wrap(function: Callable[[Comparison], float]) -> Callable[[Comparison], float]:
        STATISTICS[name] = Statistic(
            name, frozenset(kinds), default_threshold, function, description, label
        )
        return function

    return wrap


BOTH = {"numeric", "categorical"}


@register("psi", BOTH, 0.1, "Population Stability Index over bins + missing", "PSI")
def _psi(c: Comparison) -> float:
    return psi(c.reference, c.current)


@register("jensen_shannon", BOTH, 0.1, "Jensen-Shannon distance over bins + missing", "JS")
def _jensen_shannon(c: Comparison) -> float:
    return jensen_shannon(c.reference, c.current)


@register(
    "wasserstein", {"numeric"}, 0.1, "Wasserstein distance / reference std (binned CDFs)", "W/sd"
)
def _wasserstein(c: Comparison) -> float:
    ref, cur = c.reference[:-1], c.current[:-1]
    if ref.sum() <= 0 or cur.sum() <= 0:
        return 0.0
    distance = wasserstein_binned(c.edges, ref, cur, c.reference_tails, c.current_tails)
    # A constant reference has no spread to measure against: report the raw distance.
    scale = c.scale if math.isfinite(c.scale) and c.scale > 0 else 1.0
    return distance / scale


@register(
    "ks", {"numeric"}, 0.1, "Kolmogorov-Smirnov D from the binned CDFs (at bin edges)", "KS D"
)
def _ks(c: Comparison) -> float:
    ref, cur = c.reference[:-1], c.current[:-1]
    if ref.sum() <= 0 or cur.sum() <= 0:
        return 0.0
    return ks_statistic(ref, cur)


@register(
    "chi_square", BOTH, 0.1, "Cramér's V of the chi-square table over bins + missing", "Cramer's V"
)
def _cramers_v(c: Comparison) -> float:
    statistic = chi_square(c.reference, c.current)[0]
    return math.sqrt(statistic / (c.reference.sum() + c.current.sum()))


@register(
    "missing_rate", BOTH, 0.05, "absolute change of the share of missing values", "missing change"
)
def _missing_rate(c: Comparison) -> float:
    reference, current = c.missing_rates()
    return abs(current - reference)


@register(
    "unseen_share",
    {"categorical"},
    0.05,
    "share of present values in unseen categories",
    "unseen share",
)
def _unseen_share(c: Comparison) -> float:
    present = c.current[:-1]
    if UNSEEN not in c.keys or present.sum() <= 0:
        return 0.0
    return float(present[c.keys.index(UNSEEN)] / present.sum())
