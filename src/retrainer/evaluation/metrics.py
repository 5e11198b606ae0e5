"""Score a fitted model on labelled rows and compute the metrics of its task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = ["GREATER_IS_BETTER", "compute_metrics", "model_output", "predict_scores"]

GREATER_IS_BETTER = {
    "roc_auc": True,
    "accuracy": True,
    "f1": True,
    "log_loss": False,
    "rmse": False,
    "mae": False,
    "r2": True,
}


def predict_scores(model: Any, frame: pd.DataFrame, config: ModelConfig) -> dict[str, Any]:
    """Return predictions (and class probabilities for classifiers) for ``frame``."""
    features = frame[config.features]
    out: dict[str, Any] = {"prediction": model.predict(features)}
    if config.target.task != "regression" and hasattr(model, "predict_proba"):
        out["proba"] = model.predict_proba(features)
        out["classes"] = list(model.classes_)
    return out


def model_output(scores: dict[str, Any], config: ModelConfig) -> Any:
    """The one output whose distribution prediction drift watches.

    The positive-class score for a binary classifier (it moves before the labels do),
    the predicted class otherwise, the prediction for a regressor.
    """
    proba, classes = scores.get("proba"), scores.get("classes", [])
    if config.target.task == "binary" and proba is not None:
        positive = config.target.positive_label
        if positive in classes:
            return proba[:, classes.index(positive)]
    return scores["prediction"]


def compute_metrics(model: Any, frame: pd.DataFrame, config: ModelConfig) -> dict[str, float]:
    """Compute the task's metrics of ``model`` on the labelled rows of ``frame``.

    Metrics that are undefined on these rows (AUC with one class present) are left out
    rather than reported as a number, so a gate rule on them fails closed.
    """
    import numpy as np
    from sklearn import metrics as skm

    labelled = frame.dropna(subset=[config.target.column])
    if labelled.empty:
        return {}
    y = labelled[config.target.column].to_numpy()
    scores = predict_scores(model, labelled, config)
    pred = scores["prediction"]
    result: dict[str, float] = {"rows": float(len(labelled))}
    if config.target.task == "regression":
        result["rmse"] = float(np.sqrt(skm.mean_squared_error(y, pred)))
        result["mae"] = float(skm.mean_absolute_error(y, pred))
        result["r2"] = float(skm.r2_score(y, pred))
        return result
    result["accuracy"] = float(skm.accuracy_score(y, pred))
    proba = scores.get("proba")
    classes = scores.get("classes", [])
    present = np.unique(y)
    if config.target.task == "binary":
        positive = config.target.positive_label
        result["f1"] = float(skm.f1_score(y, pred, pos_label=positive, zero_division=0))
        if proba is not None and positive in classes and len(present) == 2:
            p = proba[:, classes.index(positive)]
            result["roc_auc"] = float(skm.roc_auc_score(y == positive, p))
            result["log_loss"] = float(skm.log_loss(y == positive, p, labels=[False, True]))
    else:
        result["f1"] = float(skm.f1_score(y, pred, average="macro", zero_division=0))
        if proba is not None and len(present) > 1 and set(present) <= set(classes):
            result["log_loss"] = float(skm.log_loss(y, proba, labels=classes))
            if len(present) == len(classes):
                result["roc_auc"] = float(
                    skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
                )
    return result
