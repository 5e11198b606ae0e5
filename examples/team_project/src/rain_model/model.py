"""The factory retrainer calls: ``model.factory: rain_model.model:make_model``."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from rain_model.features import DewPointSpread


def make_model(config: Any) -> Pipeline:
    """An unfitted Pipeline over the raw feature columns: it owns its preprocessing.

    ``config`` is retrainer's ModelConfig: ``model.params`` and ``training.random_state``
    come from the YAML, so tuning stays in one file.
    """
    return Pipeline(
        [
            ("spread", DewPointSpread()),
            ("impute", SimpleImputer(strategy="median").set_output(transform="pandas")),
            (
                "model",
                HistGradientBoostingClassifier(
                    **config.model.params, random_state=config.training.random_state
                ),
            ),
        ]
    )
