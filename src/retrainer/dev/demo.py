"""The demo story on the NOAA rainfall data, driven through a real Airflow scheduler.

A first champion is trained on 1949-1953; then each following five-year period lands as a
batch. The scheduler runs ``rainfall_monitor`` on each landing (an Asset event); when its
trigger policy decides to retrain (``reports/<m>/<batch>/trigger.json``), the decay or
drift Asset it emits makes the scheduler start ``rainfall_retrain``: the demo only lands
data and watches. It ends with one ``rainfall_rollback`` run and prints a timeline.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrainer.dev.airflow_api import AirflowAPI, AirflowAPIError, notify_landing
from retrainer.dev.local_stack import LocalStack, airflow_env, free_port, stop_pidfiles
from retrainer.lake import keys
from retrainer.settings import Settings

__all__ = ["DemoRow", "land_and_notify", "new_run", "run_demo", "wait_new_run"]

MODEL = "rainfall"
N_PERIODS = 10
# After this period a broken export lands (the dew point column is missing): validation
# must block it, keep it in quarantine with its Data Docs, and leave the champion alone.
BAD_AFTER_PERIOD = 3


@dataclass
class DemoRow:
    period: int
    batch_id: str
    years: str
    drift: str
    champion_auc: float | None
    action: str
    champion_version: str


def _say(message: str) -> None:
    print(message, flush=True)


def land_and_notify(
    api: AirflowAPI | None, storage: Any, model: str, path: Path, batch_id: str
) -> str:
    """Land a file in the lake and tell Airflow with an ``incoming`` Asset event."""
    from retrainer.lake import land_file

    key = land_file(storage, model, path, batch_id)
    if api is not None:
        notify_landing(api, model, batch_id, key)
    return key


def new_run(api: AirflowAPI, dag_id: str, known: int, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.runs(dag_id)
        if len(runs) > known:
            return runs[-1]
        time.sleep(1)
    return None


def wait_new_run(
    api: AirflowAPI, dag_id: str, known: int, timeout: float = 600, appear: float = 90
) -> dict[str, Any]:
    run = new_run(api, dag_id, known, appear)
    if run is None:
        raise AirflowAPIError(f"no new run of {dag_id} appeared within {appear:.0f} s")
    return api.wait_run(dag_id, run["dag_run_id"], timeout)


def _prepare_periods(data_dir: Path) -> list[tuple[str, str, Path]]:
    from retrainer.datasets import load_rainfall, split_periods

    data_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for frame in split_periods(load_rainfall(), N_PERIODS):
        start, end = frame["date"].min(), frame["date"].max()
        batch_id = f"{start:%Y%m%d}-{end:%Y%m%d}"
        path = data_dir / f"{batch_id}.parquet"
        frame.to_parquet(path, index=False)
        out.append((batch_id, f"{start:%Y}-{end:%Y}", path))
    return out


def _land_bad_batch(
    api: AirflowAPI, storage: Any, client: Any, period: tuple[str, str, Path]
) -> DemoRow:
    """Land a copy of a period without its dew-point column and watch the monitor block it."""
    import pandas as pd

    from retrainer.registry import champion_version

    batch_id, years, path = period
    bad_id = f"{batch_id}-broken-export"
    bad_path = path.with_name(f"{bad_id}.csv")
    pd.read_parquet(path).drop(columns=["dew_point"]).to_csv(bad_path, index=False)
    known = len(api.runs(f"{MODEL}_monitor"))
    land_and_notify(api, storage, MODEL, bad_path, bad_id)
    monitor = wait_new_run(api, f"{MODEL}_monitor", known)
    if monitor["state"] != "failed":
        raise AirflowAPIError(f"the broken batch {bad_id} was not blocked ({monitor['state']})")
    prefix = keys.quarantine(MODEL, bad_id)
    summary = storage.read_bytes(f"{prefix}/{keys.SUMMARY}").decode().strip().splitlines()[-1]
    champion = champion_version(client, MODEL)
    docs = storage.uri(f"{prefix}/{keys.DATA_DOCS}")
    _say(f"    blocked: {summary}\n    Data Docs: {docs}")
    return DemoRow(
        -1,
        bad_id,
        years,
        "BLOCKED: " + summary.removeprefix("blocking: "),
        None,
        "quarantined; champion untouched",
        f"v{champion.version}" if champion else "-",
    )


def _action(client: Any, known_versions: set[str]) -> tuple[str, set[str]]:
    """Describe what the retrain run did, from the registry's new version and its tags."""
    versions = {str(mv.version): mv for mv in client.search_model_versions(f"name = '{MODEL}'")}
    new = sorted(set(versions) - known_versions, key=int)
    if not new:
        return "retrain skipped", set(versions)
    mv = versions[new[-1]]
    from retrainer.registry.tags import GATE_CHALLENGER_VALUE, GATE_CHAMPION_VALUE, GATE_DECISION

    decision = mv.tags.get(GATE_DECISION, "?")
    value = mv.tags.get(GATE_CHALLENGER_VALUE, "")
    against = mv.tags.get(GATE_CHAMPION_VALUE, "")
    detail = f"AUC {float(value):.2f}" if value not in ("", "None") else ""
    if against not in ("", "None"):
        detail += f" vs {float(against):.2f}"
    verb = "promoted" if decision == "promote" else "rejected"
    return f"retrain: v{mv.version} {verb} ({detail})", set(versions)


def run_demo(
    settings: Settings, *, port: int | None = None, keep_running: bool = False
) -> list[DemoRow]:
    """Run the whole story and return the timeline rows."""
    from retrainer.registry import champion_version, connect, ensure_experiment
    from retrainer.storage import open_storage

    home = settings.home
    stop_pidfiles(home / "pids")
    for stale in ("lake", "mlflow.db", "mlartifacts", "airflow", "demo-data", "logs"):
        target = home / stale
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    started = time.monotonic()
    periods = _prepare_periods(home / "demo-data")
    storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
    client = connect(settings)
    ensure_experiment(client, MODEL, settings.mlflow_artifact_root)  # create the store once

    port = port or free_port()
    env = airflow_env(
        project_root=settings.project_root, home=home, port=port, config_dir=settings.config_dir
    )
    stack = LocalStack(home, env)
    _say(f"starting Airflow (SQLite, LocalExecutor) on http://127.0.0.1:{port} ...")
    stack.start_airflow()
    api = AirflowAPI(f"http://127.0.0.1:{port}", "admin", "admin")
    rows: list[DemoRow] = []
    try:
        api.wait_healthy(240)
        dag_ids = [f"{MODEL}_{k}" for k in ("monitor", "retrain", "rollback")]
        api.wait_for_dags(dag_ids, 240)
        for dag_id in dag_ids:
            api.unpause(dag_id)
        _say(f"Airflow ready after {time.monotonic() - started:.0f} s; landing period 0")
        versions: set[str] = set()
        for index, (batch_id, years, path) in enumerate(periods):
            if index == BAD_AFTER_PERIOD + 1:
                rows.append(_land_bad_batch(api, storage, client, periods[BAD_AFTER_PERIOD]))
                _say(_format_row(rows[-1]))
            stack.check_alive()
            known_monitor = len(api.runs(f"{MODEL}_monitor"))
            known_retrain = len(api.runs(f"{MODEL}_retrain"))
            land_and_notify(api, storage, MODEL, path, batch_id)
            monitor = wait_new_run(api, f"{MODEL}_monitor", known_monitor)
            if monitor["state"] != "success":
                raise AirflowAPIError(
                    f"monitor run for {batch_id} ended {monitor['state']}; "
                    f"see the Airflow UI or {home / 'airflow' / 'logs'}"
                )
            check = storage.read_json(keys.report(MODEL, batch_id, keys.MONITOR))
            # The monitor's trigger policy, not the drift verdict, decides about retraining.
            decided = storage.read_json(keys.report(MODEL, batch_id, keys.TRIGGER))
            if check["champion_version"] is None:
                drift = "(no champion)"
            elif check["drift"]:
                drift = "DRIFT: " + ", ".join(check["drifted_features"][:3])
            else:
                drift = f"ok (score {check['drift_score']:.2f})"
            if index == 0:
                run_id = api.trigger(f"{MODEL}_retrain", {"reason": "initial champion"})
                retrain = api.wait_run(f"{MODEL}_retrain", run_id)
            elif decided["decision"] == "retrain":
                retrain = wait_new_run(api, f"{MODEL}_retrain", known_retrain)
            else:
                retrain = None
            if retrain is not None and retrain["state"] != "success":
                raise AirflowAPIError(
                    f"retrain run {retrain['dag_run_id']} ended {retrain['state']}"
                )
            action = (
                f"suppressed: {decided['suppressed_by']}"
                if decided["decision"] == "suppressed"
                else f"none: {(decided['reasons'] or ['-'])[0]}"
            )
            if retrain is not None:
                action, versions = _action(client, versions)
                if decided.get("event"):
                    action = f"{decided['event']}: {action.removeprefix('retrain: ')}"
            champion = champion_version(client, MODEL)
            auc = check.get("realized", {}).get("roc_auc")
            row = DemoRow(
                index,
                batch_id,
                years,
                drift,
                auc,
                action,
                f"v{champion.version}" if champion else "-",
            )
            rows.append(row)
            _say(_format_row(row))
        champion = champion_version(client, MODEL)
        run_id = api.trigger(
            f"{MODEL}_rollback",
            {"reason": "demo: restore the previous champion", "target_version": None},
        )
        rollback = api.wait_run(f"{MODEL}_rollback", run_id)
        after = champion_version(client, MODEL)
        rows.append(
            DemoRow(
                N_PERIODS,
                "-",
                "-",
                "-",
                None,
                f"rollback run {rollback['state']}: v{champion.version if champion else '-'}"
                f" -> v{after.version if after else '-'}",
                f"v{after.version}" if after else "-",
            )
        )
        _say(_format_row(rows[-1]))
    finally:
        if not keep_running:
            stack.stop()
    _say(format_timeline(rows))
    _say(_where_to_look(settings, time.monotonic() - started))
    return rows


def _format_row(row: DemoRow) -> str:
    auc = f"{row.champion_auc:.2f}" if row.champion_auc is not None else "  - "
    period = "bad" if row.period < 0 else str(row.period)
    return (
        f"{period:>6}  {row.years:<9}  {row.drift:<42.42}  {auc:>5}  "
        f"{row.action:<44}  {row.champion_version}"
    )


def format_timeline(rows: list[DemoRow]) -> str:
    header = (
        f"{'period':>6}  {'years':<9}  {'drift verdict':<42}  {'AUC':>5}  {'action':<44}  champion"
    )
    return "\n".join(
        [
            "",
            "Timeline (AUC = the champion's AUC on the period, before any retrain)",
            header,
            "-" * len(header),
            *(_format_row(r) for r in rows),
        ]
    )


def _where_to_look(settings: Settings, seconds: float) -> str:
    return "\n".join(
        [
            "",
            f"Demo finished in {seconds / 60:.1f} min. Where to look:",
            "  make up          start the Airflow UI (http://127.0.0.1:8080, admin/admin)",
            "                   and the MLflow UI (http://127.0.0.1:5000) over this state;",
            "                   make down stops them",
            f"  lake             {settings.storage_root}",
            f"  drift reports    {settings.storage_root}/"
            + keys.report(MODEL, "<batch>", keys.DRIFT_HTML),
            f"  trigger records  {settings.storage_root}/"
            + keys.report(MODEL, "<batch>", keys.TRIGGER),
            f"  quarantine       {settings.storage_root}/{keys.quarantine(MODEL, '<batch>')}/"
            "data_docs.html (GX Data Docs), summary.txt",
            f"  MLflow store     {settings.mlflow_tracking_uri}",
            f"  history          retrainer history {MODEL}",
        ]
    )
