"""The per-batch check against the champion, its performance, and the trigger policy."""

from __future__ import annotations

from retrainer.monitoring.check import BatchCheck, check_batch
from retrainer.monitoring.estimate import Calibrator, estimate_metrics, fit_calibrator
from retrainer.monitoring.performance import assess_batch
from retrainer.monitoring.prediction_log import join_labels
from retrainer.monitoring.refresh import refresh_labelled

__all__ = [
    "BatchCheck",
    "Calibrator",
    "assess_batch",
    "check_batch",
    "estimate_metrics",
    "fit_calibrator",
    "join_labels",
    "refresh_labelled",
]
