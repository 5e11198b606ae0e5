"""Drift: reference profiles, per-feature statistics, an explained verdict, a report."""

from __future__ import annotations

from retrainer.drift.detect import DriftResult, FeatureDrift, detect_drift
from retrainer.drift.profile import (
    UNSEEN,
    CategoricalProfile,
    NumericProfile,
    Profile,
    build_reference_profile,
    profile_batch,
)
from retrainer.drift.report import render_html
from retrainer.drift.stats import STATISTICS, jensen_shannon, psi

__all__ = [
    "STATISTICS",
    "UNSEEN",
    "CategoricalProfile",
    "DriftResult",
    "FeatureDrift",
    "NumericProfile",
    "Profile",
    "build_reference_profile",
    "detect_drift",
    "jensen_shannon",
    "profile_batch",
    "psi",
    "render_html",
]
