"""The suite a batch is validated against: the champion's, else one from config alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrainer.validation.suite import SuiteSpec, apply_overrides, spec_from_config

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig

__all__ = ["load_suite_spec"]


def load_suite_spec(
    config: ModelConfig, champion_run_id: str | None, *, client: MlflowClient | None = None
) -> SuiteSpec:
    """The champion's suite if there is a champion, else the schema from config alone.

    The stored suite is what the champion learned from its training data; the model
    config's overrides apply on top of it. ``client`` reads the suite; without one, a
    client of the store ``connect`` set.
    """
    if champion_run_id is None:
        return spec_from_config(config)
    import mlflow

    from retrainer.registry.artifacts import read_artifact

    stored = SuiteSpec.from_dict(
        read_artifact(client or mlflow.MlflowClient(), champion_run_id, "suite")
    )
    return apply_overrides(stored, config)
