"""Performance monitoring on the Seattle weather data: the estimate breaks when labels land.

A model trained on 2012 is the champion. The 2013 and 2014 batches arrive without labels:
their inputs look like 2012, so the label-free estimate stays close to the holdout
accuracy. When the labels land, the realized accuracy has fallen (wet days are labelled
``fog`` instead of ``rain`` from 2014 on), the estimate misses it by more than the band,
and the monitor says its assumptions broke. Runs the real monitor DAG with ``dag.test()``
against a SQLite MLflow store and a local lake.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

pytestmark = pytest.mark.integration

MODEL = "seattle_weather"
CONFIG = {
    "name": MODEL,
    "description": "Seattle daily weather class (vega_datasets).",
    "data": {"source": "seattle_weather", "time_column": "date"},
    "numeric_features": ["precipitation", "temp_max", "temp_min", "wind", "doy_sin", "doy_cos"],
    "target": {"column": "weather", "task": "multiclass", "positive_label": None},
    "model": {"estimator": "hist_gradient_boosting", "params": {"max_iter": 50}},
    "training": {"window_batches": 1, "holdout_fraction": 0.3, "min_rows": 100},
    "validation": {"min_rows": 30},
    "gate": {"metric": "accuracy"},
    "monitoring": {"estimate_band": 0.1},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):  # type: ignore[no-untyped-def]
    # dag.test() parses the dags folder to serialize DAGs: point it at this config.
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("performance")
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
        # Nothing listens there: land-labels must not reach anyone's Airflow from a test.
        yaml.safe_dump({"home": str(root / "home"), "airflow_url": "http://127.0.0.1:9"})
    )
    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    client = connect(settings)
    config = load_model_config(config_dir / "models" / f"{MODEL}.yaml")

    data = load_seattle_weather()
    year = data["date"].dt.year
    files = root / "files"
    files.mkdir()
    key = "batches/seattle_weather/2012/data.parquet"
    storage.write_frame(key, data[year == 2012].reset_index(drop=True))
    accept_batch(storage, config, "2012", key)
    trained = train_challenger(
        client, storage, settings, config, trigger="manual", reason="2012 model"
    )
    client.set_registered_model_alias(MODEL, "champion", trained.version)
    for y in (2013, 2014):
        batch = data[year == y].reset_index(drop=True)
        # The batch comes without labels; they follow later in their own file.
        batch.drop(columns=["weather"]).to_parquet(files / f"{y}.parquet", index=False)
        batch[["date", "weather"]].to_parquet(files / f"labels-{y}.parquet", index=False)
        land_file(storage, MODEL, files / f"{y}.parquet", str(y))
    return {
        "dags": build_dags(config_dir),
        "config_dir": config_dir,
        "config": config,
        "settings": settings,
        "storage": storage,
        "client": client,
        "files": files,
        "trained": trained,
    }


def _states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def _record(world: dict[str, Any], batch: str) -> dict[str, Any]:
    return world["storage"].read_json(f"reports/{MODEL}/{batch}/performance.json")  # type: ignore[no-any-return]


def test_training_stores_the_calibrator_and_baseline(world) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    run = world["trained"].run_id
    calibrator = mlflow.artifacts.load_dict(f"runs:/{run}/monitoring/calibrator.json")
    assert calibrator["task"] == "multiclass" and len(calibrator["curves"]) == 5
    # 2012's holdout has 110 rows: too few for isotonic, so auto chose Platt.
    assert {c["method"] for c in calibrator["curves"]} == {"platt"}
    baseline = mlflow.artifacts.load_dict(f"runs:/{run}/monitoring/baseline.json")
    assert baseline["accuracy"] > 0.65 and "rows" not in baseline


def test_unlabelled_batches_get_an_estimate_only(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.monitoring import assess_batch, check_batch

    run = world["dags"][f"{MODEL}_monitor"].test(run_conf={"batch_id": "2013"})
    states = _states(run)
    assert states["check_batch"] == "success" and states["assess_performance"] == "success"
    # 2014 through the domain functions (one DAG run is enough to prove the wiring).
    args = (world["client"], world["storage"], world["settings"], world["config"])
    from retrainer.lake import accept_batch

    frame = world["storage"].read_frame(f"incoming/{MODEL}/2014.parquet")
    world["storage"].write_frame(f"batches/{MODEL}/2014/data.parquet", frame)
    accept_batch(world["storage"], world["config"], "2014", f"batches/{MODEL}/2014/data.parquet")
    check_batch(*args, "2014")
    assess_batch(*args, "2014")

    log = world["storage"].read_frame(f"predictions/{MODEL}/2013.parquet")
    assert {"date", "row", "prediction", "model_version", "batch_id", "scored_at"} <= set(log)
    assert sum(c.startswith("proba_") for c in log.columns) == 5
    for batch in ("2013", "2014"):
        record = _record(world, batch)
        assert record["champion_version"] == world["trained"].version
        assert record["rows"] == 365 and record["labelled_rows"] == 0
        assert record["realized"] == {} and record["divergence"] == {}
        assert not record["estimate_broken"]
        # Inputs look like 2012, so the estimate stays near the holdout baseline.
        assert abs(record["estimated"]["accuracy"] - record["baseline"]["accuracy"]) < 0.15
        assert set(record) == {
            "model",
            "batch_id",
            "champion_version",
            "rows",
            "labelled_rows",
            "realized",
            "estimated",
            "baseline",
            "divergence",
            "estimate_broken",
            "updated_at",
            "estimate_band",
        }


def test_late_labels_show_the_fall_and_break_the_estimate(world, caplog) -> None:  # type: ignore[no-untyped-def]
    from retrainer.cli import app

    for y in (2013, 2014):
        result = CliRunner().invoke(
            app,
            [
                "land-labels",
                MODEL,
                str(world["files"] / f"labels-{y}.parquet"),
                "--batch-id",
                str(y),
                "--config-dir",
                str(world["config_dir"]),
            ],
        )
        assert result.exit_code == 0, result.output
    caplog.set_level(logging.WARNING)
    # What the labels Asset event starts: no new batch, so only assess_performance works.
    # (An explicit null: dag.test() in one process otherwise keeps the previous run's conf.)
    run = world["dags"][f"{MODEL}_monitor"].test(run_conf={"batch_id": None})
    states = _states(run)
    assert states["validate_batch"] == "skipped" and states["check_batch"] == "skipped"
    assert states["assess_performance"] == "success"

    r13, r14 = _record(world, "2013"), _record(world, "2014")
    assert r13["labelled_rows"] == 365 and r14["labelled_rows"] == 365
    # DATA.md: a 2012 model falls to about 0.46 in 2013 and 0.34 in 2014.
    assert 0.38 < r13["realized"]["accuracy"] < 0.55
    assert 0.26 < r14["realized"]["accuracy"] < 0.42
    assert {"accuracy", "f1", "precision", "recall", "log_loss"} <= set(r13["realized"])
    for record in (r13, r14):
        assert record["estimated"]["accuracy"] > record["realized"]["accuracy"] + 0.1
        assert record["divergence"]["accuracy"] == pytest.approx(
            record["estimated"]["accuracy"] - record["realized"]["accuracy"]
        )
        assert record["estimate_broken"]
    assert "performance estimate broke on batch 2014" in caplog.text

    # One MLflow run charts every batch: realized accuracy per step (batch ordinal).
    client = world["client"]
    experiment = client.get_experiment_by_name(MODEL)
    runs = client.search_runs(
        [experiment.experiment_id], "tags.`retrainer.run_kind` = 'performance'"
    )
    assert len(runs) == 1 and runs[0].info.run_name == f"performance-{MODEL}"
    history = client.get_metric_history(runs[0].info.run_id, "realized_accuracy")
    by_step = {m.step: m.value for m in history}
    assert by_step[1] == pytest.approx(r13["realized"]["accuracy"])
    assert by_step[2] == pytest.approx(r14["realized"]["accuracy"])
    # ... and carries the decision timeline the run drew, with the labelled batches on it.
    svg = client.download_artifacts(runs[0].info.run_id, "timeline/timeline.svg")
    text = Path(svg).read_text()
    assert "<svg" in text and "2013" in text and "2014" in text


def test_unchanged_labels_are_not_recomputed(world) -> None:  # type: ignore[no-untyped-def]
    from retrainer.monitoring import refresh_labelled

    args = (world["client"], world["storage"], world["settings"], world["config"])
    assert refresh_labelled(*args) == []


def test_labels_without_the_join_key_fail_with_a_clear_error(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from retrainer.errors import InputDataError
    from retrainer.monitoring import assess_batch

    storage = world["storage"]
    key = f"labels/{MODEL}/2013.parquet"
    good = storage.read_bytes(key)
    labels = storage.read_frame(key)
    try:
        storage.write_frame(key, labels.rename(columns={"date": "day"}))
        args = (world["client"], storage, world["settings"], world["config"])
        with pytest.raises(InputDataError, match=r"lacks column\(s\) \['date'\]"):
            assess_batch(*args, "2013")
    finally:
        storage.write_bytes(key, good)
    assert _record(world, "2013")["labelled_rows"] == 365  # the last good record stays


def test_land_labels_posts_the_labels_asset_event(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """land-labels tells Airflow like `land` does, with a key that re-scores nothing."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from retrainer.cli import app

    posted: list[dict[str, Any]] = []

    class FakeAirflow(BaseHTTPRequestHandler):
        def _reply(self, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.startswith("/api/v2/assets"):
                self._reply({"assets": [{"name": f"{MODEL}_labels", "id": 7}]})
            else:
                self._reply({"metadatabase": {"status": "healthy"}})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path == "/auth/token":
                self._reply({"access_token": "t"})
                return
            posted.append({"path": self.path, **body})
            self._reply({"id": 1})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("RETRAINER_AIRFLOW_URL", f"http://127.0.0.1:{server.server_port}")
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
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert posted == [
        {
            "path": "/api/v2/assets/events",
            "asset_id": 7,
            "extra": {"labels_batch_id": "2013", "key": f"labels/{MODEL}/2013.parquet"},
        }
    ]
