"""A quarantined batch's report whose data carries markup runs no script in a real browser.

The plugin's app (the one Airflow mounts under ``/retrainer``) is served by uvicorn on a
free loopback port, and Debian's chromium (through Playwright) opens the Data Docs page of
a batch whose column name and category value are ``<img src=x onerror="window.__xss=1">``.
Two layers are checked apart: the page retrainer writes is inert, and a page that is not
(written to the lake by hand, or by an older version) still runs nothing under the CSP.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.integration.conftest import _free_port
from tests.unit.test_report_markup import PAYLOAD, quarantine_markup_batch

pytestmark = pytest.mark.integration

if not Path(CHROMIUM).exists():
    reason = f"{CHROMIUM} is missing: install it with scripts/system-deps.sh (Debian chromium)"
    if os.environ.get("CI") == "true":
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)

RAW = "quarantine/rainfall/raw1/data_docs.html"


@pytest.fixture(scope="module")
def served(tmp_path_factory: Any, repo_root: Path) -> Iterator[tuple[str, str]]:
    """The plugin app on a loopback port over a lake with a markup batch and a raw page."""
    import uvicorn

    from retrainer.orchestration.views import _require_dag_reader, create_app
    from tests.unit.test_status import write_lake

    root = tmp_path_factory.mktemp("xss")
    config_dir, storage = write_lake(root)
    docs = quarantine_markup_batch(storage, repo_root / "config/models/rainfall.yaml")
    storage.write_bytes(RAW, f"<!doctype html><body><p>raw</p>{PAYLOAD}</body>".encode())
    previous = os.environ.get("RETRAINER_CONFIG_DIR")
    os.environ["RETRAINER_CONFIG_DIR"] = str(config_dir)
    try:
        app = create_app(config_dir)
    finally:
        if previous is None:
            os.environ.pop("RETRAINER_CONFIG_DIR", None)
        else:
            os.environ["RETRAINER_CONFIG_DIR"] = previous
    # Airflow's login check needs an Airflow API server; it is the e2e tests' subject.
    app.dependency_overrides[_require_dag_reader] = lambda: None
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", docs
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(30_000)
        try:
            yield context.new_page()
        finally:
            context.close()


def _flag_after_load(page: Any, url: str) -> Any:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    page.wait_for_timeout(500)  # an onerror fires after the failed image load
    return page.evaluate("() => window.__xss")


def test_the_payload_runs_where_nothing_stops_it(browser_page: Any) -> None:
    # The control: the flag is a working detector.
    browser_page.set_content(f"<body>{PAYLOAD}</body>")
    browser_page.wait_for_function("() => window.__xss === 1")


def test_quarantined_report_with_markup_runs_no_script(
    browser_page: Any, served: tuple[str, str]
) -> None:
    base, docs = served
    assert _flag_after_load(browser_page, f"{base}/{docs}") is None
    text = browser_page.inner_text("body")
    assert PAYLOAD in text  # shown as text, where the reader looks for it
    assert "Expectation Validation Result" in text


def test_unsanitised_markup_in_the_lake_is_stopped_by_the_csp(
    browser_page: Any, served: tuple[str, str]
) -> None:
    base, _ = served
    assert _flag_after_load(browser_page, f"{base}/{RAW}") is None
    assert browser_page.inner_text("body").strip() == "raw"
