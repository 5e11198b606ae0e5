"""How champion and challenger are compared, and the gate the challenger must pass."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from retrainer.config.base import Frozen
from retrainer.metric_specs import GateMetric, greater_is_better

__all__ = [
    "ComparisonRule",
    "EvaluationConfig",
    "FairnessBounds",
    "FairnessConfig",
    "GateConfig",
    "LiveGateConfig",
    "SliceConfig",
]


class SliceConfig(Frozen):
    """Columns whose values (or quantile bins, for numbers) are scored separately."""

    columns: list[str] = Field(default_factory=list)
    min_size: Annotated[int, Field(ge=1)] = Field(
        default=100, description="Slices with fewer holdout rows are reported, not judged."
    )
    bins: Annotated[int, Field(ge=2, le=20)] = 4


class FairnessConfig(Frozen):
    """The protected attribute whose groups are compared (binary tasks)."""

    attribute: str
    privileged: int | str | None = Field(
        default=None, description="Reference group; default: the group selected most often."
    )
    min_group_size: Annotated[int, Field(ge=1)] = 30


class EvaluationConfig(Frozen):
    """What is measured when challenger and champion meet on the holdout."""

    bootstrap_resamples: Annotated[int, Field(ge=100, le=20000)] = 1000
    confidence: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    seed: int = 0
    slices: SliceConfig = Field(default_factory=SliceConfig)
    fairness: FairnessConfig | None = None


class ComparisonRule(Frozen):
    """Judge the challenger by the bootstrap interval of its gain over the champion.

    superiority: the interval's lower bound must be above ``margin``;
    non_inferiority: the lower bound must be above ``-margin`` (no worse than the margin).
    """

    kind: Literal["superiority", "non_inferiority"]
    metric: GateMetric | None = Field(default=None, description="Default: gate.metric.")
    margin: Annotated[float, Field(ge=0.0)] = 0.0


class FairnessBounds(Frozen):
    min_disparate_impact: Annotated[float, Field(ge=0.0, le=1.0)] | None = Field(
        default=0.8, description="Four-fifths rule by default."
    )
    max_equal_opportunity_difference: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class LiveGateConfig(Frozen):
    """Judge a canary (a version with a traffic share) on the labelled rows it served.

    The interval is the unpaired bootstrap of canary minus champion at
    ``evaluation.confidence``; nothing is decided before both have ``min_rows`` labelled
    rows. Promote when the interval lies above ``margin``, stop when it lies below
    ``-margin``, keep collecting otherwise.
    """

    min_rows: Annotated[int, Field(ge=30)] = Field(
        default=200, description="Labelled served rows each version needs before a decision."
    )
    metric: GateMetric | None = Field(default=None, description="Default: gate.metric.")
    margin: Annotated[float, Field(ge=0.0)] | None = Field(
        default=None, description="Default: gate.comparison.margin, else 0."
    )


class GateConfig(Frozen):
    """Typed gate rules; every configured rule must pass (the gate fails closed)."""

    metric: GateMetric = "roc_auc"
    min_value: float | None = Field(
        default=None, description="Absolute floor the challenger must reach."
    )
    min_improvement: float | None = Field(
        default=None, description="Margin by which the challenger must beat the champion."
    )
    min_skill: Annotated[float, Field(le=1.0)] | None = Field(
        default=None,
        description="Skill over chance the challenger must reach: the share of the way from "
        "a label-prior predictor to a perfect one (0.1: AUC 0.55, R² 0.1).",
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
    live: LiveGateConfig = Field(
        default_factory=LiveGateConfig,
        description="How a canary's live evidence promotes or stops it.",
    )

    @property
    def greater_is_better(self) -> bool:
        return greater_is_better(self.metric)

    @property
    def live_metric(self) -> str:
        """The metric a canary is judged by on live rows."""
        return self.live.metric or self.metric

    @property
    def live_margin(self) -> float:
        """The superiority margin a canary must clear (and the loss that stops it)."""
        if self.live.margin is not None:
            return self.live.margin
        return self.comparison.margin if self.comparison is not None else 0.0
