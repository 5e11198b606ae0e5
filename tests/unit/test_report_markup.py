"""Markup in data stays text: Data Docs, drift report and served reports run nothing.

A column name and a category value carry ``<img src=x onerror=...>``; the quarantined
batch's Data Docs page must hold no element or attribute that runs or fetches anything,
and the plugin must serve it under a sandboxing Content-Security-Policy.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from retrainer.config import ModelConfig, load_model_config
from retrainer.errors import ValidationFailed
from retrainer.storage import LocalStorage

pytestmark = pytest.mark.unit

PAYLOAD = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
BATCH = "xss1"


def quarantine_markup_batch(storage: LocalStorage, rainfall_yaml: Path) -> str:
    """Validate a batch whose column name and category carry markup; its Data Docs key."""
    from retrainer.validation import build_suite_spec, validate_batch

    config = ModelConfig.model_validate(
        load_model_config(rainfall_yaml).model_dump()
        | {
            "numeric_features": ["x"],
            "categorical_features": ["kind"],
            "data": {"time_column": None},
            "evaluation": {},
            "gate": {"metric": "roc_auc", "min_value": 0.6},
        }
    )
    reference = pd.DataFrame({"x": np.arange(100.0), "kind": ["a", "b"] * 50, "rain": [0, 1] * 50})
    spec = build_suite_spec(reference, config)
    batch = reference.assign(kind=["a", "b", PAYLOAD, "a"] * 25, **{PAYLOAD + SCRIPT: 1.0})
    key = f"incoming/{config.name}/{BATCH}.csv"
    storage.write_bytes(key, batch.to_csv(index=False).encode())
    with pytest.raises(ValidationFailed) as err:
        validate_batch(storage, config, BATCH, key, spec)
    docs = err.value.evidence["data_docs_key"]
    assert docs == f"quarantine/{config.name}/{BATCH}/data_docs.html"
    return str(docs)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def executable_markup(page: str) -> list[str]:
    """Every element or attribute of ``page`` that could run code or fetch something."""
    parser = _Tags()
    parser.feed(page)
    found = []
    for tag, attrs in parser.tags:
        if tag in {"script", "img", "link", "iframe", "object", "embed", "form", "base"}:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"src", "srcset", "action", "formaction"}:
                found.append(f"<{tag} {name}>")
            if name == "href" and not (value or "").startswith("#"):
                found.append(f"<{tag} href={value}>")
    return found


@pytest.fixture
def docs_page(tmp_path: Path, repo_root: Path) -> str:
    storage = LocalStorage(tmp_path)
    key = quarantine_markup_batch(storage, repo_root / "config/models/rainfall.yaml")
    return storage.read_bytes(key).decode()


def test_data_docs_of_a_batch_with_markup_in_names_and_values_is_inert(docs_page: str) -> None:
    assert executable_markup(docs_page) == []
    assert re.search(r"<(script|img|link)\b", docs_page, re.IGNORECASE) is None
    # The markup is still there, as text: in GX's part too, not only in our banner.
    gx_part = docs_page[docs_page.index("</pre></div>") :]
    assert "&lt;img src=x onerror=" in gx_part and "Expectation Validation Result" in gx_part


def test_served_reports_are_sandboxed_and_api_docs_are_off(
    tmp_path: Path, repo_root: Path, monkeypatch: Any
) -> None:
    from tests.unit.test_status import write_lake
    from tests.unit.test_views import _client

    config_dir, storage = write_lake(tmp_path)
    docs = quarantine_markup_batch(storage, repo_root / "config/models/rainfall.yaml")
    http = _client(config_dir, monkeypatch)

    for path in (
        f"/{docs}",
        "/reports/rainfall/b3/drift.html",
        "/reports/rainfall/b2/monitor.json",
    ):
        served = http.get(path)
        assert served.status_code == 200, path
        csp = [d.strip() for d in served.headers["content-security-policy"].split(";")]
        assert "sandbox" in csp and "default-src 'none'" in csp
        assert "style-src 'unsafe-inline'" in csp and "img-src data:" in csp
        assert not any("allow-scripts" in d or "allow-same-origin" in d for d in csp)
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["referrer-policy"] == "no-referrer"
    assert executable_markup(http.get(f"/{docs}").text) == []
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert http.get(path).status_code == 404, path


def test_drift_report_escapes_feature_names_and_categories() -> None:
    from retrainer.config import DriftConfig
    from retrainer.drift import build_reference_profile, detect_drift, profile_batch, render_html

    name = PAYLOAD + SCRIPT
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({name: rng.normal(0, 1, 500), "c": ["a", "b"] * 250})
    reference = build_reference_profile(ref, [name], ["c"])
    batch = pd.DataFrame({name: rng.normal(3, 1, 500), "c": [PAYLOAD] * 500})
    current = profile_batch(batch, reference)
    result = detect_drift(reference, current, DriftConfig())
    page = render_html(result, reference, current, title=name)
    assert {f.feature for f in result.drifted_features} == {name, "c"}
    assert executable_markup(page) == [] and "&lt;img src=x" in page
