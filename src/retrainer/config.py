"""Typed model configuration: one YAML file per model in ``config/models/``.

Every model is frozen and rejects unknown keys, so a typo in YAML is an error that names
the file and the field path instead of a setting that is silently ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from retrainer.errors import ConfigError
from retrainer.metric_specs import GateMetric, TriggerMetric, greater_is_better, metric_spec

__all__ = [
    "ApprovalConfig",
    "ColumnExpectation",
    "ComparisonRule",
    "DataConfig",
    "DriftConfig",
    "EvaluationConfig",
    "FairnessBounds",
    "FairnessConfig",
    "GateConfig",
    "ModelConfig",
    "ModelSpec",
    "MonitoringConfig",
    "SeverityRule",
    "ShadowConfig",
    "SliceConfig",
    "TargetConfig",
    "TrainingConfig",
    "TriggerConfig",
    "ValidationConfig",
    "WindowConfig",
    "load_model_config",
    "load_model_configs",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataConfig(_Frozen):
    """Where demo/test data comes from and which columns are bookkeeping, not features."""

    source: str | None = Field(
        default=None, description="Name of a packaged data source in retrainer.datasets."
    )
    time_column: str | None = None
    id_column: str | None = None


class TargetConfig(_Frozen):
    column: str
    task: Literal["binary", "multiclass", "regression"] = "binary"
    positive_label: int | str | None = 1


class ModelSpec(_Frozen):
    """The estimator; preprocessing follows from the feature kinds."""

    estimator: Literal[
        "hist_gradient_boosting", "random_forest", "logistic_regression", "gradient_boosting"
    ] = "hist_gradient_boosting"
    params: dict[str, Any] = Field(default_factory=dict)


class WindowConfig(_Frozen):
    """Which accepted batches a retrain learns from (see ``retrainer.training.window``).

    sliding: the last ``batches``; expanding: every accepted batch; since_break: from the
    first batch flagged (decay or drift) after the champion's training window, widened
    back to ``training.min_rows``; with no flagged batch it falls back to sliding.
    """

    kind: Literal["sliding", "expanding", "since_break"] = "sliding"
    batches: Annotated[int, Field(ge=1)] = Field(
        default=1, description="sliding: how many batches; since_break: the fallback size."
    )


class TrainingConfig(_Frozen):
    window: WindowConfig = Field(default_factory=WindowConfig)
    window_batches: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Short form of window: {kind: sliding, batches: N} (kept for old files).",
    )
    holdout_fraction: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.3
    min_rows: Annotated[int, Field(ge=10)] = 200
    random_state: int = 0

    @model_validator(mode="before")
    @classmethod
    def _window_shorthand(cls, data: Any) -> Any:
        # Older files say ``window_batches: N``; it means a sliding window of N batches.
        if isinstance(data, dict) and data.get("window_batches") is not None:
            if data.get("window") is not None:
                raise ValueError("give training.window or training.window_batches, not both")
            data = {**data, "window": {"kind": "sliding", "batches": data["window_batches"]}}
        return data


CheckName = Literal[
    "readable",
    "columns",
    "row_count",
    "column_type",
    "nulls",
    "range",
    "finite_values",
    "domain",
    "unique",
]
Severity = Literal["block", "quarantine_rows", "warn"]
# Checks that can name the rows that fail them (and so can quarantine rows, not batches).
ROW_CHECKS = frozenset({"column_type", "nulls", "range", "finite_values", "domain", "unique"})
DEFAULT_SEVERITY: dict[str, Severity] = {
    "readable": "block",
    "columns": "block",
    "row_count": "block",
    "column_type": "block",
    "nulls": "block",
    "range": "quarantine_rows",
    "finite_values": "quarantine_rows",
    "domain": "quarantine_rows",
    # A repeated id keeps its first row; the repeats go to quarantine.
    "unique": "quarantine_rows",
}


class SeverityRule(_Frozen):
    """What happens when a check fails: for one column, or for every column when omitted."""

    check: CheckName
    column: str | None = None
    severity: Severity

    @model_validator(mode="after")
    def _row_level(self) -> SeverityRule:
        if self.severity == "quarantine_rows" and self.check not in ROW_CHECKS:
            raise ValueError(
                f"check {self.check!r} is about the whole batch and cannot quarantine rows; "
                f"use block or warn (row-level checks: {sorted(ROW_CHECKS)})"
            )
        return self


class ColumnExpectation(_Frozen):
    """Expectations for one column that replace (or add to) what is learned from the reference.

    Unset fields keep the learned value; ``allowed`` replaces a learned domain (or adds one
    to a numeric column), ``unique`` adds a uniqueness check to any column.
    """

    min: float | None = None
    max: float | None = None
    allowed: list[str | int | float] | None = None
    max_null_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    unique: bool | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ColumnExpectation:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.allowed is not None and not self.allowed:
            raise ValueError("allowed must list at least one value")
        return self


class ValidationConfig(_Frozen):
    rules: list[SeverityRule] = Field(default_factory=list)
    columns: dict[str, ColumnExpectation] = Field(
        default_factory=dict,
        description="Per-column expectations that override or add to the learned suite.",
    )
    max_quarantined_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.05,
        description="Block the whole batch when more of its rows than this would be quarantined.",
    )
    max_null_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    range_margin: Annotated[float, Field(ge=0.0)] = Field(
        default=2.0,
        description="Widen the reference's 0.1%-99.9% range by this many times its width.",
    )
    max_out_of_range_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    min_rows: Annotated[int, Field(ge=1)] = 30
    max_rows: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Block batches with more rows than this (none: no limit)."
    )

    @model_validator(mode="after")
    def _row_bounds(self) -> ValidationConfig:
        if self.max_rows is not None and self.max_rows < self.min_rows:
            raise ValueError(f"max_rows {self.max_rows} is below min_rows {self.min_rows}")
        return self

    def severity(self, check: str, column: str | None) -> Severity:
        """The configured severity of a failed check: column rule, then check rule, then default."""
        for rule in self.rules:
            if rule.check == check and rule.column is not None and rule.column == column:
                return rule.severity
        for rule in self.rules:
            if rule.check == check and rule.column is None:
                return rule.severity
        return DEFAULT_SEVERITY.get(check, "block")


class DriftConfig(_Frozen):
    """When a feature, and a batch, has drifted (see ``retrainer.drift.detect``).

    A feature drifts when an effect size passes its threshold *and* its bin counts differ
    significantly after Benjamini-Hochberg correction across features; the batch drifts
    when the drifted features carry ``drift_share`` of the champion's importance.
    """

    statistic: Literal["wasserstein", "psi", "jensen_shannon", "ks", "chi_square"] = Field(
        default="wasserstein",
        description="Effect size for numeric features (normalised Wasserstein by default).",
    )
    categorical_statistic: Literal["jensen_shannon", "psi", "chi_square"] = "jensen_shannon"
    bins: Annotated[int, Field(ge=2, le=100)] = 10
    threshold: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None,
        description="Numeric effect threshold; null: the statistic's default (0.1 for all).",
    )
    categorical_threshold: Annotated[float, Field(gt=0.0)] | None = None
    missing_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.05, description="Absolute change of a feature's missing share that drifts."
    )
    unseen_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.05, description="Share of a batch's values in unseen categories that drifts."
    )
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        default=0.05, description="False discovery rate of the Benjamini-Hochberg correction."
    )
    importance_scaled: bool = Field(
        default=True,
        description="Lower a feature's threshold in proportion to its share of importance "
        "above an equal share (never below a tenth of the threshold).",
    )
    drift_share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.3,
        description="Importance-weighted share of drifted features above which the batch drifts.",
    )
    feature_thresholds: dict[str, Annotated[float, Field(gt=0.0)]] = Field(default_factory=dict)


class SliceConfig(_Frozen):
    """Columns whose values (or quantile bins, for numbers) are scored separately."""

    columns: list[str] = Field(default_factory=list)
    min_size: Annotated[int, Field(ge=1)] = Field(
        default=100, description="Slices with fewer holdout rows are reported, not judged."
    )
    bins: Annotated[int, Field(ge=2, le=20)] = 4


class FairnessConfig(_Frozen):
    """The protected attribute whose groups are compared (binary tasks)."""

    attribute: str
    privileged: int | str | None = Field(
        default=None, description="Reference group; default: the group selected most often."
    )
    min_group_size: Annotated[int, Field(ge=1)] = 30


class EvaluationConfig(_Frozen):
    """What is measured when challenger and champion meet on the holdout."""

    bootstrap_resamples: Annotated[int, Field(ge=100, le=20000)] = 1000
    confidence: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    seed: int = 0
    slices: SliceConfig = Field(default_factory=SliceConfig)
    fairness: FairnessConfig | None = None


class ComparisonRule(_Frozen):
    """Judge the challenger by the bootstrap interval of its gain over the champion.

    superiority: the interval's lower bound must be above ``margin``;
    non_inferiority: the lower bound must be above ``-margin`` (no worse than the margin).
    """

    kind: Literal["superiority", "non_inferiority"]
    metric: GateMetric | None = Field(default=None, description="Default: gate.metric.")
    margin: Annotated[float, Field(ge=0.0)] = 0.0


class FairnessBounds(_Frozen):
    min_disparate_impact: Annotated[float, Field(ge=0.0, le=1.0)] | None = Field(
        default=0.8, description="Four-fifths rule by default."
    )
    max_equal_opportunity_difference: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class GateConfig(_Frozen):
    """Typed gate rules; every configured rule must pass (the gate fails closed)."""

    metric: GateMetric = "roc_auc"
    min_value: float | None = Field(
        default=None, description="Absolute floor the challenger must reach."
    )
    min_improvement: float | None = Field(
        default=None, description="Margin by which the challenger must beat the champion."
    )
    floors: dict[GateMetric, float] = Field(
        default_factory=dict, description="More absolute floors, e.g. {accuracy: 0.7}."
    )
    comparison: ComparisonRule | None = None
    max_slice_regression: Annotated[float, Field(ge=0.0)] | None = Field(
        default=None, description="No judged slice may lose more than this against the champion."
    )
    fairness: FairnessBounds | None = None
    max_latency_ms_per_1k_rows: Annotated[float, Field(gt=0.0)] | None = None
    max_model_size_mb: Annotated[float, Field(gt=0.0)] | None = None

    @property
    def greater_is_better(self) -> bool:
        return greater_is_better(self.metric)


class TriggerConfig(_Frozen):
    """When the monitor asks for a retrain (see ``retrainer.monitoring.trigger``).

    A batch *breaches* when its realized ``metric`` (enough labels) or, without labels,
    its estimated one is below ``min_value`` or more than ``max_drop`` under the
    champion's baseline at training; ``on_drift`` lets a drift verdict breach too. A
    retrain fires when ``breaches`` of the last ``of_last`` batches scored by the same
    champion breached, unless a cooldown, the retrain budget or a too-small batch
    suppresses it. With no threshold at all, only drift (if allowed) can trigger.
    """

    metric: TriggerMetric | None = Field(default=None, description="Default: gate.metric.")
    min_value: float | None = Field(
        default=None, description="Realized floor (a ceiling for log_loss/rmse/mae)."
    )
    max_drop: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None, description="Largest tolerated loss against the champion's baseline."
    )
    estimated_min_value: float | None = Field(
        default=None, description="Floor for the label-free estimate (classifiers)."
    )
    estimated_max_drop: Annotated[float, Field(gt=0.0)] | None = None
    on_drift: bool = Field(
        default=False, description="May an input-drift verdict alone trigger a retrain?"
    )
    breaches: Annotated[int, Field(ge=1)] = Field(default=1, description="M of M-of-N.")
    of_last: Annotated[int, Field(ge=1)] = Field(default=1, description="N of M-of-N.")
    min_rows: Annotated[int, Field(ge=1)] = Field(
        default=30, description="A smaller batch is never reason enough to retrain."
    )
    min_labels: Annotated[int, Field(ge=1)] = Field(
        default=30, description="Fewer labelled rows: realized metrics are not judged."
    )
    cooldown_days: Annotated[float, Field(ge=0.0)] = Field(
        default=0.0, description="No automatic retrain this long after the last retrain."
    )
    max_retrains: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="At most this many automatic retrains per period_days."
    )
    period_days: Annotated[float, Field(gt=0.0)] = 90.0
    clock: Literal["data", "wall"] = Field(
        default="data",
        description="data: time is the batches' own (replays and backfills behave like "
        "live); wall: the time the decision is made.",
    )

    @model_validator(mode="after")
    def _check(self) -> TriggerConfig:
        if self.breaches > self.of_last:
            raise ValueError(
                f"breaches {self.breaches} cannot exceed of_last {self.of_last} (M of N)"
            )
        return self

    @property
    def has_threshold(self) -> bool:
        return any(
            v is not None
            for v in (
                self.min_value,
                self.max_drop,
                self.estimated_min_value,
                self.estimated_max_drop,
            )
        )


class ShadowConfig(_Frozen):
    """Hold a gated challenger in shadow for the next ``batches`` labelled batches."""

    batches: Annotated[int, Field(ge=1, le=50)] = 3


ApprovalMode = Literal["auto", "mlflow", "airflow"]


class ApprovalConfig(_Frozen):
    """Who lets a gated challenger become champion.

    auto: the gate alone; mlflow: a person sets the version tag ``approval`` to
    ``approved``/``rejected`` in the MLflow UI; airflow: an Airflow HITL approval task.
    """

    mode: ApprovalMode = "auto"
    timeout_minutes: Annotated[float, Field(gt=0.0)] = Field(
        default=24 * 60, description="A request nobody answers expires after this."
    )
    poke_seconds: Annotated[float, Field(ge=1.0)] = 60.0
    four_eyes: bool = Field(
        default=True, description="The person who triggered the run cannot approve it."
    )


class MonitoringConfig(_Frozen):
    """Performance monitoring: how the label-free estimate is made and when it has broken.

    See ``retrainer.monitoring.estimate`` (confidence-based performance estimation).
    """

    estimate_band: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.1,
        description="Alert when |estimated - realized| exceeds this on any metric.",
    )
    estimator_calibration: Literal["auto", "isotonic", "platt"] = Field(
        default="auto",
        description="Calibrator of the probabilities fitted on the holdout at training; "
        "auto: isotonic from min_isotonic_rows holdout rows on, Platt below.",
    )
    min_isotonic_rows: Annotated[int, Field(ge=10)] = Field(
        default=500, description="Holdout size from which auto calibration is isotonic."
    )


class ModelConfig(_Frozen):
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

    @model_validator(mode="before")
    @classmethod
    def _approval_shorthand(cls, data: Any) -> Any:
        # ``approval: mlflow`` is the short form of ``approval: {mode: mlflow}``.
        if isinstance(data, dict) and isinstance(data.get("approval"), str):
            data = {**data, "approval": {"mode": data["approval"]}}
        return data

    @model_validator(mode="after")
    def _check(self) -> ModelConfig:
        if not _NAME.match(self.name):
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
        self._check_trigger()
        return self

    def _check_trigger(self) -> None:
        metric = self.trigger_metric
        if not metric_spec(metric).applies_to(self.target.task):
            raise ValueError(f"trigger.metric {metric!r} does not fit a {self.target.task} task")
        estimated = (self.trigger.estimated_min_value, self.trigger.estimated_max_drop)
        if self.target.task == "regression" and any(v is not None for v in estimated):
            raise ValueError("trigger.estimated_* needs a classifier (no label-free estimate)")

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

    @property
    def features(self) -> list[str]:
        return [*self.numeric_features, *self.categorical_features]

    @property
    def dag_ids(self) -> dict[str, str]:
        return {kind: f"{self.name}_{kind}" for kind in ("monitor", "retrain", "rollback")}


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {path}: {item['msg']}")
    return "\n".join(lines)


def load_model_config(path: str | Path) -> ModelConfig:
    """Load and validate one model file.

    Raises:
        ConfigError: the file is missing, is not YAML, or breaks the schema; the message
            names the file and each offending field path.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: model config file not found") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        config = ModelConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid model config\n{_format_errors(exc)}") from exc
    if config.name != path.stem:
        raise ConfigError(f"{path}: name {config.name!r} must match the file name {path.stem!r}")
    return config


def load_model_configs(models_dir: str | Path) -> list[ModelConfig]:
    """Load every ``*.yaml`` file of a directory, sorted by name."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise ConfigError(f"{models_dir}: model config directory not found")
    return [load_model_config(p) for p in sorted(models_dir.glob("*.yaml"))]
