"""Build the scikit-learn pipeline (preprocessing + estimator) a model config describes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrainer.config.training import DEFAULT_ESTIMATOR
from retrainer.errors import ConfigError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from retrainer.config import ModelConfig

__all__ = ["build_pipeline"]


def _estimator(config: ModelConfig) -> Any:
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge

    regression = config.target.task == "regression"
    choices: dict[str, type] = {
        "hist_gradient_boosting": (
            HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        ),
        "random_forest": RandomForestRegressor if regression else RandomForestClassifier,
        "gradient_boosting": GradientBoostingRegressor
        if regression
        else GradientBoostingClassifier,
        "logistic_regression": Ridge if regression else LogisticRegression,
    }
    cls = choices[config.model.estimator or DEFAULT_ESTIMATOR]
    params = dict(config.model.params)
    if "random_state" in cls().get_params():
        params.setdefault("random_state", config.training.random_state)
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(
            f"model.params of {config.name!r} do not fit {cls.__name__}: {exc}"
        ) from exc


def build_pipeline(config: ModelConfig) -> Pipeline:
    """Return an unfitted pipeline: impute/scale/encode by feature kind, then the estimator.

    Linear models get scaled numeric inputs; tree models do not need it. Unknown
    categories at scoring time are ignored rather than failing (validation reports them).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if config.model.estimator == "logistic_regression":
        numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if config.numeric_features:
        transformers.append(("numeric", Pipeline(numeric_steps), list(config.numeric_features)))
    if config.categorical_features:
        categorical = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        )
        transformers.append(("categorical", categorical, list(config.categorical_features)))
    preprocess = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", preprocess), ("model", _estimator(config))])
