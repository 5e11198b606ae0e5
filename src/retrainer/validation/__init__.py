"""Data validation: suites learned from the reference, run through Great Expectations 1.x,
quarantine for what fails."""

from __future__ import annotations

from retrainer.validation.batch import (
    REASONS_COLUMN,
    BatchValidation,
    Decision,
    decide,
    quarantine,
    validate_batch,
)
from retrainer.validation.rows import row_failures
from retrainer.validation.runner import FailedCheck, ValidationResult, validate_frame
from retrainer.validation.suite import ColumnSpec, SuiteSpec, build_suite_spec, spec_from_config

__all__ = [
    "REASONS_COLUMN",
    "BatchValidation",
    "ColumnSpec",
    "Decision",
    "FailedCheck",
    "SuiteSpec",
    "ValidationResult",
    "build_suite_spec",
    "decide",
    "quarantine",
    "row_failures",
    "spec_from_config",
    "validate_batch",
    "validate_frame",
]
