"""The suite a batch is validated against: the champion's, else one from config alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrainer.validation.suite import SuiteSpec, apply_overrides, spec_from_config

if TYPE_CHECKING:
    from retrainer.config import ModelConfig

__all__ = ["load_suite_spec"]


def load_suite_spec(config: ModelConfig, champion_run_id: str | None) -> SuiteSpec:
    """The champion's suite if there is a champion, else the schema from config alone.

    The stored suite is what the champion learned from its training data; the model
    config's overrides apply on top of it.
    """
    if champion_run_id is None:
        return spec_from_config(config)
    import mlflow

    from retrainer.training.train import ARTIFACTS

    stored = SuiteSpec.from_dict(
        mlflow.artifacts.load_dict(f"runs:/{champion_run_id}/{ARTIFACTS['suite']}")
    )
    return apply_overrides(stored, config)
