"""Drift statistics on binned counts, one small registered function each.

Every function takes the reference's and the batch's counts *on the same bins* (including
a missing-value bucket, so a rise in nulls is drift rather than silently dropped rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["STATISTICS", "jensen_shannon", "proportions", "psi"]

Counts = Sequence[int] | np.ndarray


def proportions(counts: Counts, epsilon: float = 0.0) -> np.ndarray:
    """Counts as proportions, clipped below at ``epsilon`` and renormalised."""
    array = np.asarray(counts, dtype="float64")
    total = array.sum()
    if total <= 0:
        raise ValueError("cannot compare an empty distribution")
    p = array / total
    if epsilon > 0:
        p = np.clip(p, epsilon, None)
        p = p / p.sum()
    return p


def psi(reference: Counts, current: Counts, *, epsilon: float = 1e-4) -> float:
    """Population Stability Index.

    Notes:
        .. math:: \\mathrm{PSI} = \\sum_i (q_i - p_i) \\ln(q_i / p_i)

        with reference proportions :math:`p` and current proportions :math:`q`. Empty bins
        would make the logarithm infinite, so proportions are clipped at ``epsilon``
        (1e-4) and renormalised first. Rules of thumb: below 0.1 stable, 0.1-0.25 a
        moderate shift, above 0.25 a major shift.
    """
    p = proportions(reference, epsilon)
    q = proportions(current, epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon(reference: Counts, current: Counts) -> float:
    """Jensen-Shannon distance (base e), the square root of the JS divergence.

    Notes:
        .. math:: JS(p, q) = \\sqrt{\\tfrac12 KL(p \\| m) + \\tfrac12 KL(q \\| m)},\\;
           m = \\tfrac12 (p + q)

        Bounded by :math:`\\sqrt{\\ln 2}`; symmetric and finite with empty bins.
    """
    p = proportions(reference)
    q = proportions(current)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / b[mask])))

    return float(np.sqrt(max(0.5 * kl(p, m) + 0.5 * kl(q, m), 0.0)))


STATISTICS: dict[str, Callable[..., float]] = {
    "psi": psi,
    "jensen_shannon": jensen_shannon,
}
