"""Validate the labelled sets a model is trained and judged on, before any fit.

Batches were validated when they landed, usually before their labels existed. A training
window adds what could not be checked then: every label is in its domain, ids do not
repeat across the batches of the window, and the columns still have their types. Rows
that fail a ``quarantine_rows`` check are left out of training and kept for audit; a
``block`` failure stops the retrain with the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrainer.errors import ValidationFailed
from retrainer.validation.batch import REASONS_COLUMN, apply_severities
from retrainer.validation.runner import validate_frame

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig
    from retrainer.validation.suite import SuiteSpec

__all__ = ["CheckedSet", "check_training_set"]


@dataclass(frozen=True)
class CheckedSet:
    """A training or holdout set after validation."""

    kept: pd.DataFrame
    rejected: pd.DataFrame  # the left-out rows, with their reason codes
    reasons: dict[str, int]
    warnings: tuple[str, ...]


def check_training_set(
    frame: pd.DataFrame, spec: SuiteSpec, config: ModelConfig, *, name: str
) -> CheckedSet:
    """Validate a labelled set with its labels required.

    Raises:
        ValidationFailed: a blocking check failed; nothing may be trained on this set.
    """
    result = validate_frame(frame, spec, name=name, require_target=True)
    outcome = apply_severities(frame, result, spec, config, require_target=True)
    if outcome.status == "blocked":
        raise ValidationFailed(
            f"{name} of {config.name!r} cannot be trained on: " + "; ".join(outcome.blocking),
            batch_id=name,
            failed_checks=list(outcome.blocking),
            evidence=result.to_dict(),
        )
    selected = outcome.selected
    rejected = frame[selected].copy()
    if len(rejected):
        rejected[REASONS_COLUMN] = [r for r, s in zip(outcome.reasons, selected, strict=True) if s]
    return CheckedSet(
        frame[~selected].reset_index(drop=True), rejected, outcome.counts, outcome.warnings
    )
