"""The plugin's web app: Models page rows and the lake reports it serves (no Airflow server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from retrainer.orchestration.links import lake_url, model_version_url
from retrainer.orchestration.views import _require_dag_reader, create_app
from retrainer.settings import load_settings
from tests.unit.test_status import FakeRegistry, write_lake


@pytest.fixture
def lake(tmp_path: Path):  # type: ignore[no-untyped-def]
    return write_lake(tmp_path)


def _client(config_dir: Path, monkeypatch) -> TestClient:  # type: ignore[no-untyped-def]
    import retrainer.registry

    monkeypatch.setenv("RETRAINER_CONFIG_DIR", str(config_dir))
    monkeypatch.setattr(
        retrainer.registry, "connect", lambda s: FakeRegistry("2", {"retrainer.trigger": "decay"})
    )
    app = create_app(config_dir)
    # Login and permissions are Airflow's (checked in the browser tests); stub them here.
    app.dependency_overrides[_require_dag_reader] = lambda: None
    return TestClient(app)


def test_models_page_lists_each_model_with_its_health(lake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config_dir, _ = lake
    http = _client(config_dir, monkeypatch)

    page = http.get("/models")
    assert page.status_code == 200
    text = page.text
    assert 'data-model="rainfall"' in text
    assert "/#/models/rainfall/versions/2" in text  # champion links to MLflow
    assert "no drift (0.05)" in text and "reports/rainfall/b3/drift.html" in text
    assert "0.700 0.520 0.700" in text  # realized, oldest to newest
    assert "estimate broken" in text
    assert "suppressed (decay), suppressed by cooldown" in text
    assert "cooldown: 1 of 3 batches" in text

    payload = http.get("/models.json").json()
    assert payload["models"][0]["champion"]["version"] == "2"


def test_reports_are_served_from_the_lake_and_nothing_else(lake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config_dir, storage = lake
    storage.write_bytes("quarantine/rainfall/b9/data_docs.html", b"<h1>docs</h1>")
    http = _client(config_dir, monkeypatch)

    drift = http.get("/reports/rainfall/b3/drift.html")
    assert drift.status_code == 200 and drift.headers["content-type"].startswith("text/html")
    assert http.get("/quarantine/rainfall/b9/data_docs.html").text == "<h1>docs</h1>"
    missing = http.get("/reports/rainfall/b1/drift.html")
    assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]
    assert http.get("/reports/rainfall/b3/data.parquet").status_code == 404
    assert http.get("/reports/nosuch/b3/drift.html").status_code == 404
    assert http.get("/reports/rainfall/%2E%2E/drift.html").status_code == 404


def test_link_urls_point_at_mlflow_and_the_plugin_app(lake) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(lake[0])
    assert model_version_url(settings, "rainfall", 3) == (
        "http://127.0.0.1:5000/#/models/rainfall/versions/3"
    )
    assert lake_url(settings, "reports/rainfall/b1/drift.html") == (
        "http://127.0.0.1:8080/retrainer/reports/rainfall/b1/drift.html"
    )


def test_a_broken_model_file_is_shown_and_the_other_models_still_work(lake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config_dir, _ = lake
    broken = config_dir / "models" / "broken.yaml"
    broken.write_text("name: broken\ntarget: {column: rain}\nnumeric_features: [x]\ngate: 3\n")
    # An unknown key is quoted in the error: it must reach the page escaped.
    (config_dir / "models" / "xss.yaml").write_text("'<img src=x onerror=alert(1)>': 1\n")
    http = _client(config_dir, monkeypatch)

    page = http.get("/models")
    assert page.status_code == 200
    assert 'data-model="rainfall"' in page.text  # the good model is unaffected
    assert f"broken: {broken}: invalid model config" in page.text
    assert "gate" in page.text.split("broken.yaml", 1)[1]
    assert "<img" not in page.text and "&lt;img src=x" in page.text

    payload = http.get("/models.json").json()
    assert [m["model"] for m in payload["models"]] == ["rainfall"]
    assert any(e.startswith("broken: ") and "gate" in e for e in payload["errors"])


def test_each_model_links_to_its_decision_timeline(lake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config_dir, _ = lake
    http = _client(config_dir, monkeypatch)
    assert 'href="models/rainfall/timeline"' in http.get("/models").text

    page = http.get("/models/rainfall/timeline")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    text = page.text
    assert "<svg" in text and "<script" not in text
    # Every batch is on the x axis; the metric and the drift score are drawn.
    for batch in ("b1", "b2", "b3"):
        assert f">{batch}<" in text or f"<!-- {batch} -->" in text
    assert "drift score" in text and "roc_auc" in text
    assert http.get("/models/nosuch/timeline").status_code == 404
