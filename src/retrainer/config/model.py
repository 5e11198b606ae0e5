"""One model under care: every section, and the checks that span sections."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from retrainer.config.base import Frozen
from retrainer.config.data import DataConfig, TargetConfig, ValidationConfig
from retrainer.config.defaults import with_default_policies
from retrainer.config.evaluation import EvaluationConfig, GateConfig
from retrainer.config.monitoring import DriftConfig, MonitoringConfig, TriggerConfig
from retrainer.config.promotion import (
    MLFLOW_CANNOT_ENFORCE_FOUR_EYES,
    ApprovalConfig,
    ShadowConfig,
)
from retrainer.config.training import ModelSpec, TrainingConfig
from retrainer.errors import ConfigError
from retrainer.metric_specs import metric_spec

__all__ = ["MODEL_NAME", "ModelConfig"]

# Matched whole (fullmatch): "$" would also let a trailing newline through.
MODEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


class ModelConfig(Frozen):
    """Everything retrainer knows about one model under care."""

    name: str
    description: str = ""
    data: DataConfig = Field(default_factory=DataConfig)
    numeric_features: list[str] = Field(default_factory=list)
    categorical_features: list[str] = Field(default_factory=list)
    target: TargetConfig
    model: ModelSpec = Field(default_factory=ModelSpec)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    schedule: str | None = Field(
        default=None, description="Cron expression for scheduled retraining, or null."
    )
    trigger: TriggerConfig = Field(default_factory=TriggerConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    shadow: ShadowConfig | None = Field(
        default=None, description="Score a gated challenger on live batches before promoting."
    )
    approval: ApprovalConfig | None = Field(
        default=None, description="auto | mlflow | airflow, or a mapping; default from settings."
    )
    owner: str = "retrainer"
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    # The YAML file it was read from (set by load_model_config), for error messages.
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """The YAML file this config came from, or a stand-in naming the model."""
        return self._source or f"the YAML of model {self.name!r}"

    @model_validator(mode="before")
    @classmethod
    def _approval_shorthand(cls, data: Any) -> Any:
        # ``approval: mlflow`` is the short form of ``approval: {mode: mlflow}``.
        if isinstance(data, dict) and isinstance(data.get("approval"), str):
            data = {**data, "approval": {"mode": data["approval"]}}
        return data

    @model_validator(mode="before")
    @classmethod
    def _defaults_that_act(cls, data: Any) -> Any:
        return with_default_policies(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _check(self) -> ModelConfig:
        if not MODEL_NAME.fullmatch(self.name):
            raise ValueError(
                f"name {self.name!r} must be lower-case letters, digits and underscores "
                "(it becomes DAG ids and the registered model name)"
            )
        if not self.features:
            raise ValueError("at least one of numeric_features or categorical_features is needed")
        seen: set[str] = set()
        for column in self.features:
            if column in seen:
                raise ValueError(f"feature {column!r} is listed twice")
            seen.add(column)
        bookkeeping = {self.target.column, self.data.time_column, self.data.id_column} - {None}
        overlap = sorted(seen & bookkeeping)
        if overlap:
            raise ValueError(f"{overlap} cannot be both a feature and the target/time/id column")
        known_columns = seen | bookkeeping
        if self.validation.max_columns < len(known_columns):
            raise ValueError(
                f"validation.max_columns {self.validation.max_columns} is below the "
                f"{len(known_columns)} columns this model needs"
            )
        bad_rules = sorted(
            {r.column for r in self.validation.rules if r.column and r.column not in known_columns}
        )
        if bad_rules:
            raise ValueError(f"validation.rules name unknown columns {bad_rules}")
        bad_columns = sorted(set(self.validation.columns) - known_columns)
        if bad_columns:
            raise ValueError(f"validation.columns names unknown columns {bad_columns}")
        unknown = sorted(set(self.drift.feature_thresholds) - seen)
        if unknown:
            raise ValueError(f"drift.feature_thresholds names unknown features {unknown}")
        self._check_evaluation({c for c in known_columns if c is not None})
        self._check_serving({c for c in known_columns if c is not None})
        self._check_trigger()
        self._check_search()
        sample = self.training.sample
        if sample is not None and sample.stratify and self.target.task == "regression":
            raise ValueError(
                "training.sample.stratify needs a classifier: a regression target has no "
                "classes to keep the shares of (set stratify: false)"
            )
        if self.training.holdout.strategy == "stratified" and self.target.task == "regression":
            raise ValueError(
                "training.holdout.strategy stratified needs a classifier: a regression "
                "target has no classes to keep the shares of (use random or time)"
            )
        return self

    def _check_serving(self, known_columns: set[str]) -> None:
        serving = self.data.serving
        if serving is None:
            return
        clash = sorted(set(serving.named_columns) & known_columns)
        prefix = serving.proba_prefix
        if prefix:
            clash += sorted(c for c in known_columns if c.startswith(prefix))
        if clash:
            raise ValueError(
                f"data.serving columns {clash} are also features or the target/time/id "
                "column: served predictions need columns of their own"
            )
        if prefix and self.target.task == "regression":
            raise ValueError("data.serving.proba_prefix needs a classifier (a regressor has none)")

    def _check_trigger(self) -> None:
        metric = self.trigger_metric
        if not metric_spec(metric).applies_to(self.target.task):
            raise ValueError(f"trigger.metric {metric!r} does not fit a {self.target.task} task")
        estimated = (self.trigger.estimated_min_value, self.trigger.estimated_max_drop)
        if self.target.task == "regression" and any(v is not None for v in estimated):
            raise ValueError("trigger.estimated_* needs a classifier (no label-free estimate)")

    def _check_search(self) -> None:
        search = self.training.search
        if search is None:
            return
        if not metric_spec(self.search_metric).applies_to(self.target.task):
            raise ValueError(
                f"training.search.metric {self.search_metric!r} does not fit a "
                f"{self.target.task} task"
            )
        if search.folds > self.training.min_rows // 2:
            raise ValueError(
                f"training.search.folds {search.folds} needs training.min_rows of at least "
                f"{search.folds * 2} (it is {self.training.min_rows})"
            )

    @property
    def search_metric(self) -> str:
        """The metric the hyperparameter search ranks by: its own, else the gate's."""
        search = self.training.search
        return (search.metric if search is not None and search.metric else None) or self.gate.metric

    @property
    def trigger_metric(self) -> str:
        """The metric the trigger policy watches: its own, else the gate's."""
        return self.trigger.metric or self.gate.metric

    def _check_evaluation(self, known_columns: set[str]) -> None:
        """Gate rules that need evidence the evaluation is not configured to produce."""
        evaluation, gate = self.evaluation, self.gate
        unknown = sorted(set(evaluation.slices.columns) - known_columns)
        if unknown:
            raise ValueError(f"evaluation.slices.columns names unknown columns {unknown}")
        if gate.max_slice_regression is not None and not evaluation.slices.columns:
            raise ValueError("gate.max_slice_regression needs evaluation.slices.columns")
        if gate.fairness is not None:
            if evaluation.fairness is None:
                raise ValueError("gate.fairness needs evaluation.fairness.attribute")
            if self.target.task != "binary":
                raise ValueError("gate.fairness applies to binary tasks only")
        used = {gate.metric, *gate.floors}
        if gate.comparison is not None and gate.comparison.metric:
            used.add(gate.comparison.metric)
        wrong = sorted(m for m in used if not metric_spec(m).applies_to(self.target.task))
        if wrong:
            raise ValueError(f"gate metrics {wrong} do not fit a {self.target.task} task")

    def approval_mode(self, default: str = "auto") -> str:
        """The model's approval mode, or the deployment default when the model sets none."""
        return self.approval.mode if self.approval is not None else default

    def approval_config(self, default: str = "auto") -> ApprovalConfig:
        """The model's approval section, or the deployment default's when it sets none.

        Raises:
            ConfigError: the deployment default is ``mlflow``, which cannot keep the
                default ``four_eyes`` (the model must say ``four_eyes: false`` itself).
        """
        if self.approval is not None:
            return self.approval
        if default == "mlflow":
            raise ConfigError(
                f"approval_mode (RETRAINER_APPROVAL_MODE) is mlflow and model {self.name!r} "
                f"sets no approval: {MLFLOW_CANNOT_ENFORCE_FOUR_EYES}"
            )
        return ApprovalConfig(mode=default)  # type: ignore[arg-type]

    @property
    def features(self) -> list[str]:
        return [*self.numeric_features, *self.categorical_features]

    @property
    def dag_ids(self) -> dict[str, str]:
        return {kind: f"{self.name}_{kind}" for kind in ("monitor", "retrain", "rollback")}
