"""The ``training.search`` section: a hyperparameter search on every retrain (optional).

A parameter is named as scikit-learn names it (``<step>__<param>``, e.g.
``model__learning_rate``) and takes a list (a choice) or a range ``{low, high}`` (with
``log: true`` for a log-uniform draw; integer bounds draw integers). Whether each name is
a settable parameter of the model is checked when the estimator is built
(:func:`retrainer.training.search.check_search_space`): building it imports scikit-learn
and the team's factory, which DAG parsing must not do.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    Discriminator,
    Field,
    StrictFloat,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)

from retrainer.config.base import Frozen
from retrainer.metric_specs import TriggerMetric

__all__ = ["ParamRange", "SearchConfig"]

# scikit-learn's nested parameter names: identifiers joined by double underscores.
_PARAM_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ParamRange(Frozen):
    """A numeric range: uniform (or log-uniform) between ``low`` and ``high``.

    Both bounds integers: an integer is drawn (both ends included). Any float: a float.
    """

    low: StrictInt | StrictFloat
    high: StrictInt | StrictFloat
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> ParamRange:
        if not self.low < self.high:
            raise ValueError(f"low {self.low} must be below high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"log: true needs low > 0 (got {self.low})")
        return self

    @property
    def integer(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)


def _kind(value: Any) -> str:
    # A list is a choice, anything else must be a range: errors then read "range.hgh",
    # not a trail of union members.
    return "choice" if isinstance(value, list) else "range"


Values = Annotated[
    Annotated[list[Any], Tag("choice")] | Annotated[ParamRange, Tag("range")],
    Discriminator(_kind),
]


class SearchConfig(Frozen):
    """A randomized search with cross-validation inside the training rows.

    ``trials`` candidates are drawn (seeded); the search stops between trials once
    ``max_seconds`` have passed. The best candidate by ``metric`` (the gate's when unset)
    is refitted on all training rows and becomes the challenger.
    """

    space: dict[str, Values] = Field(
        description="Parameter name (<step>__<param>) -> a list of choices or {low, high, log}."
    )
    trials: Annotated[int, Field(ge=1, le=1000)] = 10
    max_seconds: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Stop between trials after this long (none: all trials)."
    )
    folds: Annotated[int, Field(ge=2, le=20)] = 3
    seed: int | None = Field(default=None, description="training.random_state when unset.")
    metric: TriggerMetric | None = Field(default=None, description="The gate's metric when unset.")

    @field_validator("space")
    @classmethod
    def _space(cls, space: dict[str, Any]) -> dict[str, Any]:
        if not space:
            raise ValueError("give at least one parameter to search")
        for name, values in space.items():
            parts = name.split("__")
            if not all(_PARAM_PART.fullmatch(part) for part in parts):
                raise ValueError(
                    f"{name!r} is not a scikit-learn parameter name (<step>__<param>, "
                    "e.g. model__learning_rate)"
                )
            if isinstance(values, list) and not values:
                raise ValueError(f"{name}: the list of choices is empty")
        return space
