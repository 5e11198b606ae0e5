"""An online model: the monitor judges what the service served, not a re-scoring.

A model trained on Seattle's 2012 weather is the champion (version 1). The 2013 batch
arrives as the service logged it: the inputs, the prediction it served, one probability
per class, the version that served and a request id. The service served ``sun`` on every
day (not what the champion predicts), so the realized accuracy once the labels land must
be the share of sunny days, not the champion's accuracy. The labels land later, shuffled,
and join by request id. Served logs that are wrong (an unregistered version,
probabilities that sum to 1.3, rows without a request id) are blocked with an error
naming the column, the count and example rows, and kept in quarantine.

Runs the real monitor DAG with ``dag.test()`` against a SQLite MLflow store and a local
lake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

pytestmark = pytest.mark.integration

MODEL = "weather_online"
CLASSES = ["drizzle", "fog", "rain", "snow", "sun"]
SERVING = {
    "prediction_column": "served_prediction",
    "proba_prefix": "proba_",
    "version_column": "served_version",
    "request_id_column": "request_id",
}
CONFIG = {
    "name": MODEL,
    "data": {"source": "seattle_weather", "time_column": "date", "serving": SERVING},
    "numeric_features": ["precipitation", "temp_max", "temp_min", "wind", "doy_sin", "doy_cos"],
    "target": {"column": "weather", "task": "multiclass", "positive_label": None},
    "model": {"estimator": "hist_gradient_boosting", "params": {"max_iter": 50}},
    "training": {"window_batches": 1, "holdout_fraction": 0.3, "min_rows": 100},
    "validation": {"min_rows": 30},
    "gate": {"metric": "accuracy"},
}


def _served(batch: Any, year: int, version: Any = 1) -> Any:
    """The batch as the service logged it: ``sun`` served on every day."""
    out = batch.drop(columns=["weather"]).copy()
    out["request_id"] = [f"req-{year}-{i:04d}" for i in range(len(out))]
    out["served_version"] = version
    out["served_prediction"] = "sun"
    for cls in CLASSES:
        out[f"proba_{cls}"] = 0.9 if cls == "sun" else 0.025
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("served")
        patch.setenv("RETRAINER_CONFIG_DIR", str(root / "config"))
        yield _world(root)


def _world(root: Path) -> dict[str, Any]:
    from retrainer.config import load_model_config
    from retrainer.datasets import load_seattle_weather
    from retrainer.lake import accept_batch, land_file
    from retrainer.orchestration.dag_factory import build_dags
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage
    from retrainer.training.train import train_challenger

    config_dir = root / "config"
    (config_dir / "models").mkdir(parents=True)
    (config_dir / "models" / f"{MODEL}.yaml").write_text(yaml.safe_dump(CONFIG))
    (config_dir / "retrainer.yaml").write_text(
        yaml.safe_dump({"home": str(root / "home"), "airflow_url": "http://127.0.0.1:9"})
    )
    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    client = connect(settings)
    config = load_model_config(config_dir / "models" / f"{MODEL}.yaml")

    data = load_seattle_weather()
    year = data["date"].dt.year
    key = f"batches/{MODEL}/2012/data.parquet"
    storage.write_frame(key, data[year == 2012].reset_index(drop=True))
    accept_batch(storage, config, "2012", key)
    trained = train_challenger(
        client, storage, settings, config, trigger="manual", reason="2012 model"
    )
    client.set_registered_model_alias(MODEL, "champion", trained.version)

    files = root / "files"
    files.mkdir()
    batch = data[year == 2013].reset_index(drop=True)
    served = _served(batch, 2013, version=int(trained.version))
    served.to_parquet(files / "2013.parquet", index=False)
    land_file(storage, MODEL, files / "2013.parquet", "2013")
    labels = served[["request_id"]].assign(weather=batch["weather"])
    # Shuffled: the labels must join by request id, not by row order.
    labels.sample(frac=1.0, random_state=7).to_parquet(files / "labels-2013.parquet", index=False)
    return {
        "dags": build_dags(config_dir),
        "config_dir": config_dir,
        "config": config,
        "storage": storage,
        "client": client,
        "files": files,
        "trained": trained,
        "data": data,
        "truth": batch["weather"],
    }


def _states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def test_served_batch_is_logged_as_served_not_rescored(world) -> None:  # type: ignore[no-untyped-def]
    run = world["dags"][f"{MODEL}_monitor"].test(run_conf={"batch_id": "2013"})
    states = _states(run)
    assert states["validate_batch"] == "success" and states["check_batch"] == "success"
    storage = world["storage"]
    # The accepted data holds the inputs alone (training reads it); what was served is
    # kept beside it, row for row.
    data = storage.read_frame(f"batches/{MODEL}/2013/data.parquet")
    assert "served_prediction" not in data.columns and "request_id" not in data.columns
    served = storage.read_frame(f"batches/{MODEL}/2013/served.parquet")
    assert len(served) == len(data) == 365

    log = storage.read_frame(f"predictions/{MODEL}/2013.parquet")
    assert list(log.columns[:2]) == ["request_id", "date"]
    assert set(log["prediction"]) == {"sun"}
    assert set(log["model_version"]) == {world["trained"].version}
    assert log["proba_sun"].tolist() == [0.9] * 365
    # Drift still compares the inputs with the champion's reference.
    assert storage.exists(f"reports/{MODEL}/2013/drift.json")


def test_late_labels_join_by_request_id_and_judge_the_served_predictions(world) -> None:  # type: ignore[no-untyped-def]
    from sklearn.metrics import accuracy_score

    from retrainer.cli import app
    from retrainer.evaluation import compute_metrics
    from retrainer.registry.safe_load import load_model_version

    result = CliRunner().invoke(
        app,
        [
            "land-labels",
            MODEL,
            str(world["files"] / "labels-2013.parquet"),
            "--batch-id",
            "2013",
            "--config-dir",
            str(world["config_dir"]),
        ],
    )
    assert result.exit_code == 0, result.output
    run = world["dags"][f"{MODEL}_monitor"].test(run_conf={"batch_id": None})
    assert _states(run)["assess_performance"] == "success"

    record = world["storage"].read_json(f"reports/{MODEL}/2013/performance.json")
    assert record["labelled_rows"] == 365
    served_accuracy = accuracy_score(world["truth"], ["sun"] * 365)
    assert record["realized"]["accuracy"] == pytest.approx(served_accuracy)
    # What re-scoring with the champion would have said is another number.
    data = world["data"]
    batch = data[data["date"].dt.year == 2013].reset_index(drop=True)
    champion = load_model_version(world["client"], world["config"], world["trained"].version)
    rescored = compute_metrics(champion, batch, world["config"])["accuracy"]
    assert abs(rescored - served_accuracy) > 0.05
    print(f"served accuracy {served_accuracy:.4f}; champion re-scored {rescored:.4f}")


def _land_bad(world: dict[str, Any], batch_id: str, frame: Any) -> None:
    from retrainer.lake import land_file

    path = world["files"] / f"{batch_id}.parquet"
    frame.to_parquet(path, index=False)
    land_file(world["storage"], MODEL, path, batch_id)


def test_bad_served_logs_are_blocked_with_a_named_error_and_kept(world) -> None:  # type: ignore[no-untyped-def]
    data = world["data"]
    batch = data[data["date"].dt.year == 2014].reset_index(drop=True)
    _land_bad(world, "unknown-version", _served(batch, 2014, version=99))
    too_sure = _served(batch, 2014)
    too_sure["proba_rain"] = 0.325  # each in [0, 1], but 0.9 + 0.325 + 3 x 0.025 = 1.3
    _land_bad(world, "proba-1-3", too_sure)
    missing = _served(batch, 2014)
    missing.loc[[3, 10], "request_id"] = None
    _land_bad(world, "no-request-id", missing)

    run = world["dags"][f"{MODEL}_monitor"].test(run_conf={"batch_id": None})
    assert _states(run)["validate_batch"] == "failed"  # every batch of the run was blocked
    storage = world["storage"]
    expected = {
        "unknown-version": (
            "served_version (served_version: 365 of 365 rows name a version that is not "
            f"registered for '{MODEL}' (registered: ['1']))",
            "row 0: 99",
        ),
        "proba-1-3": (
            "served_proba (proba_*: 365 of 365 rows have probabilities that do not sum to 1 "
            "(±0.001))",
            "row 0: 1.3",
        ),
        "no-request-id": (
            "served_request_id (request_id: 2 of 365 rows have no request id (late labels "
            "join on it))",
            "row 3: missing",
        ),
    }
    for batch_id, (error, example) in expected.items():
        summary = storage.read_bytes(f"quarantine/{MODEL}/{batch_id}/summary.txt").decode()
        assert error in summary, summary
        assert example in summary, summary
        # The original is kept whole in quarantine and in the landing zone; nothing accepted.
        assert storage.exists(f"quarantine/{MODEL}/{batch_id}/{batch_id}.parquet")
        assert storage.exists(f"incoming/{MODEL}/{batch_id}.parquet")
        assert not storage.exists(f"batches/{MODEL}/{batch_id}/data.parquet")
        print(summary)


def test_two_served_versions_get_their_own_metrics_and_an_unpaired_interval(world) -> None:  # type: ignore[no-untyped-def]
    """A canary: v2 serves the odd rows of 2014 (and serves them well), v1 the even ones."""
    from sklearn.metrics import accuracy_score

    from retrainer.cli import app

    client = world["client"]
    first = client.get_model_version(MODEL, world["trained"].version)
    v1 = str(first.version)
    v2 = str(client.create_model_version(MODEL, first.source, run_id=first.run_id).version)
    data = world["data"]
    batch = data[data["date"].dt.year == 2014].reset_index(drop=True)
    served = _served(batch, 2014, version=int(v1))
    odd = served.index % 2 == 1
    served.loc[odd, "served_version"] = int(v2)
    served.loc[odd, "served_prediction"] = batch.loc[odd, "weather"]
    for cls in CLASSES:
        served.loc[odd, f"proba_{cls}"] = (batch.loc[odd, "weather"] == cls) * 0.875 + 0.025
    path = world["files"] / "canary.parquet"
    served.to_parquet(path, index=False)
    from retrainer.lake import land_file

    land_file(world["storage"], MODEL, path, "canary")
    labels = world["files"] / "labels-canary.parquet"
    served[["request_id"]].assign(weather=batch["weather"]).to_parquet(labels, index=False)
    result = CliRunner().invoke(
        app,
        [
            *("land-labels", MODEL, str(labels), "--batch-id", "canary"),
            *("--config-dir", str(world["config_dir"])),
        ],
    )
    assert result.exit_code == 0, result.output

    run = world["dags"][f"{MODEL}_monitor"].test(run_conf={"batch_id": "canary"})
    assert _states(run)["assess_performance"] == "success"
    record = world["storage"].read_json(f"reports/{MODEL}/canary/performance.json")
    live = record["by_version"]
    assert live["baseline"] == v1 and live["paired"] is False
    truth = batch["weather"]
    v1_accuracy = accuracy_score(truth[~odd], ["sun"] * int((~odd).sum()))
    assert live["versions"][v1]["realized"]["accuracy"] == pytest.approx(v1_accuracy)
    assert live["versions"][v2]["realized"]["accuracy"] == 1.0
    assert live["versions"][v2]["labelled_rows"] == int(odd.sum()) == 182
    interval = live["intervals"][v2]["accuracy"]
    assert interval["difference"] == pytest.approx(1.0 - v1_accuracy)
    # v2 is better beyond sampling noise: the whole interval is above zero.
    assert 0 < interval["lower"] < interval["difference"] < interval["upper"]
    # The record itself judges v1 on the rows v1 served, with v1's calibrator.
    assert record["champion_version"] == v1 and record["rows"] == 365
    assert record["realized"]["accuracy"] == pytest.approx(v1_accuracy)
    print(
        f"live A/B: v{v1} accuracy {v1_accuracy:.4f} on {int((~odd).sum())} rows, "
        f"v{v2} 1.0 on {int(odd.sum())}; v{v2} - v{v1} = {interval['difference']:.4f} "
        f"[{interval['lower']:.4f}, {interval['upper']:.4f}]"
    )
