"""Pandas nullable and categorical dtypes, with missing values, through every domain step.

A batch as a user's own pipeline writes it (``string``, ``Int64``, ``boolean``, ``Float64``,
``category``, ``bool``, with ``pd.NA``) is validated, accepted, trained on, evaluated and
monitored, against a real MLflow SQLite store and a local lake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

# (column dtype, feature kind): each dtype a user's frame may carry.
CASES = {
    "string": ("string", "categorical"),
    "category": ("category", "categorical"),
    "boolean-categorical": ("boolean", "categorical"),
    "boolean-numeric": ("boolean", "numeric"),
    "bool": ("bool", "categorical"),
    "Int64": ("Int64", "numeric"),
    "Float64": ("Float64", "numeric"),
}


def _frame(dtype: str, seed: int, start: str, rows: int = 600) -> pd.DataFrame:
    """Rows whose label depends on ``x`` and on the dtype column; 3% of it missing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    raw = rng.integers(0, 3, size=rows)
    signal = raw == 2
    if dtype in ("string", "category"):
        values: Any = pd.Series(np.array(["red", "green", "blue"])[raw], dtype=dtype)
    elif dtype in ("boolean", "bool"):
        values = pd.Series(signal, dtype=dtype)
    else:
        values = pd.Series(raw, dtype=dtype)
    if dtype != "bool":  # numpy bool cannot hold a missing value
        values[rng.random(rows) < 0.03] = pd.NA
    label = (x + 1.5 * signal + rng.normal(scale=0.5, size=rows) > 0.7).astype(int)
    return pd.DataFrame(
        {
            "time": pd.date_range(start, periods=rows, freq="h", tz="UTC"),
            "x": x,
            "feature": values,
            "label": label,
        }
    )


def _open(root: Path, kind: str) -> Any:
    from retrainer.config import load_model_config
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    model = {
        "name": "dtypes",
        "data": {"time_column": "time"},
        "numeric_features": ["x"] + (["feature"] if kind == "numeric" else []),
        "categorical_features": ["feature"] if kind == "categorical" else [],
        "target": {"column": "label", "task": "binary", "positive_label": 1},
        "model": {"estimator": "logistic_regression"},
        "training": {"min_rows": 100},
        "gate": {"metric": "roc_auc", "min_value": 0.5, "min_improvement": 0.0},
        "evaluation": {"bootstrap_resamples": 100},
        "trigger": {"metric": "roc_auc", "min_rows": 50, "min_labels": 50},
    }
    config_dir = root / "config"
    (config_dir / "models").mkdir(parents=True)
    (config_dir / "models" / "dtypes.yaml").write_text(yaml.safe_dump(model))
    (config_dir / "retrainer.yaml").write_text(yaml.safe_dump({"home": str(root / "home")}))
    settings = load_settings(config_dir)
    config = load_model_config(settings.models_dir / "dtypes.yaml")
    return settings, config, open_storage(settings.storage_root), connect(settings)


def _accept(root: Path, storage: Any, client: Any, config: Any, batch_id: str, frame: Any) -> None:
    from retrainer.lake import accept_batch, find_incoming, land_file
    from retrainer.registry import champion_version
    from retrainer.validation import load_suite_spec, validate_batch

    path = root / f"{batch_id}.parquet"
    frame.to_parquet(path, index=False)
    land_file(storage, config.name, path, batch_id)
    champion = champion_version(client, config.name)
    spec = load_suite_spec(config, champion.run_id if champion else None)
    key = find_incoming(storage, config.name, batch_id)
    outcome = validate_batch(storage, config, batch_id, key, spec)
    assert outcome.batch_key is not None, outcome
    accept_batch(storage, config, batch_id, outcome.batch_key)


@pytest.mark.parametrize("case", list(CASES))
def test_a_nullable_dtype_with_missing_values_trains_promotes_and_is_monitored(
    tmp_path: Path, case: str
) -> None:
    from retrainer.evaluation import evaluate_challenger
    from retrainer.monitoring import check_batch
    from retrainer.registry import champion_version, promote
    from retrainer.training import train_challenger

    dtype, kind = CASES[case]
    settings, config, storage, client = _open(tmp_path, kind)
    first = _frame(dtype, 1, "2024-01-01")
    assert str(first["feature"].dtype) == dtype
    _accept(tmp_path, storage, client, config, "b1", first)

    trained = train_challenger(
        client, storage, settings, config, trigger="manual", reason="first model"
    )
    assert trained.metrics["roc_auc"] > 0.7
    # Hourly times order the rows: auto cuts the holdout by time, and the run says so.
    assert client.get_run(trained.run_id).data.params["holdout.strategy"] == "time"
    evaluation = evaluate_challenger(client, storage, settings, config, trained.version)
    assert evaluation.promote, evaluation.decision
    promote(
        client,
        storage,
        config.name,
        trained.version,
        expected_champion=evaluation.champion_version,
        reason="first",
        actor="test",
    )
    assert str(champion_version(client, config.name).version) == trained.version

    _accept(tmp_path, storage, client, config, "b2", _frame(dtype, 2, "2024-02-01"))
    checked = check_batch(client, storage, settings, config, "b2").to_xcom()
    # The champion scored the new batch (labels present) and drift compared it feature by
    # feature: the same distribution, so no feature drifted.
    assert checked["champion_version"] == trained.version
    assert checked["realized"]["roc_auc"] > 0.7
    assert checked["drift_score"] is not None
    assert checked["drifted_features"] == []
