"""Typed model configuration: one YAML file per model in ``config/models/``.

Every model is frozen and rejects unknown keys, so a typo in YAML is an error that names
the file and the field path instead of a setting that is silently ignored. Import-light
(pydantic and yaml only): the DAG files parse these files.

Modules:
    base        the frozen, extra-forbidding base model
    data        data source, target, validation checks and their severities
    training    estimator, training window, holdout
    monitoring  drift, trigger policy, label-free performance estimate
    evaluation  champion/challenger evaluation and the gate
    promotion   shadow scoring and approval
    serving     the columns of a batch that carry what an online model served
    model       ModelConfig: every section and the checks across sections
    loading     load_model_config(s) with file-and-field errors; scan_model_configs
                keeps going past a broken file
"""

from __future__ import annotations

from retrainer.config.data import (
    ColumnExpectation,
    DataConfig,
    SeverityRule,
    TargetConfig,
    ValidationConfig,
)
from retrainer.config.evaluation import (
    ComparisonRule,
    EvaluationConfig,
    FairnessBounds,
    FairnessConfig,
    GateConfig,
    SliceConfig,
)
from retrainer.config.loading import (
    BrokenModelFile,
    ModelFiles,
    anchor_code_path,
    load_model_config,
    load_model_configs,
    model_file,
    scan_model_configs,
)
from retrainer.config.model import ModelConfig
from retrainer.config.monitoring import DriftConfig, MonitoringConfig, TriggerConfig
from retrainer.config.promotion import ApprovalConfig, ShadowConfig
from retrainer.config.serving import ServingConfig
from retrainer.config.training import (
    HoldoutConfig,
    ModelSpec,
    SampleConfig,
    TrainingConfig,
    WindowConfig,
)

__all__ = [
    "ApprovalConfig",
    "BrokenModelFile",
    "ColumnExpectation",
    "ComparisonRule",
    "DataConfig",
    "DriftConfig",
    "EvaluationConfig",
    "FairnessBounds",
    "FairnessConfig",
    "GateConfig",
    "HoldoutConfig",
    "ModelConfig",
    "ModelFiles",
    "ModelSpec",
    "MonitoringConfig",
    "SampleConfig",
    "ServingConfig",
    "SeverityRule",
    "ShadowConfig",
    "SliceConfig",
    "TargetConfig",
    "TrainingConfig",
    "TriggerConfig",
    "ValidationConfig",
    "WindowConfig",
    "anchor_code_path",
    "load_model_config",
    "load_model_configs",
    "model_file",
    "scan_model_configs",
]
