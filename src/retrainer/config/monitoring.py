"""How the champion is watched: input drift, performance decay, and when to retrain."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from retrainer.config.base import Frozen
from retrainer.config.defaults import TRIGGER_THRESHOLDS
from retrainer.metric_specs import TriggerMetric

__all__ = ["DriftConfig", "MonitoringConfig", "TriggerConfig"]


class DriftConfig(Frozen):
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
        "above an equal share (never below importance_floor of the threshold).",
    )
    importance_floor: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.5,
        description="Importance scaling never lowers a threshold below this share of it, "
        "so some effect is too small to matter however large the batch: at 0.5 the "
        "smallest normalised Wasserstein that drifts a feature is 0.05 (a twentieth of a "
        "standard deviation).",
    )
    drift_share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.3,
        description="Importance-weighted share of drifted features above which the batch drifts.",
    )
    feature_thresholds: dict[str, Annotated[float, Field(gt=0.0)]] = Field(default_factory=dict)


class TriggerConfig(Frozen):
    """When the monitor asks for a retrain (see ``retrainer.monitoring.trigger``).

    A batch *breaches* when its realized ``metric`` (enough labels) or, without labels,
    its estimated one is below ``min_value`` or more than ``max_drop`` under the
    champion's baseline at training; ``on_drift`` lets a drift verdict breach too. A
    retrain fires when ``breaches`` of the last ``of_last`` batches scored by the same
    champion breached, unless a cooldown, the retrain budget or a too-small batch
    suppresses it.

    A model YAML whose trigger sets no threshold gets a default rule that acts
    (``retrainer.config.defaults``): a quarter of the champion's skill over chance lost,
    in 2 of the last 3 batches.
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
    max_skill_loss: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(
        default=None,
        description="Largest tolerated share of the champion's skill over chance lost "
        "(scale-free: at 0.25 a champion with AUC 0.62 breaches below 0.59, one with 0.90 "
        "below 0.80). The default rule when no threshold is set.",
    )
    estimated_max_skill_loss: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(
        default=None, description="max_skill_loss for the label-free estimate (classifiers)."
    )
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
        return any(getattr(self, key) is not None for key in TRIGGER_THRESHOLDS)


class MonitoringConfig(Frozen):
    """Performance monitoring: how the label-free estimate is made and when it has broken.

    See ``retrainer.monitoring.estimate`` (confidence-based performance estimation).
    """

    estimate_band: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.1,
        description="The smallest band of |estimated - realized| on the trigger metric; the "
        "band is the larger of this and half the realized metric's 95% bootstrap interval "
        "on the batch (wide on a small batch or a rare class).",
    )
    estimator_calibration: Literal["auto", "isotonic", "platt"] = Field(
        default="auto",
        description="Calibrator of the probabilities fitted on the holdout at training; "
        "auto: isotonic from min_isotonic_rows holdout rows on, Platt below.",
    )
    min_isotonic_rows: Annotated[int, Field(ge=10)] = Field(
        default=500, description="Holdout size from which auto calibration is isotonic."
    )
