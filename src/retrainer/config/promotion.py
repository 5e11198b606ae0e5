"""What happens to a gated challenger before it becomes champion: shadow, then approval."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from retrainer.config.base import Frozen

__all__ = ["ApprovalConfig", "ApprovalMode", "ShadowConfig"]


class ShadowConfig(Frozen):
    """Hold a gated challenger in shadow for the next ``batches`` labelled batches."""

    batches: Annotated[int, Field(ge=1, le=50)] = 3


ApprovalMode = Literal["auto", "mlflow", "airflow"]


class ApprovalConfig(Frozen):
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
