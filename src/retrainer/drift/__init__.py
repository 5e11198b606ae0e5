"""Drift: reference profiles, streaming batch profiles, registered statistics, an explained
importance-weighted verdict and a report."""

from __future__ import annotations

from retrainer.drift.build import (
    build_reference_profile,
    profile_batch,
    profile_predictions,
)
from retrainer.drift.detect import PREDICTION, detect_drift
from retrainer.drift.profile import (
    UNSEEN,
    CategoricalProfile,
    NumericProfile,
    Profile,
    merge_profiles,
)
from retrainer.drift.registry import STATISTICS, Comparison, Statistic, register
from retrainer.drift.report import render_html
from retrainer.drift.result import DriftResult, FeatureDrift
from retrainer.drift.stats import (
    chi_square,
    jensen_shannon,
    ks_binned,
    psi,
    wasserstein,
)
from retrainer.drift.stream import iter_chunks, profile_arrow, profile_file, profile_partition

__all__ = [
    "PREDICTION",
    "STATISTICS",
    "UNSEEN",
    "CategoricalProfile",
    "Comparison",
    "DriftResult",
    "FeatureDrift",
    "NumericProfile",
    "Profile",
    "Statistic",
    "build_reference_profile",
    "chi_square",
    "detect_drift",
    "iter_chunks",
    "jensen_shannon",
    "ks_binned",
    "merge_profiles",
    "profile_arrow",
    "profile_batch",
    "profile_file",
    "profile_partition",
    "profile_predictions",
    "psi",
    "register",
    "render_html",
    "wasserstein",
]
