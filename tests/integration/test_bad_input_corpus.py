"""Every kind of bad input, through the real monitor DAG and the CLI, ends in its named outcome.

One ``sensors`` model (id column, numeric and categorical features) gets a champion from
a clean batch; then each corpus file is landed and checked by ``sensors_monitor``
(``dag.test()`` against a real MLflow store) and by ``retrainer validate``. Nothing may
end in a bare traceback, and ``incoming/`` must still hold every original, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from retrainer.cli import app
from tests.corpus import BEFORE_PARSING, SENSORS_YAML, BadInput, build_corpus, sensors_frame

pytestmark = pytest.mark.integration

CORPUS = build_corpus()


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):  # type: ignore[no-untyped-def]
    # dag.test() parses the dags folder to serialize DAGs: point it at this config.
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("corpus")
        patch.setenv("RETRAINER_CONFIG_DIR", str(root / "config"))
        yield _world(root)


def _world(root: Path) -> dict[str, Any]:
    from retrainer.lake import land_file
    from retrainer.orchestration.dag_factory import build_dags
    from retrainer.registry import champion_version, connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    config_dir = root / "config"
    (config_dir / "models").mkdir(parents=True)
    (config_dir / "models" / "sensors.yaml").write_text(SENSORS_YAML)
    (config_dir / "retrainer.yaml").write_text(f"home: {root / 'home'}\n")
    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    dags = build_dags(config_dir)
    first = root / "first.parquet"
    sensors_frame(2_000, seed=0).to_parquet(first, index=False)
    land_file(storage, "sensors", first, "first")
    assert dags["sensors_monitor"].test(run_conf={"batch_id": "first"}).state == "success"
    assert dags["sensors_retrain"].test(run_conf={"reason": "corpus champion"}).state == "success"
    assert champion_version(connect(settings), "sensors") is not None
    files = root / "files"
    files.mkdir()
    return {"dags": dags, "storage": storage, "config": str(config_dir), "files": files}


def _write(world: dict[str, Any], case: BadInput) -> Path:
    path = world["files"] / case.filename
    path.write_bytes(case.data)
    return path


def _reason_found(case: BadInput, report: dict[str, Any], summary: str) -> bool:
    if ":" in case.reason:
        check, column = case.reason.split(":")
        return any(c["check"] == check and c["column"] == column for c in report["failed_checks"])
    return case.reason in {c["check"] for c in report["failed_checks"]} or case.reason in summary


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_monitor_dag_reaches_the_named_outcome(world, case: BadInput) -> None:  # type: ignore[no-untyped-def]
    from retrainer.lake import land_file

    storage = world["storage"]
    key = land_file(storage, "sensors", _write(world, case), case.batch_id)
    run = world["dags"]["sensors_monitor"].test(run_conf={"batch_id": case.batch_id})
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    quarantine = f"quarantine/sensors/{case.batch_id}"

    if case.outcome == "blocked":
        assert states["validate_batch"] == "failed", states
        assert states["check_batch"] == "upstream_failed"
        evidence = storage.read_json(f"{quarantine}/validation_result.json")["retrainer"]
        summary = storage.read_bytes(f"{quarantine}/summary.txt").decode()
        assert _reason_found(case, evidence, summary), summary
        assert len(summary) < 5_000, summary[:500]  # counts and a few names, never thousands
        assert storage.read_bytes(f"{quarantine}/{Path(key).name}") == case.data
        if case.reason not in BEFORE_PARSING:  # GX ran: its Data Docs page is there to open
            html = storage.read_bytes(f"{quarantine}/data_docs.html").decode()
            assert "<html" in html.lower() and "sensors" in html
        assert not storage.exists(f"batches/sensors/{case.batch_id}/data.parquet")
    else:
        assert states["validate_batch"] == "success", states
        accepted = storage.read_frame(f"batches/sensors/{case.batch_id}/data.parquet")
        if case.outcome == "accepted":
            assert not storage.list(f"{quarantine}/")
            assert len(accepted) == 400
        else:
            rows = storage.read_frame(f"{quarantine}/rows.parquet")
            assert rows["_retrainer_reasons"].str.contains(case.reason).all()
            assert len(rows) + len(accepted) == 400  # no row lost, none twice
            assert len(rows) <= 4
    # The original is never moved, changed or deleted.
    assert storage.read_bytes(key) == case.data


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_cli_validate_reaches_the_named_outcome(world, case: BadInput) -> None:  # type: ignore[no-untyped-def]
    path = _write(world, case)
    result = CliRunner().invoke(
        app, ["validate", "sensors", str(path), "--config-dir", world["config"]]
    )
    assert result.exit_code == case.cli_exit, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    payload = json.loads(result.stdout)
    if case.cli_exit == 2:
        assert payload["outcome"] == "unreadable" and case.filename in payload["error"]
        return
    assert payload["outcome"] == case.outcome
    summary = " ".join(payload.get("blocking", []))
    assert case.outcome == "accepted" or _reason_found(case, payload, summary), payload
    for check in payload["failed_checks"]:
        assert check["severity"] in {"block", "quarantine_rows", "warn"}
        assert all(len(str(e)) < 200 for e in check["examples"])  # a huge field stays short


def test_labels_are_validated_before_they_land(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    storage = world["storage"]
    labels = sensors_frame(300, seed=5, first_id=200_000)[["reading_id", "label"]]
    good = tmp_path / "good-labels.csv"
    labels.to_csv(good, index=False)
    bad = tmp_path / "bad-labels.csv"
    labels.assign(label=labels["label"].where(labels.index > 1, 3)).to_csv(bad, index=False)
    broken = tmp_path / "broken-labels.csv"
    labels.rename(columns={"label": "y"}).to_csv(broken, index=False)

    def land(path: Path) -> Any:
        return CliRunner().invoke(
            app, ["land-labels", "sensors", str(path), "--config-dir", world["config"]]
        )

    ok = land(good)
    assert ok.exit_code == 0, ok.output
    assert len(storage.read_frame("labels/sensors/good-labels.parquet")) == 300

    partly = land(bad)
    assert partly.exit_code == 1, partly.output
    assert json.loads(partly.stdout)["reasons"] == {"domain:label": 2}
    assert len(storage.read_frame("labels/sensors/bad-labels.parquet")) == 298
    rows = storage.read_frame("quarantine/sensors/labels-bad-labels/rows.parquet")
    assert rows["label"].tolist() == [3, 3]

    blocked = land(broken)
    assert blocked.exit_code == 1 and json.loads(blocked.stdout)["outcome"] == "blocked"
    assert not storage.exists("labels/sensors/broken-labels.parquet")
    for name in ("good-labels", "bad-labels", "broken-labels"):  # every original is kept
        assert storage.exists(f"incoming/sensors/labels/{name}.csv")
