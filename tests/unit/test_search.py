"""Hyperparameter search: the YAML it accepts, the folds it cuts, the candidates it draws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from retrainer.config import ModelConfig, load_model_config
from retrainer.errors import ConfigError
from retrainer.training.holdout import cut_holdout
from retrainer.training.pipeline import build_pipeline
from retrainer.training.search import check_search_space, cv_folds, run_search


def _yaml(tmp_path: Path, search: dict[str, Any], **training: Any) -> Path:
    data = {
        "name": "m",
        "data": {"time_column": "t"},
        "numeric_features": ["x", "z"],
        "categorical_features": ["c"],
        "target": {"column": "y", "task": "binary"},
        "training": {"search": search, **training},
    }
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


SPACE = {"model__max_iter": {"low": 10, "high": 40}, "model__learning_rate": [0.05, 0.2]}


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ({"space": SPACE, "trails": 3}, "training.search.trails: Extra inputs are not permitted"),
        ({"space": {"model__max_iter": {"low": 40, "high": 10}}}, "low 40 must be below high 10"),
        ({"space": {"model__l2": {"low": 0, "high": 1, "log": True}}}, "log: true needs low > 0"),
        (
            {"space": {"model__l2": {"low": 0, "hgh": 1}}},
            "training.search.space.model__l2.range.hgh: Extra inputs",
        ),
        ({"space": {"model__l2": []}}, "the list of choices is empty"),
        ({"space": {"model-l2": [1]}}, "not a scikit-learn parameter name"),
        ({"space": {}}, "at least one parameter"),
        ({"space": SPACE, "trials": 0}, "training.search.trials"),
        ({"space": SPACE, "metric": "rmse"}, "'rmse' does not fit a binary task"),
        ({"space": SPACE, "metric": "auc"}, "training.search.metric"),
    ],
)
def test_a_bad_search_section_names_the_file_and_the_problem(
    tmp_path: Path, search: dict[str, Any], message: str
) -> None:
    path = _yaml(tmp_path, search)
    with pytest.raises(ConfigError) as caught:
        load_model_config(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_a_name_the_pipeline_cannot_set_is_refused_with_the_valid_names(tmp_path: Path) -> None:
    config = load_model_config(_yaml(tmp_path, {"space": {"model__max_iters": [10, 20]}}))
    with pytest.raises(ConfigError) as caught:
        check_search_space(build_pipeline(config), config)
    text = str(caught.value)
    assert str(tmp_path / "m.yaml") in text
    assert "['model__max_iters']" in text
    assert "model__max_iter," in text and "preprocess__numeric__impute__strategy" in text


def test_the_search_metric_defaults_to_the_gate_metric(tmp_path: Path) -> None:
    config = load_model_config(_yaml(tmp_path, {"space": SPACE}))
    assert config.search_metric == config.gate.metric == "roc_auc"
    check_search_space(build_pipeline(config), config)  # every name is settable


def _frame(rows: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.normal(size=rows)
    times = pd.date_range("2024-01-01", periods=rows, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "row": np.arange(rows),
            "t": pd.Series(times).sample(frac=1.0, random_state=2).to_numpy(),
            "x": x,
            "z": rng.normal(size=rows),
            "c": rng.choice(["a", "b"], size=rows),
            "customer": rng.integers(0, 60, size=rows),
            "y": (x + rng.normal(scale=0.8, size=rows) > 0.5).astype(int),
        }
    )


@pytest.mark.parametrize(
    ("holdout", "splitter"),
    [
        ({"strategy": "time"}, "TimeSeriesSplit"),
        ({"strategy": "stratified"}, "StratifiedKFold"),
        ({"strategy": "random"}, "StratifiedKFold"),
        ({"strategy": "group", "group_column": "customer"}, "GroupKFold"),
    ],
)
def test_no_holdout_row_is_in_any_fold(holdout: dict[str, Any], splitter: str) -> None:
    config = ModelConfig.model_validate(
        yaml.safe_load(_yaml_text())
        | {"training": {"holdout": holdout, "search": {"space": SPACE}}}
    )
    frame = _frame()
    cut = cut_holdout(frame, config)
    ordered, folds, groups = cv_folds(cut.train, config, cut.strategy)
    assert type(folds).__name__ == splitter
    held_out = set(cut.holdout["row"])
    seen: set[int] = set()
    for train_rows, test_rows in folds.split(ordered, ordered["y"], groups):
        fold_rows = set(ordered["row"].iloc[train_rows]) | set(ordered["row"].iloc[test_rows])
        assert not fold_rows & held_out
        seen |= set(ordered["row"].iloc[test_rows])
        if splitter == "TimeSeriesSplit":
            # Each fold validates on rows after every row it trained on.
            assert ordered["t"].iloc[test_rows].min() > ordered["t"].iloc[train_rows].max()
        if splitter == "GroupKFold":
            train_ids = set(ordered["customer"].iloc[train_rows])
            assert not train_ids & set(ordered["customer"].iloc[test_rows])
    assert seen <= set(cut.train["row"])


def _yaml_text() -> str:
    return yaml.safe_dump(
        {
            "name": "m",
            "data": {"time_column": "t"},
            "numeric_features": ["x", "z"],
            "categorical_features": ["c"],
            "target": {"column": "y", "task": "binary"},
        }
    )


def _searched(search: dict[str, Any]) -> Any:
    config = ModelConfig.model_validate(
        yaml.safe_load(_yaml_text()) | {"training": {"search": search}}
    )
    return run_search(build_pipeline(config), _frame(), config, "stratified")


def test_the_search_is_seeded_and_ints_stay_ints() -> None:
    search = {
        "space": {
            **SPACE,
            "model__l2_regularization": {"low": 1e-4, "high": 1.0, "log": True},
            "model__max_leaf_nodes": {"low": 8, "high": 64, "log": True},
        },
        "trials": 3,
        "folds": 2,
        "seed": 5,
    }
    first, second = _searched(search), _searched(search)

    def scores(result: Any) -> list[Any]:  # fit times vary; everything else must not
        return [(t["params"], t["fold_scores"]) for t in result.trials]

    assert scores(first) == scores(second) and first.best_params == second.best_params
    assert len(first.trials) == 3 and not first.stopped_by_budget
    assert all(isinstance(t["params"]["model__max_iter"], int) for t in first.trials)
    assert all(10 <= t["params"]["model__max_iter"] <= 40 for t in first.trials)
    leaves = [t["params"]["model__max_leaf_nodes"] for t in first.trials]
    assert all(isinstance(n, int) and 8 <= n <= 64 for n in leaves)
    best = first.estimator.get_params()
    assert {k: best[k] for k in first.best_params} == first.best_params
    assert first.best_score == max(t["mean_roc_auc"] for t in first.trials)


def test_the_time_budget_stops_between_trials() -> None:
    result = _searched({"space": SPACE, "trials": 50, "folds": 2, "max_seconds": 0.01})
    assert result.stopped_by_budget
    assert 1 <= len(result.trials) < 50 and result.planned == 50


def test_a_loss_is_reported_as_itself_and_the_lowest_wins() -> None:
    frame = _frame().assign(y=lambda f: 3.0 * f["x"] + f["z"])
    config = ModelConfig.model_validate(
        yaml.safe_load(_yaml_text())
        | {
            "target": {"column": "y", "task": "regression"},
            "gate": {"metric": "rmse"},
            "trigger": {"metric": "rmse"},
            "training": {
                "holdout": {"strategy": "random"},
                "search": {"space": {"model__max_iter": [2, 60]}, "trials": 2, "folds": 2},
            },
        }
    )
    result = run_search(build_pipeline(config), frame, config, "random")
    assert result.folds == "KFold(n_splits=2)"
    by_iter = {t["params"]["model__max_iter"]: t["mean_rmse"] for t in result.trials}
    assert all(value > 0 for value in by_iter.values())  # an rmse, not its negation
    assert by_iter[60] < by_iter[2]
    assert result.best_params == {"model__max_iter": 60}
    assert result.best_score == by_iter[60]
