"""Label-free estimate (CBPE), the label join and realized metrics, on seeded data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from retrainer.config import ModelConfig
from retrainer.errors import InputDataError
from retrainer.monitoring import Calibrator, estimate_metrics, fit_calibrator, join_labels
from retrainer.monitoring.estimate import expected_roc_auc
from retrainer.monitoring.prediction_log import log_scores, write_prediction_log
from retrainer.monitoring.realized import realized_metrics
from retrainer.storage import LocalStorage

pytestmark = pytest.mark.unit


def _config(task: str = "binary", **data: str) -> ModelConfig:
    return ModelConfig(
        name="toy",
        data=data or {"id_column": "id"},
        numeric_features=["x"],
        target={
            "column": "y",
            "task": task,
            "positive_label": 1 if task == "binary" else None,
        },
        gate={"metric": "rmse" if task == "regression" else "accuracy"},
    )


def _binary(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Perfectly calibrated scores: row i is positive with probability p_i."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 2, n)
    y = (rng.random(n) < p).astype(int)
    return np.column_stack([1 - p, p]), y, (p >= 0.5).astype(int)


def test_calibrated_binary_estimate_matches_realized() -> None:
    proba, y, pred = _binary(0, 30000)
    cal = fit_calibrator(y[:10000], proba[:10000], [0, 1], task="binary", positive=1)
    assert cal.curves[0].method == "isotonic"  # 10000 rows >= min_isotonic_rows
    est = estimate_metrics(cal, proba[10000:], pred[10000:])
    yy, pp = y[10000:], pred[10000:]
    realized = {
        "accuracy": skm.accuracy_score(yy, pp),
        "roc_auc": skm.roc_auc_score(yy, proba[10000:, 1]),
        "f1": skm.f1_score(yy, pp),
        "precision": skm.precision_score(yy, pp),
        "recall": skm.recall_score(yy, pp),
    }
    for metric, value in realized.items():
        assert est[metric] == pytest.approx(value, abs=0.01), metric
    # Golden numbers for this seed: a change in the estimator shows here first.
    assert est["accuracy"] == pytest.approx(0.6871, abs=1e-4)
    assert est["roc_auc"] == pytest.approx(0.7577, abs=1e-4)


def test_broken_calibration_shows_as_divergence() -> None:
    """Labels that stop following the probabilities (here inverted) break the estimate."""
    proba, y, pred = _binary(1, 4000)
    cal = fit_calibrator(y[:2000], proba[:2000], [0, 1], task="binary", positive=1)
    est = estimate_metrics(cal, proba[2000:], pred[2000:])
    flipped = 1 - y[2000:]
    realized = skm.accuracy_score(flipped, pred[2000:])
    assert est["accuracy"] - realized > 0.3  # far beyond a 0.1 band
    assert est["roc_auc"] - skm.roc_auc_score(flipped, proba[2000:, 1]) > 0.4


def test_multiclass_estimate_is_renormalised_one_vs_rest() -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(6000, 4)) * 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    classes = np.array(["a", "b", "c", "d"])
    y = classes[[rng.choice(4, p=row) for row in proba]]
    pred = classes[proba.argmax(axis=1)]
    for method in ("isotonic", "platt"):
        cal = fit_calibrator(
            y[:2000], proba[:2000], list(classes), task="multiclass", method=method
        )
        assert np.allclose(cal.calibrate(proba[2000:]).sum(axis=1), 1.0)
        est = estimate_metrics(cal, proba[2000:], pred[2000:])
        assert est["accuracy"] == pytest.approx(skm.accuracy_score(y[2000:], pred[2000:]), abs=0.02)
        assert est["f1"] == pytest.approx(
            skm.f1_score(y[2000:], pred[2000:], average="macro"), abs=0.02
        )
        assert est["roc_auc"] == pytest.approx(
            skm.roc_auc_score(y[2000:], proba[2000:], multi_class="ovr", labels=classes), abs=0.02
        )


def test_calibrator_round_trips_through_json_and_small_holdouts_get_platt() -> None:
    proba, y, _ = _binary(3, 300)
    cal = fit_calibrator(y, proba, [0, 1], task="binary", positive=1)
    assert cal.curves[0].method == "platt"  # 300 < 500 rows: isotonic would overfit
    again = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert np.allclose(again.calibrate(proba), cal.calibrate(proba))
    with pytest.raises(InputDataError, match="probability columns"):
        cal.calibrate(proba[:, :1])
    with pytest.raises(InputDataError, match="not a stored calibrator"):
        Calibrator.from_dict({"kind": "pickle"})


def test_expected_auc_with_certain_probabilities_is_the_auc() -> None:
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    truth = np.array([1, 0, 1, 1, 0, 0])
    assert expected_roc_auc(score, truth.astype(float)) == pytest.approx(
        skm.roc_auc_score(truth, score)
    )
    assert expected_roc_auc(score, np.zeros(6)) is None  # no positives expected


@pytest.fixture()
def scored(tmp_path):  # type: ignore[no-untyped-def]
    """A binary batch of 6 rows scored and logged, with ids as the join key."""
    storage = LocalStorage(tmp_path)
    config = _config()
    frame = pd.DataFrame({"id": [10, 11, 12, 13, 14, 15], "x": range(6)})
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2], [0.1, 0.9]])
    scores = {"prediction": proba.argmax(axis=1), "proba": proba, "classes": [0, 1]}
    write_prediction_log(storage, config, "b1", frame, scores, "3")
    return storage, config, storage.read_frame("predictions/toy/b1.parquet")


def test_prediction_log_holds_keys_outputs_version_and_time(scored) -> None:  # type: ignore[no-untyped-def]
    _, _, log = scored
    assert list(log.columns) == [
        "id",
        "row",
        "prediction",
        "proba_0",
        "proba_1",
        "model_version",
        "batch_id",
        "scored_at",
    ]
    assert log_scores(log)["classes"] == [0, 1]  # int classes survive the column names


def test_late_and_partial_labels_join_by_key(scored) -> None:  # type: ignore[no-untyped-def]
    _, config, log = scored
    # Labels arrive out of order, for some rows only, one for a row of another batch.
    labels = pd.DataFrame({"id": ["13", "10", "11", "99"], "y": [1, 0, 0, 1]})
    y, unmatched = join_labels(log, labels, config)
    assert unmatched == 1  # id 99: reported, not silently used
    assert y.notna().sum() == 3
    assert y.iloc[[0, 1, 3]].tolist() == [0, 0, 1] and y.iloc[[2, 4, 5]].isna().all()
    realized = realized_metrics(log, y, config)
    # rows 10, 11, 13 predicted 0, 1, 1 against 0, 0, 1
    assert realized["accuracy"] == pytest.approx(2 / 3)
    assert realized["precision"] == pytest.approx(0.5)
    assert realized["recall"] == pytest.approx(1.0)
    assert realized["roc_auc"] == pytest.approx(0.5)  # 0.7 beats 0.1, loses to 0.8
    assert "rows" not in realized


def test_join_errors_name_the_problem(scored) -> None:  # type: ignore[no-untyped-def]
    _, config, log = scored
    with pytest.raises(InputDataError, match=r"lacks column\(s\) \['id'\]"):
        join_labels(log, pd.DataFrame({"y": [1]}), config, source="labels/toy/b1.parquet")
    with pytest.raises(InputDataError, match="repeats join key 'id'"):
        join_labels(log, pd.DataFrame({"id": [10, 10], "y": [1, 0]}), config)
    with pytest.raises(InputDataError, match=r"lacks column\(s\) \['y'\]"):
        join_labels(log, pd.DataFrame({"id": [10]}), config)


def test_time_column_joins_when_there_is_no_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    config = _config("multiclass", time_column="date")
    frame = pd.DataFrame({"date": pd.date_range("2013-01-01", periods=4), "x": range(4)})
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
    classes = ["fog", "rain", "sun"]
    scores = {"prediction": np.array(classes)[proba.argmax(axis=1)], "proba": proba}
    write_prediction_log(storage, config, "m1", frame, scores | {"classes": classes}, "1")
    log = storage.read_frame("predictions/toy/m1.parquet")
    labels = pd.DataFrame({"date": ["2013-01-04", "2013-01-01", "2013-01-02", "2013-01-03"]})
    labels["y"] = ["rain", "fog", "rain", "sun"]
    y, unmatched = join_labels(log, labels, config)
    assert unmatched == 0 and y.tolist() == ["fog", "rain", "sun", "rain"]
    realized = realized_metrics(log, y, config)
    assert realized["accuracy"] == pytest.approx(0.75)
    assert realized["f1"] == pytest.approx(skm.f1_score(y, scores["prediction"], average="macro"))
    assert set(realized) == {"accuracy", "f1", "precision", "recall", "log_loss", "roc_auc"}


def test_regression_metrics_from_the_log(tmp_path) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    config = _config("regression")
    frame = pd.DataFrame({"id": [1, 2, 3], "x": [0, 1, 2]})
    write_prediction_log(
        storage, config, "r", frame, {"prediction": np.array([1.0, 2.0, 4.0])}, "1"
    )
    log = storage.read_frame("predictions/toy/r.parquet")
    y, _ = join_labels(log, pd.DataFrame({"id": [1, 2, 3], "y": [1.0, 3.0, 4.0]}), config)
    realized = realized_metrics(log, y, config)
    assert realized == pytest.approx({"rmse": np.sqrt(1 / 3), "mae": 1 / 3, "r2": 1 - 1 / (14 / 3)})


def test_a_label_the_model_never_saw_counts_as_wrong(scored, caplog) -> None:  # type: ignore[no-untyped-def]
    _, config, log = scored
    y, _ = join_labels(log, pd.DataFrame({"id": [10, 11, 12, 13], "y": [0, 2, 0, 1]}), config)
    realized = realized_metrics(log, y, config)
    # predicted 0, 1, 0, 1: the row labelled 2 is wrong, the rest right
    assert realized["accuracy"] == pytest.approx(3 / 4)
    assert realized["precision"] == pytest.approx(1 / 2) and realized["recall"] == 1.0
    assert realized["roc_auc"] == pytest.approx(2 / 3)  # 0.7 vs 0.1, 0.8, 0.4: positive vs rest
    assert "labels ['2'] are not classes of the model" in caplog.text
