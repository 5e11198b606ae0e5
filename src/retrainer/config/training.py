"""How a challenger is trained: the estimator, the training window, the holdout."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from retrainer.config.base import Frozen

__all__ = ["HoldoutConfig", "ModelSpec", "TrainingConfig", "WindowConfig"]

# A fully qualified type name as skops reports it: dotted identifiers, nothing else.
_TYPE_NAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"


class ModelSpec(Frozen):
    """The estimator; preprocessing follows from the feature kinds."""

    estimator: Literal[
        "hist_gradient_boosting", "random_forest", "logistic_regression", "gradient_boosting"
    ] = "hist_gradient_boosting"
    params: dict[str, Any] = Field(default_factory=dict)
    trusted_types: list[Annotated[str, Field(pattern=_TYPE_NAME)]] = Field(
        default_factory=list,
        description="Extra types (module.Class) the team vouches for when a version is loaded.",
    )


class WindowConfig(Frozen):
    """Which accepted batches a retrain learns from (see ``retrainer.training.window``).

    sliding: the last ``batches``; expanding: every accepted batch; since_break: from the
    first batch flagged (decay or drift) after the champion's training window, widened
    back to ``training.min_rows``; with no flagged batch it falls back to sliding.
    """

    kind: Literal["sliding", "expanding", "since_break"] = "sliding"
    batches: Annotated[int, Field(ge=1)] = Field(
        default=1, description="sliding: how many batches; since_break: the fallback size."
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


class TrainingConfig(Frozen):
    window: WindowConfig = Field(default_factory=WindowConfig)
    holdout: HoldoutConfig = Field(default_factory=HoldoutConfig)
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
