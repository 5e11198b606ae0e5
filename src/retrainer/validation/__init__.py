"""Data validation: suites learned from the reference, run through Great Expectations 1.x,
quarantine for what fails."""

from __future__ import annotations

from retrainer.validation.batch import (
    REASONS_COLUMN,
    BatchValidation,
    SeverityOutcome,
    apply_severities,
    quarantine,
    validate_batch,
)
from retrainer.validation.champion import load_suite_spec
from retrainer.validation.labels import labels_key, labels_spec, validate_labels
from retrainer.validation.precheck import size_check, width_check
from retrainer.validation.rows import row_failures
from retrainer.validation.runner import FailedCheck, ValidationResult, validate_frame
from retrainer.validation.served import ServedContext, served_context
from retrainer.validation.suite import (
    ColumnSpec,
    SuiteSpec,
    apply_overrides,
    build_suite_spec,
    spec_from_config,
)
from retrainer.validation.training import CheckedSet, check_training_set

__all__ = [
    "REASONS_COLUMN",
    "BatchValidation",
    "CheckedSet",
    "ColumnSpec",
    "FailedCheck",
    "ServedContext",
    "SeverityOutcome",
    "SuiteSpec",
    "ValidationResult",
    "apply_overrides",
    "apply_severities",
    "build_suite_spec",
    "check_training_set",
    "labels_key",
    "labels_spec",
    "load_suite_spec",
    "quarantine",
    "row_failures",
    "served_context",
    "size_check",
    "spec_from_config",
    "validate_batch",
    "validate_frame",
    "validate_labels",
    "width_check",
]
