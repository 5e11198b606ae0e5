"""Where a DAG run's time goes on the embedded stack, per task, against a warm-process floor.

Starts the embedded stack (API server, scheduler, dag-processor, triggerer on SQLite with
the LocalExecutor, as ``make demo`` does) over a private config folder, lands the demo's
rainfall periods 0..N as batches through the REST API (Asset events), triggers the first
retrain by hand (period 0 has no champion yet) and waits for every run the scheduler
starts, as the demo does. Each task instance is split into

- queued: ``queued_when`` -> ``start_date`` (scheduler -> executor -> task process started),
- start-up: ``start_date`` -> the start of ``execute()`` plus the end of ``execute()`` ->
  ``end_date`` (DAG file parse, template rendering, XCom push, state report),
- work: ``execute()`` itself, from the task log's ``::endgroup::`` / ``Post Execute``
  markers (the imports a task does inside ``execute()`` count as work here),

and each DAG run's end-to-end time (``start_date`` -> ``end_date``; monitor runs also from
the landing). The **floor** is measured in the same run after the stack stops: the same
DAGs on the same batches with ``dag.test()`` in one process that imported everything
first (the operators' domain functions called in order, no scheduler, no task processes).

Prints a table; ``--out`` writes the raw task instances and the summary as JSON.
Usage: python benchmarks/dag_latency.py [--batches 3] [--rows 100000] [--out dag_latency.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MODEL = "rainfall"
N_PERIODS = 10  # the demo's split of the rainfall set


def _ts(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def _pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def write_config(root: Path) -> Path:
    """A config folder over the repo's rainfall model whose state lives in ``root/home``."""
    config_dir = root / "config"
    (config_dir / "models").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "models" / f"{MODEL}.yaml", config_dir / "models")
    (config_dir / "retrainer.yaml").write_text(f"home: {root / 'home'}\n")
    return config_dir


def upsample(frame: Any, rows: int) -> Any:
    """``frame`` stretched to ``rows`` rows: each day repeated in order, timestamps spread.

    The period's distribution and time order are kept (so drift and decay read as on the
    demo's batch) while every row gets its own timestamp inside the period, so the time
    column still orders the rows and still joins labels one to one.
    """
    import numpy as np
    import pandas as pd

    source = np.linspace(0, len(frame), num=rows, endpoint=False).astype(int)
    out = frame.iloc[source].reset_index(drop=True)
    first, last = frame["date"].min(), frame["date"].max() + pd.Timedelta(days=1)
    offsets = np.linspace(0, (last - first).value, num=rows, endpoint=False).astype("int64")
    out["date"] = first + pd.to_timedelta(offsets, unit="ns")
    return out


def write_batches(root: Path, count: int, rows: int | None = None) -> list[tuple[str, Path]]:
    """Periods 0..count as Parquet batches; with ``rows``, periods after 0 upsampled to it."""
    from retrainer.datasets import load_rainfall, split_periods

    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    out = []
    for index, frame in enumerate(split_periods(load_rainfall(), N_PERIODS)[: count + 1]):
        if rows and index > 0:  # period 0 trains the first champion at the demo's size
            frame = upsample(frame, rows)
        batch_id = f"{frame['date'].min():%Y%m%d}-{frame['date'].max():%Y%m%d}"
        path = data / f"{batch_id}.parquet"
        frame.to_parquet(path, index=False)
        out.append((batch_id, path))
    return out


def _execute_span(log_dir: Path, run: dict[str, Any], task_id: str) -> tuple[float, float] | None:
    """``execute()``'s start and end from the task log's markers (the last attempt)."""
    folder = log_dir / f"dag_id={run['dag_id']}" / f"run_id={run['dag_run_id']}"
    attempts = sorted((folder / f"task_id={task_id}").glob("attempt=*.log"))
    if not attempts:
        return None
    start = end = None
    for line in attempts[-1].read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "::endgroup::" and start is None:
            start = _ts(entry.get("timestamp"))
        elif entry.get("event") == "::group::Post Execute":
            end = _ts(entry.get("timestamp"))
    return (start, end) if start is not None and end is not None else None


def record_run(api: Any, log_dir: Path, run: dict[str, Any], landed: float | None) -> dict:
    tasks = []
    for ti in api.task_instances(run["dag_id"], run["dag_run_id"]):
        if ti["start_date"] is None:  # skipped without running
            continue
        span = _execute_span(log_dir, run, ti["task_id"])
        tasks.append(
            {
                "task_id": ti["task_id"],
                "state": ti["state"],
                "queued": _ts(ti["queued_when"]),
                "start": _ts(ti["start_date"]),
                "end": _ts(ti["end_date"]),
                "execute_start": span[0] if span else None,
                "execute_end": span[1] if span else None,
            }
        )
    return {
        "dag_id": run["dag_id"],
        "run_id": run["dag_run_id"],
        "state": run["state"],
        "start": _ts(run["start_date"]),
        "end": _ts(run["end_date"]),
        "landed": landed,
        "tasks": tasks,
    }


def run_stack(config_dir: Path, batches: list[tuple[str, Path]]) -> dict[str, Any]:
    """Land every batch on the embedded stack and record each run it starts."""
    from retrainer.dev.airflow_api import AirflowAPI
    from retrainer.dev.demo import land_and_notify, wait_new_run
    from retrainer.dev.local_stack import LocalStack, airflow_env, free_port
    from retrainer.lake import keys
    from retrainer.registry import connect, ensure_experiment
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    settings = load_settings(config_dir)
    storage = open_storage(settings.storage_root)
    ensure_experiment(connect(settings), MODEL, settings.mlflow_artifact_root)
    port = free_port()
    env = airflow_env(project_root=REPO, home=settings.home, port=port, config_dir=config_dir)
    stack = LocalStack(settings.home, env)
    log_dir = settings.home / "airflow" / "logs"
    started = time.monotonic()
    stack.start_airflow()
    api = AirflowAPI(f"http://127.0.0.1:{port}", "admin", "admin")
    runs: list[dict[str, Any]] = []
    monitor, retrain = f"{MODEL}_monitor", f"{MODEL}_retrain"
    try:
        api.wait_healthy(240)
        api.wait_for_dags([monitor, retrain], 240)
        for dag_id in (monitor, retrain):
            api.unpause(dag_id)
        ready = time.monotonic() - started
        for index, (batch_id, path) in enumerate(batches):
            stack.check_alive()
            known_monitor, known_retrain = len(api.runs(monitor)), len(api.runs(retrain))
            landed = time.time()
            land_and_notify(api, storage, MODEL, path, batch_id)
            run = wait_new_run(api, monitor, known_monitor)
            runs.append(record_run(api, log_dir, run, landed))
            _say(f"  {monitor} {batch_id}: {run['state']}")
            decided = storage.read_json(keys.report(MODEL, batch_id, keys.TRIGGER))
            if index == 0:
                run_id = api.trigger(retrain, {"reason": "benchmark: first champion"})
                run = api.wait_run(retrain, run_id)
            elif decided["decision"] == "retrain":
                run = wait_new_run(api, retrain, known_retrain)
            else:
                continue
            runs.append(record_run(api, log_dir, run, None))
            _say(f"  {retrain}: {run['state']}")
    finally:
        stack.stop()
    return {"stack_ready_s": ready, "runs": runs}


def run_floor(root: Path, config_dir: Path, batches: list[tuple[str, Path]]) -> dict[str, Any]:
    """The same DAGs with ``dag.test()`` in one warm process over its own Airflow database."""
    home = root / "floor-airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "RETRAINER_CONFIG_DIR": str(config_dir),
    }
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    out = root / "floor.json"
    ids = json.dumps([batch_id for batch_id, _ in batches])
    argv = [sys.executable, __file__, "--floor-worker", str(config_dir), ids, str(out)]
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return dict(json.loads(out.read_text()))


def floor_worker(config_dir: str, batch_ids: list[str], out: str) -> None:
    """Warm up (import everything, run once), then time each run's task instances."""
    from airflow.utils.session import create_session

    from retrainer.dev.warm import preload
    from retrainer.orchestration.dag_factory import build_dags

    preload()
    dags = build_dags(Path(config_dir))

    def timed(dag_id: str, conf: dict[str, Any]) -> dict[str, Any]:
        began = time.monotonic()
        run = dags[dag_id].test(run_conf=conf)
        seconds = time.monotonic() - began
        with create_session() as session:
            tis = run.get_task_instances(session=session)
            tasks = {
                ti.task_id: (ti.end_date - ti.start_date).total_seconds()
                for ti in tis
                if ti.start_date and ti.end_date
            }
        return {"dag_id": dag_id, "state": str(run.state), "seconds": seconds, "tasks": tasks}

    timed(f"{MODEL}_monitor", {"batch_id": batch_ids[0]})  # warm-up, not counted
    runs = [timed(f"{MODEL}_retrain", {"reason": "benchmark floor"})]
    runs += [timed(f"{MODEL}_monitor", {"batch_id": b}) for b in batch_ids[1:]]
    Path(out).write_text(json.dumps({"runs": runs}))


def summarize(stack: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    per_task: dict[str, dict[str, list[float]]] = {}
    per_dag: dict[str, dict[str, list[float]]] = {}
    for run in stack["runs"]:
        dag = per_dag.setdefault(run["dag_id"], {"e2e": [], "from_landing": []})
        if run["start"] and run["end"]:
            dag["e2e"].append(run["end"] - run["start"])
        if run["landed"] and run["end"]:
            dag["from_landing"].append(run["end"] - run["landed"])
        for t in run["tasks"]:
            if not (t["queued"] and t["start"] and t["end"]):
                continue
            row = per_task.setdefault(
                f"{run['dag_id']}.{t['task_id']}",
                {"queued": [], "startup": [], "work": [], "total": []},
            )
            row["queued"].append(t["start"] - t["queued"])
            row["total"].append(t["end"] - t["start"])
            if t["execute_start"] and t["execute_end"]:
                work = t["execute_end"] - t["execute_start"]
                row["work"].append(work)
                row["startup"].append(t["end"] - t["start"] - work)
    floors: dict[str, list[float]] = {}
    for run in floor["runs"]:
        floors.setdefault(run["dag_id"], []).append(run["seconds"])
        for task_id, seconds in run["tasks"].items():
            floors.setdefault(f"{run['dag_id']}.{task_id}", []).append(seconds)

    def stats(values: list[float]) -> dict[str, float | None]:
        return {"p50": _pct(values, 0.5), "p95": _pct(values, 0.95), "n": len(values)}

    return {
        "tasks": {
            key: {**{k: stats(v) for k, v in row.items()}, "floor": stats(floors.get(key, []))}
            for key, row in per_task.items()
        },
        "dags": {
            key: {**{k: stats(v) for k, v in row.items()}, "floor": stats(floors.get(key, []))}
            for key, row in per_dag.items()
        },
    }


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_table(summary: dict[str, Any], ready: float) -> str:
    cols = ("queued", "startup", "work", "total", "floor")
    head = f"{'task':<36} {'n':>3} " + " ".join(f"{c + ' p50/p95':>15}" for c in cols)
    lines = [head, "-" * len(head)]
    for key, row in sorted(summary["tasks"].items()):
        cells = " ".join(f"{_f(row[c]['p50']) + '/' + _f(row[c]['p95']):>15}" for c in cols)
        lines.append(f"{key:<36} {row['total']['n']:>3} {cells}")
    titles = ("e2e p50/p95", "landing->end", "floor")
    lines += ["", f"{'DAG run':<36} {'n':>3} " + " ".join(f"{t:>15}" for t in titles)]
    for key, row in sorted(summary["dags"].items()):
        cells = " ".join(
            f"{_f(row[c]['p50']) + '/' + _f(row[c]['p95']):>15}"
            for c in ("e2e", "from_landing", "floor")
        )
        lines.append(f"{key:<36} {row['e2e']['n']:>3} {cells}")
    lines.append(f"\nstack ready after {ready:.0f} s; seconds, p50/p95 (nearest rank)")
    return "\n".join(lines)


def _say(message: str) -> None:
    print(message, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--batches", type=int, default=3, help="periods after period 0")
    parser.add_argument(
        "--rows", type=int, default=None, help="upsample each monitored batch to this many rows"
    )
    parser.add_argument("--out", type=Path, default=None, help="write JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--floor-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_worker:
        config_dir, ids, out = args.floor_worker
        floor_worker(config_dir, json.loads(ids), out)
        return
    root = Path(tempfile.mkdtemp(prefix="retrainer-dag-latency-"))
    try:
        config_dir = write_config(root)
        batches = write_batches(root, args.batches, args.rows)
        _say(f"embedded stack over {root}: {len(batches)} batches")
        stack = run_stack(config_dir, batches)
        _say("floor: the same runs with dag.test() in one warm process")
        floor = run_floor(root, config_dir, batches)
        summary = summarize(stack, floor)
        _say(format_table(summary, stack["stack_ready_s"]))
        if args.out:
            measured = datetime.now(UTC).isoformat(timespec="seconds")
            report = {"measured": measured, "summary": summary, "stack": stack, "floor": floor}
            args.out.write_text(json.dumps(report, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
