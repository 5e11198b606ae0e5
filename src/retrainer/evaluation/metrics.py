"""Score a fitted model on labelled rows and compute the metrics of its task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = [
    "chance_metrics",
    "compute_metrics",
    "metrics_from_scores",
    "model_output",
    "predict_scores",
]


def predict_scores(model: Any, frame: pd.DataFrame, config: ModelConfig) -> dict[str, Any]:
    """Return predictions (and class probabilities for classifiers) for ``frame``."""
    from retrainer.model_inputs import model_inputs

    features = model_inputs(frame, config)
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
    labelled = frame.dropna(subset=[config.target.column])
    if labelled.empty:
        return {}
    scores = predict_scores(model, labelled, config)
    return metrics_from_scores(labelled[config.target.column].to_numpy(), scores, config)


def metrics_from_scores(y: Any, scores: dict[str, Any], config: ModelConfig) -> dict[str, float]:
    """Compute the task's metrics from labels and already computed scores.

    ``scores`` is what :func:`predict_scores` returns (``prediction``, and ``proba`` with
    ``classes`` for classifiers), so the monitor can score a batch once and judge it later
    from the prediction log when the labels arrive.
    """
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y)
    if len(y) == 0:
        return {}
    pred = np.asarray(scores["prediction"])
    result: dict[str, float] = {"rows": float(len(y))}
    if config.target.task == "regression":
        result["rmse"] = float(np.sqrt(skm.mean_squared_error(y, pred)))
        result["mae"] = float(skm.mean_absolute_error(y, pred))
        result["r2"] = float(skm.r2_score(y, pred)) if len(y) > 1 else float("nan")
        return {k: v for k, v in result.items() if not np.isnan(v)}
    result["accuracy"] = float(skm.accuracy_score(y, pred))
    proba = scores.get("proba")
    classes = list(scores.get("classes", []))
    present = np.unique(y)
    if config.target.task == "binary":
        positive = config.target.positive_label
        # Labels the model never saw (a third class in monitoring) make sklearn refuse
        # the binary average; the positive class alone, micro-averaged, is the same number.
        how: dict[str, Any] = (
            {"pos_label": positive}
            if len(set(present) | set(np.unique(pred))) <= 2
            else {"labels": [positive], "average": "micro"}
        )
        for name, fn in (
            ("f1", skm.f1_score),
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
        ):
            result[name] = float(fn(y, pred, zero_division=0, **how))
        hits = y == positive
        if proba is not None and positive in classes and 0 < hits.sum() < len(y):
            p = proba[:, classes.index(positive)]
            result["roc_auc"] = float(skm.roc_auc_score(hits, p))
            result["log_loss"] = float(skm.log_loss(hits, p, labels=[False, True]))
    else:
        for name, fn in (
            ("f1", skm.f1_score),
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
        ):
            result[name] = float(fn(y, pred, average="macro", zero_division=0))
        if proba is not None and len(present) > 1 and set(present) <= set(classes):
            result["log_loss"] = float(skm.log_loss(y, proba, labels=classes))
            if len(present) == len(classes) == 2:
                # sklearn takes two classes for a binary problem: the second's score.
                result["roc_auc"] = float(skm.roc_auc_score(y == classes[1], proba[:, 1]))
            elif len(present) == len(classes):
                result["roc_auc"] = float(
                    skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
                )
    return result


def chance_metrics(y: Any, config: ModelConfig) -> dict[str, float]:
    """The metrics of a predictor that knows only the label distribution of ``y``.

    scikit-learn's ``DummyClassifier(strategy="prior")`` (the class shares as probabilities,
    the majority class as prediction) or ``DummyRegressor`` (the mean), scored by
    :func:`metrics_from_scores` like any model: AUC 0.5, accuracy the majority share,
    log loss the label entropy, R² 0. Skill over chance (:func:`retrainer.metric_specs.skill`)
    is measured from here, so a rule means the same for a weak model as for a strong one.
    """
    import numpy as np
    from sklearn.dummy import DummyClassifier, DummyRegressor

    y = np.asarray(y)
    y = y[~_missing(y)]
    if len(y) == 0:
        return {}
    rows = np.zeros((len(y), 1))
    scores: dict[str, Any]
    if config.target.task == "regression":
        scores = {"prediction": DummyRegressor(strategy="mean").fit(rows, y).predict(rows)}
    else:
        dummy = DummyClassifier(strategy="prior").fit(rows, y)
        scores = {
            "prediction": dummy.predict(rows),
            "proba": dummy.predict_proba(rows),
            "classes": list(dummy.classes_),
        }
    out = metrics_from_scores(y, scores, config)
    out.pop("rows", None)
    return out


def _missing(y: Any) -> Any:
    import pandas as pd

    return pd.isna(y)
