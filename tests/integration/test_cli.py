"""`retrainer validate` and `retrainer drift`: JSON out, exit codes a script can rely on."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from retrainer.cli import app
from tests.conftest import make_config_dir

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def setup(tmp_path_factory, rainfall_periods):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("cli")
    config_dir = make_config_dir(root)
    files = {}
    for index in (0, 1, 7):
        files[index] = root / f"p{index}.parquet"
        rainfall_periods[index].to_parquet(files[index], index=False)
    bad = root / "bad.csv"
    rainfall_periods[1].drop(columns=["dew_point"]).to_csv(bad, index=False)
    empty = root / "empty.csv"
    empty.write_bytes(b"")
    return {"config": str(config_dir), "files": files, "bad": bad, "empty": empty}


def _run(setup, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [*args, "--config-dir", setup["config"]])


def test_validate_exit_codes_and_json(setup) -> None:  # type: ignore[no-untyped-def]
    ok = _run(setup, "validate", "rainfall", str(setup["files"][1]))
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["outcome"] == "accepted"

    blocked = _run(setup, "validate", "rainfall", str(setup["bad"]))
    assert blocked.exit_code == 1
    report = json.loads(blocked.stdout)
    assert report["outcome"] == "blocked"
    assert report["failed_checks"][0]["check"] == "columns"
    assert "dew_point" in report["failed_checks"][0]["detail"]

    unreadable = _run(setup, "validate", "rainfall", str(setup["empty"]))
    assert unreadable.exit_code == 2 and "empty (0 bytes)" in unreadable.output
    missing_model = _run(setup, "validate", "nomodel", str(setup["files"][1]))
    assert missing_model.exit_code == 2 and "not found" in missing_model.output


def test_drift_against_a_reference_file(setup) -> None:  # type: ignore[no-untyped-def]
    reference = str(setup["files"][0])
    quiet = _run(setup, "drift", "rainfall", str(setup["files"][1]), "--reference", reference)
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(quiet.stdout)["drift"] is False

    drifted = _run(setup, "drift", "rainfall", str(setup["files"][7]), "--reference", reference)
    assert drifted.exit_code == 1
    result = json.loads(drifted.stdout)
    assert result["features"][0]["feature"] == "dew_point"

    assert (
        _run(setup, "drift", "rainfall", str(setup["empty"]), "--reference", reference).exit_code
        == 2
    )
    no_champion = _run(setup, "drift", "rainfall", str(setup["files"][1]))
    assert no_champion.exit_code == 2 and "has no champion" in no_champion.output


def test_land_keeps_originals_and_checks_ids_and_model_names(setup) -> None:  # type: ignore[no-untyped-def]
    first, second = str(setup["files"][0]), str(setup["files"][1])
    landed = _run(setup, "land", "rainfall", first, "--batch-id", "cli0", "--no-notify")
    assert landed.exit_code == 0, landed.output
    again = _run(setup, "land", "rainfall", second, "--batch-id", "cli0", "--no-notify")
    assert again.exit_code == 2
    assert "incoming/rainfall/cli0.parquet" in again.output and "new batch id" in again.output

    newline = _run(setup, "land", "rainfall", first, "--batch-id", "cli1\n", "--no-notify")
    assert newline.exit_code == 2 and "is not valid" in newline.output
    reserved = _run(setup, "land", "rainfall", first, "--batch-id", "labels-cli0", "--no-notify")
    assert reserved.exit_code == 2 and "reserved" in reserved.output
    for name in ("../rainfall", "rainfall\n"):
        bad = _run(setup, "land", name, first, "--no-notify")
        assert bad.exit_code == 2 and "model name" in bad.output, bad.output
        assert _run(setup, "status", name).exit_code == 2
        assert _run(setup, "history", name).exit_code == 2


def test_land_and_validate_refuse_a_file_over_the_size_limit(tmp_path, rainfall_periods) -> None:  # type: ignore[no-untyped-def]
    config_dir = make_config_dir(
        tmp_path, overrides={"rainfall": {"validation": {"max_batch_bytes": 1024}}}
    )
    batch = tmp_path / "p1.parquet"
    rainfall_periods[1].to_parquet(batch, index=False)
    size = batch.stat().st_size
    assert size > 1024

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, [*args, "--config-dir", str(config_dir)])

    for command in ("land", "land-labels"):
        refused = run(command, "rainfall", str(batch), "--no-notify")
        assert refused.exit_code == 2, refused.output
        assert str(batch) in refused.output and f"{size:,} bytes" in refused.output
        assert "validation.max_batch_bytes = 1,024 bytes" in refused.output
    lake = tmp_path / "home" / "lake"
    assert not lake.exists() or not [p for p in lake.rglob("*") if p.is_file()]

    checked = run("validate", "rainfall", str(batch))
    assert checked.exit_code == 1, checked.output
    report = json.loads(checked.stdout)
    assert report["outcome"] == "blocked" and report["rows"] == 0
    assert [c["check"] for c in report["failed_checks"]] == ["batch_size"]
    assert report["failed_checks"][0]["severity"] == "block"


def test_check_judges_the_trigger_against_the_champions_own_metric(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry import connect
    from retrainer.registry.tags import CHAMPION
    from retrainer.settings import load_settings

    config_dir = make_config_dir(tmp_path)
    offline = CliRunner().invoke(app, ["check", "rainfall", "--config-dir", str(config_dir)])
    assert offline.exit_code == 0, offline.output
    assert "no champion yet" in offline.output
    # A champion whose own holdout AUC (0.64) is under the trigger's floor (0.65).
    client = connect(load_settings(config_dir))
    client.create_registered_model("rainfall")
    version = client.create_model_version(
        "rainfall",
        source=str(tmp_path / "model"),
        tags={"retrainer.holdout_roc_auc": "0.64", "retrainer.holdout_chance_roc_auc": "0.5"},
    ).version
    client.set_registered_model_alias("rainfall", CHAMPION, version)
    found = CliRunner().invoke(
        app, ["check", "rainfall", "--json", "--config-dir", str(config_dir)]
    )
    assert found.exit_code == 1, found.output
    findings = json.loads(found.stdout)["findings"]
    assert [f["field"] for f in findings] == ["trigger.min_value"]
    assert "0.6400" in findings[0]["problem"] and "retrains for ever" in findings[0]["problem"]


def test_check_names_a_searched_parameter_the_model_cannot_set(tmp_path) -> None:  # type: ignore[no-untyped-def]
    search = {"space": {"model__max_iters": [50, 100], "model__learning_rate": [0.1]}}
    config_dir = make_config_dir(tmp_path, overrides={"rainfall": {"training": {"search": search}}})
    result = CliRunner().invoke(
        app, ["check", "rainfall", "--offline", "--config-dir", str(config_dir)]
    )
    assert result.exit_code == 2, result.output
    assert "rainfall.yaml: training.search.space names ['model__max_iters']" in result.output
    assert "valid names:" in result.output and "model__max_iter," in result.output
