"""Batches in the lake and the per-batch check against the champion."""

from __future__ import annotations

from retrainer.monitoring.batches import (
    accept_batch,
    find_incoming,
    land_file,
    load_suite_spec,
)
from retrainer.monitoring.check import BatchCheck, check_batch

__all__ = [
    "BatchCheck",
    "accept_batch",
    "check_batch",
    "find_incoming",
    "land_file",
    "load_suite_spec",
]
