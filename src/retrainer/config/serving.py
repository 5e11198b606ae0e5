"""What an online model served: the columns of a batch that carry its logged predictions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from retrainer.config.base import Frozen

__all__ = ["ServingConfig"]


class ServingConfig(Frozen):
    """The served-prediction columns a batch carries when the model serves online.

    When declared, the monitor judges what was served instead of re-scoring the batch
    with the champion, and late labels join by the request id.
    """

    prediction_column: str = Field(description="The prediction the service returned.")
    proba_prefix: str | None = Field(
        default=None,
        description="Prefix of one probability column per class (classifiers), e.g. "
        '"proba_" for proba_rain, proba_sun; null: the service logs no probabilities.',
    )
    version_column: str = Field(
        description="The registered model version that served the row (e.g. 3)."
    )
    request_id_column: str = Field(
        description="Unique id of the request; late labels carry it to join."
    )
    proba_tolerance: Annotated[float, Field(gt=0.0, lt=0.5)] = Field(
        default=1e-3, description="How far a row's probabilities may sum from 1."
    )

    @model_validator(mode="after")
    def _distinct(self) -> ServingConfig:
        named = [self.prediction_column, self.version_column, self.request_id_column]
        if len(set(named)) < len(named):
            raise ValueError(
                f"prediction_column, version_column and request_id_column must differ: {named}"
            )
        if self.proba_prefix is not None:
            if not self.proba_prefix:
                raise ValueError("proba_prefix must not be empty (null: no probabilities)")
            clash = [c for c in named if c.startswith(self.proba_prefix)]
            if clash:
                raise ValueError(
                    f"columns {clash} start with proba_prefix {self.proba_prefix!r}: they "
                    "would be read as probabilities"
                )
        return self

    @property
    def named_columns(self) -> list[str]:
        """The served columns named one by one (the probability columns go by prefix)."""
        return [self.request_id_column, self.version_column, self.prediction_column]

    def served_columns(self, columns: list[str]) -> list[str]:
        """Which of ``columns`` are served ones: the named columns and the probabilities."""
        prefix = self.proba_prefix
        return [c for c in columns if c in self.named_columns or (prefix and c.startswith(prefix))]

    def proba_column(self, cls: object) -> str:
        """The probability column of a class, ``<proba_prefix><class>``."""
        return f"{self.proba_prefix}{cls}"
