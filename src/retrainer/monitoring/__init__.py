"""Batches in the lake, the per-batch check against the champion, and its performance."""

from __future__ import annotations

from retrainer.monitoring.batches import (
    accept_batch,
    find_incoming,
    land_file,
    load_suite_spec,
)
from retrainer.monitoring.check import BatchCheck, check_batch
from retrainer.monitoring.estimate import Calibrator, estimate_metrics, fit_calibrator
from retrainer.monitoring.performance import (
    PerformanceRecord,
    assess_batch,
    performance_key,
    refresh_labelled,
)
from retrainer.monitoring.prediction_log import join_labels, prediction_key

__all__ = [
    "BatchCheck",
    "Calibrator",
    "PerformanceRecord",
    "accept_batch",
    "assess_batch",
    "check_batch",
    "estimate_metrics",
    "find_incoming",
    "fit_calibrator",
    "join_labels",
    "land_file",
    "load_suite_spec",
    "performance_key",
    "prediction_key",
    "refresh_labelled",
]
