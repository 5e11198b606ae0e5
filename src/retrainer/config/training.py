"""How a challenger is trained: the estimator, the training window, the holdout."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from retrainer.config.base import Frozen
from retrainer.config.search import SearchConfig

__all__ = [
    "DEFAULT_ESTIMATOR",
    "FACTORY_PATH",
    "HoldoutConfig",
    "ModelSpec",
    "SampleConfig",
    "TrainingConfig",
    "WindowConfig",
]

# A fully qualified type name as skops reports it: dotted identifiers, nothing else.
_TYPE_NAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"
# "package.module:callable", as in entry points: a dotted module, a colon, a dotted attribute.
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
FACTORY_PATH = re.compile(rf"{_DOTTED}:{_DOTTED}")

BuiltIn = Literal[
    "hist_gradient_boosting", "random_forest", "logistic_regression", "gradient_boosting"
]
DEFAULT_ESTIMATOR = "hist_gradient_boosting"


class ModelSpec(Frozen):
    """The estimator: a built-in one (preprocessing follows from the feature kinds), or
    the team's own from ``factory`` (which then owns its preprocessing)."""

    estimator: BuiltIn | None = Field(
        default=None, description="A built-in estimator; hist_gradient_boosting if unset."
    )
    factory: str | None = Field(
        default=None,
        description="'package.module:callable' returning an unfitted estimator or Pipeline.",
    )
    code_path: str | None = Field(
        default=None,
        description="Folder holding the factory's package; relative to the model's YAML file.",
    )
    params: dict[str, Any] = Field(default_factory=dict)
    trusted_types: list[Annotated[str, Field(pattern=_TYPE_NAME)]] = Field(
        default_factory=list,
        description="Extra types (module.Class) the team vouches for when a version is loaded.",
    )

    @model_validator(mode="before")
    @classmethod
    def _one_estimator(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("factory") is not None and data.get("estimator") is not None:
            raise ValueError(
                "give model.estimator (a built-in) or model.factory (your own), not both"
            )
        if data.get("factory") is None and data.get("estimator") is None:
            data = {**data, "estimator": DEFAULT_ESTIMATOR}
        return data

    @field_validator("factory")
    @classmethod
    def _factory_path(cls, value: str | None) -> str | None:
        if value is not None and not FACTORY_PATH.fullmatch(value):
            raise ValueError(
                f"model.factory {value!r} must be 'package.module:callable' "
                "(e.g. 'churn_model.model:make_model')"
            )
        return value

    @model_validator(mode="after")
    def _code_path_needs_factory(self) -> ModelSpec:
        if self.code_path is not None and self.factory is None:
            raise ValueError("model.code_path only applies to model.factory")
        return self


class WindowConfig(Frozen):
    """Which accepted batches a retrain learns from (see ``retrainer.training.window``).

    sliding: the last ``batches``; with ``batches`` unset (the default), the newest batches,
    as many as it takes to hold ``training.min_rows`` training rows after the holdout (at
    least one): small batches (a month of daily rows) then still train, and big ones keep
    the window to the newest batch. expanding: every accepted batch; since_break: from the
    first batch flagged (decay or drift) after the champion's training window, widened
    back to ``training.min_rows``; with no flagged batch it falls back to sliding.
    """

    kind: Literal["sliding", "expanding", "since_break"] = "sliding"
    batches: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "sliding: exactly this many batches; since_break: the fallback size. Unset: the "
            "newest batches, as many as reach training.min_rows."
        ),
    )


class HoldoutConfig(Frozen):
    """How the newest batch of the window is cut into training rows and the shared holdout.

    time: the newest ``holdout_fraction`` by the time column; random: a seeded shuffle;
    stratified: a seeded shuffle keeping the target's class shares (classifiers); group:
    all rows of one ``group_column`` value on the same side. auto: time when the time
    column really orders the rows, else stratified (classifiers) or random (regression).
    """

    strategy: Literal["auto", "time", "random", "stratified", "group"] = "auto"
    group_column: str | None = None
    seed: int | None = Field(
        default=None, description="Seed of the random cuts; training.random_state when unset."
    )

    @model_validator(mode="after")
    def _group_needs_column(self) -> HoldoutConfig:
        if self.strategy == "group" and not self.group_column:
            raise ValueError("training.holdout.strategy group needs training.holdout.group_column")
        if self.group_column and self.strategy != "group":
            raise ValueError("training.holdout.group_column is only used by strategy group")
        return self


class SampleConfig(Frozen):
    """Train on a seeded sample when the window's training rows exceed ``max_rows``.

    Only the training rows are sampled, after the holdout is cut: the shared holdout stays
    whole, so challenger and champion are judged on the same rows as without sampling
    (see ``retrainer.training.sample``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    max_rows: Annotated[int, Field(ge=10)] = Field(
        description="Most training rows fitted on; a bigger window is sampled down to it."
    )
    stratify: bool = Field(
        default=False,
        description="Keep the target's class shares (within one row per class); classifiers.",
    )
    seed: int | None = Field(
        default=None, description="Seed of the sample; training.random_state when unset."
    )


class TrainingConfig(Frozen):
    window: WindowConfig = Field(default_factory=WindowConfig)
    holdout: HoldoutConfig = Field(default_factory=HoldoutConfig)
    sample: SampleConfig | None = Field(
        default=None, description="Sample big training windows down to max_rows (seeded)."
    )
    window_batches: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="Short form of window: {kind: sliding, batches: N} (kept for old files).",
    )
    holdout_fraction: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.3
    min_rows: Annotated[int, Field(ge=10)] = 200
    random_state: int = 0
    search: SearchConfig | None = Field(
        default=None, description="Tune hyperparameters by cross-validation on each retrain."
    )

    @model_validator(mode="before")
    @classmethod
    def _window_shorthand(cls, data: Any) -> Any:
        # Older files say ``window_batches: N``; it means a sliding window of N batches.
        if isinstance(data, dict) and data.get("window_batches") is not None:
            if data.get("window") is not None:
                raise ValueError("give training.window or training.window_batches, not both")
            data = {**data, "window": {"kind": "sliding", "batches": data["window_batches"]}}
        return data

    @model_validator(mode="after")
    def _sample_keeps_min_rows(self) -> TrainingConfig:
        if self.sample is not None and self.sample.max_rows < self.min_rows:
            raise ValueError(
                f"training.sample.max_rows {self.sample.max_rows} is below training.min_rows "
                f"{self.min_rows}: a sampled window could never be trained on"
            )
        return self
