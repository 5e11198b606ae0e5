"""The plugin's web app inside the Airflow API server: the "Models" page and lake reports.

Mounted by ``plugins/retrainer_plugin.py`` under ``/retrainer``:

- ``/retrainer/models``: every model of the config folder with its champion, last drift
  verdict, realized / estimated performance and last trigger decision (from
  :func:`retrainer.status.model_status`); shown in the Airflow UI's navigation.
- ``/retrainer/models.json``: the same for machines.
- ``/retrainer/reports/<model>/<batch>/<file>`` and ``/retrainer/quarantine/...``: drift
  reports and Data Docs from the lake, the targets of the tasks' extra links.

Airflow does not protect plugin apps: every route checks the caller's Airflow login (the
UI's session cookie or a bearer token) and its permission to read DAGs. FastAPI's own
``/docs``, ``/redoc`` and ``/openapi.json`` are off, as they would bypass that check.

The lake files are served from the Airflow origin, where a script would act with the
viewer's login; their content comes from data. So besides being rendered inert, they carry
a Content-Security-Policy that sandboxes them (no script, no same-origin access) and loads
nothing but inline styles and ``data:`` images.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

# FastAPI resolves the annotations of routes and dependencies at runtime, so these imports
# cannot hide under TYPE_CHECKING; the plugin imports this module lazily (LazyApp).
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from retrainer.lake import keys

if TYPE_CHECKING:
    from retrainer.status import ModelStatus

__all__ = ["create_app"]

log = logging.getLogger(__name__)

# The lake files a browser may fetch, by zone: reports and validation evidence only.
SERVED = {
    "reports": {
        keys.DRIFT_HTML: "text/html",
        keys.DRIFT_JSON: "application/json",
        keys.MONITOR: "application/json",
        keys.PERFORMANCE: "application/json",
        keys.TRIGGER: "application/json",
    },
    "quarantine": {
        keys.DATA_DOCS: "text/html",
        keys.SUMMARY: "text/plain",
        keys.VALIDATION_RESULT: "application/json",
    },
}
# Headers of every served lake file: the browser runs none of it and fetches nothing for it,
# whatever an escaping bug upstream let through.
REPORT_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The folder of a batch in each zone; the plugin's URLs are the lake keys themselves.
_FOLDERS = {"reports": keys.report_dir, "quarantine": keys.quarantine}


async def _require_dag_reader(request: Request) -> None:
    """Let in only callers logged in to Airflow and allowed to read DAGs."""
    # Imported on demand: cheap inside the API server, which has loaded them already.
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import HTTPException

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=token) if token else None
    user = await get_user(request, None, bearer)
    if not get_auth_manager().is_authorized_dag(method="GET", user=user):
        raise HTTPException(status_code=403, detail="reading DAGs is not allowed for this user")


def _statuses(config_dir: Path) -> tuple[list[ModelStatus], list[str]]:
    """model_status() of every configured model; a model that fails is named, not fatal.

    So is a model file that does not load: the page shows its error, the others still work.
    """
    from retrainer.config import scan_model_configs
    from retrainer.errors import RetrainerError
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.status import model_status
    from retrainer.storage import open_storage

    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
    client = connect(settings)
    found = scan_model_configs(settings.models_dir)
    statuses, errors = [], [f"{b.name}: {b.error}" for b in found.broken]
    for config in found.configs:
        try:
            statuses.append(model_status(client, storage, config, last=10))
        except RetrainerError as exc:
            errors.append(f"{config.name}: {exc}")
    return statuses, errors


def _fmt(values: Any, metric: str) -> str:
    value = (values or {}).get(metric)
    return "-" if value is None else f"{value:.3f}"


def _row(status: ModelStatus, mlflow_ui: str) -> str:
    e = html.escape
    m = status.model
    q = quote(m)
    champion = status.champion
    if champion is None:
        champ = '<span class="muted">no champion yet</span>'
    else:
        champ = (
            f'<a target="_blank" href="{e(mlflow_ui)}/#/models/{q}/versions/{e(champion.version)}">'
            f"v{e(champion.version)}</a>"
            f'<div class="muted">{e(champion.event or "")} {e((champion.since or "")[:16])}'
            f"{' · trigger ' + e(champion.trigger) if champion.trigger else ''}</div>"
        )
    drift_cell = '<span class="muted">not checked</span>'
    last_drift = status.last_drift
    if last_drift is not None:
        verdict = "DRIFT" if last_drift.drift else "no drift"
        css = "bad" if last_drift.drift else "good"
        score = "" if last_drift.drift_score is None else f" ({last_drift.drift_score:.2f})"
        features = ", ".join(last_drift.drifted_features[:3])
        report = quote(keys.report(m, last_drift.batch_id, keys.DRIFT_HTML))
        drift_cell = (
            f'<span class="{css}">{verdict}{score}</span>'
            f'<div class="muted">batch {e(last_drift.batch_id)}'
            f"{' · ' + e(features) if features else ''} · "
            f'<a target="_blank" href="{report}">'
            "report</a></div>"
        )
    perf = [b for b in status.batches if b.realized or b.estimated]
    realized = " ".join(_fmt(b.realized, status.metric) for b in perf[-5:]) or "-"
    estimated = " ".join(_fmt(b.estimated, status.metric) for b in perf[-5:]) or "-"
    broken = any(b.estimate_broken for b in perf[-5:])
    decision = status.last_decision
    if decision is None:
        decision_cell = '<span class="muted">none yet</span>'
    else:
        what = decision.decision + (f" ({decision.event})" if decision.event else "")
        if decision.suppressed_by:
            what += f", suppressed by {decision.suppressed_by}"
        reasons = "".join(f"<li>{e(r)}</li>" for r in decision.reasons)
        decision_cell = (
            f"<b>{e(what)}</b>"
            f'<div class="muted">batch {e(decision.batch_id)} · {e(decision.decided_at or "")}'
            f"</div><ul>{reasons}</ul>"
        )
    dags = " · ".join(
        f'<a target="_top" href="../dags/{q}_{kind}">{kind}</a>'
        for kind in ("monitor", "retrain", "rollback")
    )
    return (
        f'<tr data-model="{e(m)}"><td><b>{e(m)}</b><div class="muted">{dags} · '
        f'<a class="timeline" href="models/{q}/timeline">timeline</a></div></td>'
        f"<td>{champ}</td><td>{drift_cell}</td>"
        f'<td class="num">{e(realized)}</td>'
        f'<td class="num">{e(estimated)}{" ⚠ estimate broken" if broken else ""}</td>'
        f"<td>{decision_cell}</td></tr>"
    )


TIMELINE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>retrainer: {model} timeline</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 1.5rem; }}</style></head><body>
<h2>{model}: decisions over time</h2>
<p>Realized and estimated metric per batch, the drift score (red: drift), retrains the
trigger asked for, and where <code>champion</code> moved (green: promotion, red: rollback).</p>
<div id="timeline">{svg}</div>
</body></html>"""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>retrainer: models</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a202c; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #e2e8f0; padding: .6rem .8rem; text-align: left;
  vertical-align: top; }}
th {{ background: #f7fafc; font-size: .85rem; text-transform: uppercase; color: #4a5568; }}
.muted {{ color: #718096; font-size: .85rem; margin-top: .2rem; }}
.num {{ font-family: ui-monospace, monospace; }}
.good {{ color: #2f855a; font-weight: 600; }} .bad {{ color: #c53030; font-weight: 600; }}
ul {{ margin: .3rem 0 0 1rem; padding: 0; font-size: .85rem; }}
a {{ color: #2b6cb0; }}
.error {{ color: #c53030; white-space: pre-wrap; }}
</style></head><body>
<h2>Models under retrainer's care</h2>
<p class="muted">Champion from the MLflow registry; drift, performance and trigger decisions
from the lake's per-batch records. Performance columns: {metric_note}, oldest to newest over
the last batches.</p>
<table id="models"><thead><tr><th>Model</th><th>Champion</th><th>Last drift verdict</th>
<th>Realized</th><th>Estimated</th><th>Last trigger decision</th></tr></thead>
<tbody>{rows}</tbody></table>
{errors}
</body></html>
"""


def create_app(default_config_dir: str | Path) -> FastAPI:
    """Build the app; the config folder is ``$RETRAINER_CONFIG_DIR`` or the default."""
    from retrainer.errors import ObjectNotFound
    from retrainer.settings import load_settings, resolve_config_dir
    from retrainer.storage import open_storage

    config_dir = resolve_config_dir(default_config_dir)
    app = FastAPI(
        title="retrainer",
        dependencies=[Depends(_require_dag_reader)],
        # The schema and docs routes skip app dependencies, so they would need no login.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.get("/models", response_class=HTMLResponse)
    def models_page() -> str:
        settings = load_settings(config_dir)
        statuses, errors = _statuses(config_dir)
        metrics = sorted({s.metric for s in statuses})
        rows = "".join(_row(s, settings.mlflow_ui_url) for s in statuses)
        problems = errors + [p for s in statuses for p in s.problems]
        return PAGE.format(
            rows=rows or '<tr><td colspan="6">no model configured</td></tr>',
            metric_note=html.escape(", ".join(metrics) or "the gate metric"),
            errors="".join(f'<p class="error">{html.escape(p)}</p>' for p in problems),
        )

    @app.get("/models/{model}/timeline", response_class=HTMLResponse)
    def timeline_page(model: str) -> Response:
        from retrainer.config import load_model_config, model_file
        from retrainer.errors import ConfigError
        from retrainer.registry import connect
        from retrainer.timeline import model_timeline

        settings = load_settings(config_dir)
        try:
            config = load_model_config(model_file(settings.models_dir, model))
        except ConfigError as exc:
            raise HTTPException(404, str(exc)) from None
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        svg = model_timeline(connect(settings), storage, config)
        # The SVG is matplotlib's (text escaped by its writer); the page adds only the title.
        body = svg[svg.index("<svg") :]
        page = TIMELINE_PAGE.format(model=html.escape(model), svg=body)
        return Response(page, media_type="text/html", headers=REPORT_HEADERS)

    @app.get("/models.json")
    def models_json() -> dict[str, Any]:
        statuses, errors = _statuses(config_dir)
        return {"models": [s.to_dict() for s in statuses], "errors": errors}

    def serve(zone: str, model: str, batch: str, name: str) -> Response:
        media = SERVED[zone].get(name)
        if media is None or any(p in {"", ".", ".."} or "/" in p for p in (model, batch)):
            raise HTTPException(
                404, f"{zone}/{model}/{batch}/{name} is not a report retrainer serves"
            )
        settings = load_settings(config_dir)
        if not (settings.models_dir / f"{model}.yaml").exists():
            raise HTTPException(404, f"no model {model!r} in {settings.models_dir}")
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        key = f"{_FOLDERS[zone](model, batch)}/{name}"
        try:
            return Response(storage.read_bytes(key), media_type=media, headers=REPORT_HEADERS)
        except ObjectNotFound:
            raise HTTPException(404, f"{storage.uri(key)} does not exist") from None

    @app.get("/" + keys.report("{model}", "{batch}", "{name}"))
    def report(model: str, batch: str, name: str) -> Response:
        return serve("reports", model, batch, name)

    @app.get("/" + keys.quarantine("{model}", "{batch}") + "/{name}")
    def quarantined(model: str, batch: str, name: str) -> Response:
        return serve("quarantine", model, batch, name)

    return app
