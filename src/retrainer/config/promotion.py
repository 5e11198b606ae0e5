"""What happens to a gated challenger before it becomes champion: shadow, then approval."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

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

    Four eyes needs an approver identity nobody can forge: Airflow records the logged-in
    user who answered, MLflow records no author for a tag. So ``mlflow`` mode is refused
    unless ``four_eyes: false`` says that anyone with EDIT on the model may approve.
    """

    mode: ApprovalMode = "auto"
    timeout_minutes: Annotated[float, Field(gt=0.0)] = Field(
        default=24 * 60, description="A request nobody answers expires after this."
    )
    poke_seconds: Annotated[float, Field(ge=1.0)] = 60.0
    four_eyes: bool = Field(
        default=True,
        validate_default=True,  # the default is what an mlflow-mode file must not keep
        description="The person who triggered the run cannot approve it (airflow mode only).",
    )

    @field_validator("four_eyes")
    @classmethod
    def _four_eyes_needs_a_login(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("mode") == "mlflow":
            raise ValueError(MLFLOW_CANNOT_ENFORCE_FOUR_EYES)
        return value


MLFLOW_CANNOT_ENFORCE_FOUR_EYES = (
    "approval: mlflow cannot enforce four eyes - MLflow records no author for a tag, so "
    "anyone with EDIT could approve their own version; use approval: {mode: airflow}, or "
    "write approval: {mode: mlflow, four_eyes: false} to accept tag approvals from anyone "
    "with EDIT"
)
