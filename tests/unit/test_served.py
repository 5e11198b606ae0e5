"""Served predictions: the config that declares them and the checks before they are judged."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from retrainer.config import ModelConfig
from retrainer.validation.served import ServedContext, check_served, split_served

SERVING = {
    "prediction_column": "served",
    "proba_prefix": "proba_",
    "version_column": "version",
    "request_id_column": "request_id",
}


def _config(task: str = "binary", **serving: Any) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": "online",
            "data": {"time_column": "date", "serving": {**SERVING, **serving}},
            "numeric_features": ["x"],
            "target": {"column": "y", "task": task},
        }
    )


def _frame(**columns: Any) -> pd.DataFrame:
    base = {
        "x": [1.0, 2.0, 3.0, 4.0],
        "date": ["2026-01-01"] * 4,
        "request_id": ["a", "b", "c", "d"],
        "version": [2, 2, 3, 3],
        "served": [1, 0, 1, 1],
        "proba_0": [0.3, 0.6, 0.2, 0.1],
        "proba_1": [0.7, 0.4, 0.8, 0.9],
    }
    return pd.DataFrame({**base, **columns})


def _failures(frame: pd.DataFrame, config: ModelConfig | None = None) -> list[str]:
    config = config or _config()
    assert config.data.serving is not None
    _, served = split_served(frame, config.data.serving)
    context = ServedContext(frozenset({"1", "2", "3"}), ("0", "1"))
    return [
        f"{f.describe()} e.g. {'; '.join(f.examples)}"
        for f in check_served(served, config, context)
    ]


def test_a_good_served_log_passes_and_inputs_are_split_off() -> None:
    config = _config()
    assert config.data.serving is not None
    inputs, served = split_served(_frame(), config.data.serving)
    assert list(inputs.columns) == ["x", "date"]
    assert list(served.columns) == ["request_id", "version", "served", "proba_0", "proba_1"]
    assert _failures(_frame()) == []


def test_each_bad_served_value_is_named_with_its_rows() -> None:
    frame = _frame(
        request_id=["a", "a", None, "d"],
        version=[2, 7, 3, 3.0],
        served=[1, 0, 5, 1],
        proba_1=[0.7, 0.4, 0.8, 1.9],
    )
    assert _failures(frame) == [
        "served_request_id (request_id: 1 of 4 rows have no request id (late labels join on "
        "it)) e.g. row 2: missing",
        "served_request_id (request_id: 2 of 4 rows repeat a request id (a late label would "
        "judge two rows)) e.g. row 0: 'a'; row 1: 'a'",
        "served_version (version: 1 of 4 rows name a version that is not registered for "
        "'online' (registered: ['1', '2', '3'])) e.g. row 1: 7.0",
        "served_proba (proba_1: 1 of 4 rows are not probabilities in [0, 1]) e.g. row 3: 1.9",
        "served_prediction (served: 1 of 4 rows are missing or not classes of the model "
        "['0', '1']) e.g. row 2: 5",
    ]


def test_probabilities_must_sum_to_one_and_cover_the_classes() -> None:
    assert _failures(_frame(proba_1=[0.7, 0.4, 0.8, 1.0])) == [
        "served_proba (proba_*: 1 of 4 rows have probabilities that do not sum to 1 (±0.001)) "
        "e.g. row 3: 1.1"
    ]
    assert _failures(_frame().drop(columns=["proba_0"]))[0].startswith(
        "served_columns (probability columns missing ['proba_0']"
    )


def test_a_declared_column_that_is_missing_blocks() -> None:
    assert _failures(_frame().drop(columns=["version"])) == [
        "served_columns (missing ['version'] declared in data.serving of the YAML of model "
        "'online') e.g. version"
    ]


def test_a_regressor_serves_finite_numbers() -> None:
    config = _config("regression", proba_prefix=None)
    frame = _frame(served=[1.5, float("inf"), None, 2.0]).drop(columns=["proba_0", "proba_1"])
    assert _failures(frame, config) == [
        "served_prediction (served: 2 of 4 rows are not finite numbers) e.g. row 1: inf; "
        "row 2: missing"
    ]


@pytest.mark.parametrize(
    ("serving", "task", "message"),
    [
        ({"version_column": "served"}, "binary", "must differ"),
        ({"request_id_column": "x"}, "binary", "also features or the target/time/id column"),
        ({"proba_prefix": "x"}, "binary", "also features"),
        ({}, "regression", "proba_prefix needs a classifier"),
        ({"proba_prefix": "proba_", "prediction_column": "proba_p"}, "binary", "would be read"),
    ],
)
def test_serving_config_errors_name_the_field(
    serving: dict[str, Any], task: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _config(task, **serving)


def test_a_record_with_live_evidence_says_it_in_one_line() -> None:
    from retrainer.lake import PerformanceRecord

    interval = {"difference": 0.437, "lower": 0.366, "upper": 0.508}
    record = PerformanceRecord(
        "online",
        "canary",
        "1",
        365,
        365,
        by_version={"baseline": "1", "intervals": {"2": {"accuracy": interval}}},
    )
    assert record.explain().endswith("; live v2 - v1 accuracy +0.437 [+0.366, +0.508] (unpaired)")
    assert "by_version" not in PerformanceRecord("online", "b").to_dict()
