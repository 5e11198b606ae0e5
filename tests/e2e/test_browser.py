"""What a person does in the Airflow UI and the MLflow UI, driven in a real browser.

One stack for the module (Airflow api-server, scheduler, dag-processor and triggerer on
SQLite; an ``mlflow server`` over the same store) and one browser (Debian's chromium,
through Playwright). The tests run in order and build on each other, like a person's
session: log in, trigger a retrain from its form and approve it in Airflow, approve another
model's challenger by its MLflow tag, look at the registry and the Models page, roll back.

Screenshots go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
SHOTS = REPO / "test-artifacts" / "e2e"
AUTO, HITL, TAG = "e2e_auto", "e2e_hitl", "e2e_tag"
# A shared 2-core machine: a task process can take a minute to start under load.
RUN_TIMEOUT = 900

if not Path(CHROMIUM).exists():
    reason = f"{CHROMIUM} is missing: install it with scripts/system-deps.sh (Debian chromium)"
    if os.environ.get("CI") == "true":
        raise RuntimeError(reason)  # CI must run the browser tests, not skip them
    pytest.skip(reason, allow_module_level=True)


def _accept(stack: Any, model: str, path: Path, batch_id: str) -> None:
    """Put a batch where the retrain looks for it, as the monitor's validate task does.

    Done in the test process to spare the shared machine two monitor DAG runs: the
    monitor's own path through the scheduler is tested in test_scheduler.py.
    """
    from retrainer.config import load_model_config
    from retrainer.lake import accept_batch, land_file
    from retrainer.validation import load_suite_spec, validate_batch

    config = load_model_config(stack.config_dir / "models" / f"{model}.yaml")
    key = land_file(stack.storage, model, path, batch_id)
    outcome = validate_batch(stack.storage, config, batch_id, key, load_suite_spec(config, None))
    assert outcome.status == "accepted", outcome.to_dict()
    accept_batch(stack.storage, config, batch_id, outcome.batch_key)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, rainfall_periods) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from tests.e2e.browser_stack import start_stack

    root = tmp_path_factory.mktemp("browser")
    data = root / "data"
    data.mkdir()
    rainfall_periods[0].to_parquet(data / "p0.parquet", index=False)
    stack = start_stack(root)
    try:
        for model in (AUTO, HITL, TAG):
            _accept(stack, model, data / "p0.parquet", "p0")
            for kind in ("retrain", "rollback"):
                stack.api.unpause(f"{model}_{kind}")
        # Runs that go on while the browser does other things: the MLflow-approval model's
        # challenger will be waiting, and the auto model gets two champions to roll back.
        stack.api.trigger(f"{TAG}_retrain", {"reason": "challenger to approve in MLflow"})
        stack.api.trigger(f"{AUTO}_retrain", {"reason": "first champion"})
        stack.api.trigger(f"{AUTO}_retrain", {"reason": "second champion", "force": True})
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def page(stack) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    profile = stack.root / "chromium-profile"  # a fresh user-data dir
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        context.set_default_timeout(60_000)
        try:
            yield context.new_page()
        finally:
            context.close()


def _shot(page: Any, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _wait_for_task(api: Any, dag_id: str, run_id: str, task_id: str, states: set[str]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    state = None
    while time.monotonic() < deadline:
        tis = {t["task_id"]: t["state"] for t in api.task_instances(dag_id, run_id)}
        state = tis.get(task_id)
        if state in states:
            return
        if state in {"failed", "upstream_failed"}:
            break
        time.sleep(2)
    raise AssertionError(f"{dag_id}.{task_id} in {run_id} is {state}, expected one of {states}")


def _trigger_from_form(page: Any, stack: Any, dag_id: str, fields: dict[str, str]) -> str:
    """Open the DAG, fill its Params form, trigger; return the new run id."""
    known = {r["dag_run_id"] for r in stack.api.runs(dag_id)}
    page.goto(f"{stack.airflow_url}/dags/{dag_id}")
    page.locator("[data-testid=trigger-dag-button]").click()
    for name, value in fields.items():
        page.locator(f"[name=element_{name}]").fill(value)
    _shot(page, f"{dag_id}-form")
    page.locator("[data-testid=trigger-dag-submit]").click()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = [r["dag_run_id"] for r in stack.api.runs(dag_id) if r["dag_run_id"] not in known]
        if new:
            return str(new[-1])
        time.sleep(1)
    raise AssertionError(f"submitting the form of {dag_id} started no run")


def test_log_in_to_the_airflow_ui(page, stack) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{stack.airflow_url}/auth/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.get_by_role("link", name="Models").wait_for()
    _shot(page, "airflow-home")


def test_trigger_retrain_from_its_form_and_approve_it_in_airflow(page, stack) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry import champion_version

    dag_id = f"{HITL}_retrain"
    run_id = _trigger_from_form(page, stack, dag_id, {"reason": "first champion, from the form"})
    _wait_for_task(stack.api, dag_id, run_id, "approve", {"awaiting_input"})
    # Airflow 3.3 race: if the answer resumes the task before the scheduler has processed
    # the executor's "success" event of the deferring process, it marks the resumed task
    # failed ("finished with state success, but the task instance's state attribute is
    # queued"). Seen with a 35 s scheduler lag on a loaded 2-core machine; a person reads
    # the question first, so give the scheduler that time.
    time.sleep(20)

    # The approval as a person answers it: the task's page shows the question and buttons.
    page.goto(f"{stack.airflow_url}/dags/{dag_id}/runs/{run_id}/tasks/approve/required_actions")
    page.get_by_text("challenger to champion?").first.wait_for()
    _shot(page, "airflow-hitl-question")
    page.get_by_test_id("hitl-option-Approve").click()
    page.get_by_text("Response received").first.wait_for()
    _shot(page, "airflow-hitl-answered")

    run = stack.api.wait_run(dag_id, run_id, RUN_TIMEOUT)
    assert run["state"] == "success"
    page.goto(f"{stack.airflow_url}/dags/{dag_id}/runs/{run_id}")
    page.get_by_text("promote").first.wait_for()
    _shot(page, "airflow-retrain-run")
    links = stack.api.task_links(dag_id, run_id, "train_challenger")
    assert links["MLflow run"] and links["MLflow run"].startswith(stack.mlflow_url + "/#/exp")
    assert links["Model version"] == f"{stack.mlflow_url}/#/models/{HITL}/versions/1"
    champion = champion_version(stack.client, HITL)
    assert champion is not None and champion.tags["retrainer.approval.by"] == "admin"
    assert champion.tags["retrainer.reason"] == "first champion, from the form"


def test_approve_a_waiting_challenger_by_its_mlflow_tag(page, stack) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry import champion_version

    dag_id = f"{TAG}_retrain"
    run_id = stack.api.runs(dag_id)[-1]["dag_run_id"]
    _wait_for_task(stack.api, dag_id, run_id, "wait_for_approval", {"up_for_reschedule", "running"})
    page.goto(f"{stack.mlflow_url}/#/models/{TAG}/versions/1")
    _close_mlflow_popup(page)
    _edit_mlflow_tag(page, "approval", "approved")
    _shot(page, "mlflow-tag-approved")

    run = stack.api.wait_run(dag_id, run_id, RUN_TIMEOUT)
    assert run["state"] == "success"
    champion = champion_version(stack.client, TAG)
    assert champion is not None and str(champion.version) == "1"
    assert champion.tags["approval"] == "approved"


def test_mlflow_ui_shows_the_champion_alias_and_gate_tags(page, stack) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{stack.mlflow_url}/#/models/{HITL}/versions/1")
    _close_mlflow_popup(page)
    page.get_by_text("@ champion").first.wait_for()
    decision = page.locator("tr").filter(has=page.get_by_text("retrainer.gate.decision"))
    decision.get_by_text("promote", exact=True).wait_for()
    page.get_by_text("retrainer.gate.reason", exact=True).wait_for()
    # The tags table scrolls inside the page: bring the gate's rows into the picture.
    decision.scroll_into_view_if_needed()
    _shot(page, "mlflow-champion-gate-tags")


def test_models_page_lists_each_model(page, stack) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{stack.airflow_url}/")
    page.get_by_role("link", name="Models").click()
    frame = page.frame_locator("iframe")
    for model in (AUTO, HITL, TAG):
        row = frame.locator(f"tr[data-model={model}]")
        row.wait_for(timeout=120_000)  # the first request imports MLflow in the API server
        if model != AUTO:  # whose retrains may still be running
            assert "v1" in row.inner_text(), row.inner_text()
    _shot(page, "airflow-models-page")


def test_a_models_decision_timeline_is_one_click_from_the_models_page(
    page, stack, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    from retrainer.config import load_model_config
    from retrainer.monitoring import check_batch
    from retrainer.monitoring.performance import assess_batch
    from retrainer.monitoring.signals import decide_batch
    from retrainer.settings import load_settings

    # Two monitored batches of the HITL model's champion (v1, approved above), checked in
    # the test process as the monitor's tasks would: the period before the break and after.
    settings = load_settings(stack.config_dir)
    config = load_model_config(stack.config_dir / "models" / f"{HITL}.yaml")
    for index in (1, 7):
        path = stack.root / f"p{index}.parquet"
        rainfall_periods[index].to_parquet(path, index=False)
        _accept(stack, HITL, path, f"p{index}")
        check_batch(stack.client, stack.storage, settings, config, f"p{index}")
        assess_batch(stack.client, stack.storage, settings, config, f"p{index}")
        decide_batch(stack.client, stack.storage, config, f"p{index}")
    page.goto(f"{stack.airflow_url}/")
    page.get_by_role("link", name="Models").click()
    frame = page.frame_locator("iframe")
    row = frame.locator(f"tr[data-model={HITL}]")
    row.wait_for(timeout=120_000)
    row.locator("a.timeline").click()
    picture = frame.locator("#timeline svg")
    picture.wait_for(timeout=60_000)
    box = picture.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    assert HITL in frame.locator("h2").inner_text()
    # Batch ids are drawn as glyphs; matplotlib names each text in an SVG comment.
    svg = frame.locator("#timeline").inner_html()
    assert "p1" in svg and "p7" in svg and "drift score" in svg
    _shot(page, "airflow-model-timeline")


# A script that, run with the viewer's Airflow session, would create a variable and set a
# flag: the stored-XSS attack on a report page served from the Airflow origin.
_XSS_PROBE = "xss_probe"
_HOSTILE_PAGE = f"""<!doctype html><body><p>raw</p>
<img src=x onerror="window.__xss=1">
<script>window.__xss = 2;
fetch('/api/v2/variables', {{method: 'POST', credentials: 'include',
  headers: {{'Content-Type': 'application/json'}},
  body: JSON.stringify({{key: '{_XSS_PROBE}', value: 'pwned'}})}})
  .then(r => {{ window.__xss = r.status; }});
</script></body>"""


def test_a_hostile_report_cannot_use_the_viewers_session(page, stack) -> None:  # type: ignore[no-untyped-def]
    """Markup in the lake (an unsanitised page, as an older version or a hand wrote it) is
    opened by a logged-in user through the Airflow API server: nothing runs, and the
    Airflow API sees no request made with their cookie."""
    from retrainer.dev.airflow_api import AirflowAPIError

    # The control: from an Airflow page, the session cookie alone does create a variable,
    # so the probe below is a working detector.
    page.goto(f"{stack.airflow_url}/")
    status = page.evaluate(
        """() => fetch('/api/v2/variables', {method: 'POST', credentials: 'include',
             headers: {'Content-Type': 'application/json'},
             body: JSON.stringify({key: 'xss_control', value: '1'})}).then(r => r.status)"""
    )
    assert status == 201, status
    stack.api._request("DELETE", "/api/v2/variables/xss_control")

    key = f"quarantine/{AUTO}/xss-raw/data_docs.html"
    stack.storage.write_bytes(key, _HOSTILE_PAGE.encode())
    response = page.goto(f"{stack.airflow_url}/retrainer/{key}", wait_until="load")
    assert response is not None and response.status == 200
    assert "sandbox" in response.headers["content-security-policy"]
    page.wait_for_timeout(1500)  # time for the image error and the fetch
    assert page.evaluate("() => window.__xss") is None
    assert page.inner_text("body").strip() == "raw"
    _shot(page, "hostile-report-inert")
    with pytest.raises(AirflowAPIError) as missing:
        stack.api._request("GET", f"/api/v2/variables/{_XSS_PROBE}")
    assert missing.value.status == 404


def test_roll_back_from_its_form(page, stack) -> None:  # type: ignore[no-untyped-def]
    from retrainer.registry import champion_version

    # Two champions to roll back between: the auto model's runs started with the stack.
    for run in stack.api.runs(f"{AUTO}_retrain"):
        assert stack.api.wait_run(f"{AUTO}_retrain", run["dag_run_id"], RUN_TIMEOUT)["state"] == (
            "success"
        )
    assert str(champion_version(stack.client, AUTO).version) == "2"

    rollback = f"{AUTO}_rollback"
    run_id = _trigger_from_form(page, stack, rollback, {"reason": "v2 misbehaves in production"})
    assert stack.api.wait_run(rollback, run_id, RUN_TIMEOUT)["state"] == "success"
    page.goto(f"{stack.airflow_url}/dags/{rollback}/runs/{run_id}")
    page.get_by_text("rollback").first.wait_for()
    _shot(page, "airflow-rollback-run")
    champion = champion_version(stack.client, AUTO)
    assert str(champion.version) == "1"


def _close_mlflow_popup(page: Any) -> None:
    """The MLflow UI opens its assistant panel in a new browser: close it (it hides tags)."""
    page.get_by_text("Tags").first.wait_for()
    close = page.get_by_role("button", name="Close")
    if close.count():
        close.first.click()


def _edit_mlflow_tag(page: Any, key: str, value: str) -> None:
    """Edit an existing version tag in place, as a person does (pencil, type, Save)."""
    row = page.locator("tr").filter(has=page.get_by_text(key, exact=True))
    row.get_by_test_id("editable-table-button-edit").click()
    field = row.locator("input, textarea").first
    field.fill(value)
    row.get_by_test_id("editable-table-button-save").click()
    row.get_by_text(value, exact=True).wait_for()
