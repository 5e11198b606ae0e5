"""Ground truth that arrives after its batch: validated before it may judge a model.

A labels file holds the join key (the request id of an online model's ``data.serving``,
else the model's id column, else its time column) and the target. The key must be present
and unique, every label in the domain learned from the training data (or numeric for
regression). The original stays in ``incoming/<m>/labels/``; accepted labels go to
``labels/<m>/<batch>.parquet``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from retrainer.errors import ConfigError
from retrainer.lake import keys
from retrainer.validation.batch import BatchValidation, validate_batch
from retrainer.validation.suite import ColumnSpec

if TYPE_CHECKING:
    from retrainer.config import ModelConfig
    from retrainer.storage import Storage
    from retrainer.validation.suite import SuiteSpec

__all__ = ["labels_key", "labels_spec", "validate_labels"]


def labels_key(config: ModelConfig) -> str:
    """The column that joins labels to predictions.

    Raises:
        ConfigError: the model has neither ``data.id_column`` nor ``data.time_column``.
    """
    if config.data.serving is not None:
        return config.data.serving.request_id_column
    key = config.data.id_column or config.data.time_column
    if key is None:
        raise ConfigError(
            f"model {config.name!r}: labels need data.id_column (or data.time_column) to be "
            "joined to predictions; set one in its YAML"
        )
    return key


def labels_spec(spec: SuiteSpec, config: ModelConfig) -> SuiteSpec:
    """The suite of a labels file: the join key (unique, never null) and the target."""
    key = labels_key(config)
    key_column = spec.column(key)
    if key_column is None and config.data.serving is not None:
        # The request id is no input of the model: the suite never learned it.
        key_column = ColumnSpec(key, "id", "any")
    target_column = spec.column(spec.target)
    if key_column is None or target_column is None:
        raise ConfigError(f"suite of {config.name!r} lacks column {key!r} or {spec.target!r}")
    return replace(
        spec,
        columns=(
            replace(key_column, unique=True, max_null_fraction=0.0),
            replace(target_column, max_null_fraction=0.0),
        ),
        min_rows=1,
        max_rows=None,
        notes=(*spec.notes, "labels file: join key + target"),
    )


def validate_labels(
    storage: Storage, config: ModelConfig, batch_id: str, source_key: str, spec: SuiteSpec
) -> BatchValidation:
    """Validate a landed labels file; accepted labels go to ``labels/<m>/<batch>.parquet``.

    Raises:
        ValidationFailed: the file was blocked and kept in ``quarantine/<m>/labels-<batch>/``.
    """
    return validate_batch(
        storage,
        config,
        batch_id,
        source_key,
        labels_spec(spec, config),
        require_target=True,
        accepted_key=keys.labels_file(config.name, batch_id),
        quarantine_prefix=keys.labels_quarantine(config.name, batch_id),
    )
