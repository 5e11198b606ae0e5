"""The production topology, for real and without Docker: what docker-compose.yaml runs.

PostgreSQL holds the Airflow metadata and the MLflow backend store; Redis is the Celery
broker; two Celery workers (concurrency 1 each) run every task; an ``mlflow server`` keeps
artifacts on moto's S3 server, and the lake is on the same S3. A batch lands through the
REST API as an Asset event, the monitor finds the champion decayed (the trigger policy) and
the scheduler, not the test, starts the retrain, which trains, evaluates and moves
``champion``. Each worker reports its own
hostname (``retrainer.orchestration.hostname``), so the task instances show that both
workers ran tasks.

Sized for 2 shared cores (FIELD-NOTES): parallelism 4, one MLflow worker and no MLflow job
runner, the API server up and healthy before anything can run a task.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, make_config_dir
from tests.integration.services_prod import Postgres, Redis, log_tail

# About 5 minutes on an idle 2-core machine; the limit leaves room for a busy one.
pytestmark = pytest.mark.timeout(1500)

MODEL = "rainfall"
LAKE_BUCKET = "retrainer-lake"
MLFLOW_BUCKET = "mlflow"
WORKERS = ("worker-a", "worker-b")
# A small, fast model: fewer boosting rounds and bootstrap resamples than the shipped config.
FAST_MODEL = {
    MODEL: {
        "model": {"estimator": "hist_gradient_boosting", "params": {"max_iter": 60}},
        "evaluation": {"bootstrap_resamples": 200},
    }
}


class _MemoryPeak(threading.Thread):
    """Sample the summed RSS of the given process trees every second; keep the peak."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = 0
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        while not self._done.wait(1.0):
            total = 0
            for pid in list(self.pids):
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    for proc in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            total += proc.memory_info().rss
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._done.set()
        self.join(5)
        return self.peak


def _dump_logs(paths: list[Path]) -> None:
    for path in paths:
        print(f"\n----- tail of {path} -----\n{log_tail(path, 60)}", flush=True)


@contextlib.contextmanager
def _logs_on_failure(paths: Any) -> Iterator[None]:
    """On any failure print the tail of every component's log (``paths`` is a callable)."""
    try:
        yield
    except BaseException:
        _dump_logs(paths())
        raise


@pytest.fixture(scope="module")
def prod(
    tmp_path_factory: pytest.TempPathFactory,
    moto_s3: Any,
    postgres_server: Postgres,
    redis_server: Redis,
) -> Iterator[dict[str, Any]]:
    from retrainer.dev.airflow_api import AirflowAPI
    from retrainer.dev.local_stack import LocalStack, airflow_env, free_port
    from retrainer.registry import connect, ensure_experiment
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    root = tmp_path_factory.mktemp("prod")
    s3 = moto_s3.client()
    for bucket in (LAKE_BUCKET, MLFLOW_BUCKET):
        s3.create_bucket(Bucket=bucket)
    for database in ("airflow", "mlflow"):
        postgres_server.create_database(database)
    mlflow_port, api_port = free_port(), free_port()
    deployment = {
        "storage_root": f"s3://{LAKE_BUCKET}/lake",
        "s3_endpoint_url": moto_s3.endpoint_url,
        "mlflow_tracking_uri": f"http://127.0.0.1:{mlflow_port}",
        "mlflow_artifact_root": f"s3://{MLFLOW_BUCKET}/artifacts",
    }
    config_dir = make_config_dir(root, overrides=FAST_MODEL, settings=deployment)
    env = airflow_env(project_root=REPO, home=root / "home", port=api_port, config_dir=config_dir)
    env.update(
        {
            # What docker-compose.yaml sets on every Airflow container.
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_server.url("airflow"),
            "AIRFLOW__CELERY__BROKER_URL": redis_server.url(),
            "AIRFLOW__CELERY__RESULT_BACKEND": postgres_server.url(
                "airflow", "db+postgresql+psycopg2"
            ),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "retrainer.orchestration.hostname.task_hostname",
            # Log servers on free ports: other tests may run Airflow on this machine too.
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "RETRAINER_STORAGE_ROOT": deployment["storage_root"],
            "RETRAINER_S3_ENDPOINT_URL": moto_s3.endpoint_url,
            "RETRAINER_MLFLOW_TRACKING_URI": deployment["mlflow_tracking_uri"],
            "RETRAINER_MLFLOW_ARTIFACT_ROOT": deployment["mlflow_artifact_root"],
            "MLFLOW_S3_ENDPOINT_URL": moto_s3.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            # One OpenMP thread per task: two workers already share the two cores, and
            # spinning OpenMP threads of a boosting model slow everything down many times.
            "OMP_NUM_THREADS": "1",
        }
    )
    stack = LocalStack(root / "home", env)

    def logs() -> list[Path]:
        task_logs = sorted(
            (root / "home" / "airflow" / "logs").rglob("attempt=*.log"),
            key=lambda p: p.stat().st_mtime,
        )
        return [
            postgres_server.log,
            redis_server.log,
            *sorted(stack.logs.glob("*.log")),
            *task_logs[-3:],
        ]

    memory: _MemoryPeak | None = None
    started = time.monotonic()
    # A cancelled CI job sends SIGTERM, which would end pytest without any teardown and
    # leave a dozen servers behind: turn it into an exception so the finally below runs.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with _logs_on_failure(logs):
            # Compose adds --app-name basic-auth; that app needs Flask-WTF (`mlflow[auth]`),
            # which the locked production extra lacks (the known gap in docker-compose.yaml).
            stack.start(
                "mlflow",
                [_venv("mlflow"),
                 "server", "--backend-store-uri", postgres_server.url("mlflow"),
                 "--artifacts-destination", f"s3://{MLFLOW_BUCKET}/artifacts",
                 "--host", "127.0.0.1", "--port", str(mlflow_port), "--workers", "1"],
            )  # fmt: skip
            stack.migrate()
            # The API server healthy before anything can run a task (FIELD-NOTES); the
            # dag-processor and triggerer run none, so they start with it.
            for component in ("api-server", "dag-processor", "triggerer"):
                stack.start(component, [_venv("airflow"), component])
            api = AirflowAPI(f"http://127.0.0.1:{api_port}", "admin", "admin")
            api.wait_healthy(180)
            stack.start("scheduler", [_venv("airflow"), "scheduler"])
            for name in WORKERS:
                stack.start(
                    name,
                    [_venv("airflow"), "celery", "worker", "--concurrency", "1",
                     "--celery-hostname", f"{name}@%h"],
                    extra_env={
                        "RETRAINER_HOSTNAME": name,
                        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                    },
                )  # fmt: skip
            memory = _MemoryPeak([p.pid for p in stack.processes.values()])
            memory.start()
            settings = load_settings(config_dir)
            client = connect(settings)
            _wait_mlflow(deployment["mlflow_tracking_uri"], stack)
            ensure_experiment(client, MODEL, settings.mlflow_artifact_root)
            api.wait_for_dags([f"{MODEL}_monitor", f"{MODEL}_retrain"], 180)
            stack.check_alive()
            print(f"production topology up after {time.monotonic() - started:.0f} s", flush=True)
        yield {
            "api": api,
            "client": client,
            "s3": s3,
            "root": root,
            "stack": stack,
            "storage": open_storage(settings.storage_root, endpoint_url=moto_s3.endpoint_url),
            "logs": logs,
        }
    finally:
        stack.stop()
        signal.signal(signal.SIGTERM, previous)
        if memory is not None:
            print(f"peak RSS of Airflow + MLflow: {memory.stop() / 2**30:.2f} GiB", flush=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}: stopping the production topology")


def _venv(name: str) -> str:
    import sys

    return str(Path(sys.executable).parent / name)


def _wait_mlflow(url: str, stack: Any, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{url}/health", timeout=2).close()
            return
        time.sleep(0.5)
    raise RuntimeError(f"mlflow server at {url} not healthy after {timeout:.0f} s")


def _hostnames(api: Any, dag_id: str, run_id: str) -> dict[str, str]:
    return {
        t["task_id"]: t["hostname"]
        for t in api.task_instances(dag_id, run_id)
        if t["state"] == "success"
    }


def test_decay_retrains_and_promotes_across_two_celery_workers(
    prod: dict[str, Any], rainfall_periods: Any
) -> None:
    from retrainer.dev.demo import land_and_notify, wait_new_run

    api, client, storage = prod["api"], prod["client"], prod["storage"]
    with _logs_on_failure(prod["logs"]):
        for dag_id in (f"{MODEL}_monitor", f"{MODEL}_retrain"):
            api.unpause(dag_id)
        data = prod["root"] / "data"
        data.mkdir()
        for index in (0, 7):
            rainfall_periods[index].to_parquet(data / f"p{index}.parquet", index=False)
        ran_on: dict[str, dict[str, str]] = {}

        land_and_notify(api, storage, MODEL, data / "p0.parquet", "p0")
        monitor = wait_new_run(api, f"{MODEL}_monitor", 0, timeout=300)
        assert monitor["state"] == "success"
        ran_on["monitor p0"] = _hostnames(api, f"{MODEL}_monitor", monitor["dag_run_id"])
        first = api.trigger(f"{MODEL}_retrain", {"reason": "first champion"})
        assert api.wait_run(f"{MODEL}_retrain", first, 300)["state"] == "success"
        ran_on["retrain (manual)"] = _hostnames(api, f"{MODEL}_retrain", first)
        assert client.get_model_version_by_alias(MODEL, "champion").version == "1"

        land_and_notify(api, storage, MODEL, data / "p7.parquet", "p7")
        monitor = wait_new_run(api, f"{MODEL}_monitor", 1, timeout=300)
        assert monitor["state"] == "success"
        ran_on["monitor p7"] = _hostnames(api, f"{MODEL}_monitor", monitor["dag_run_id"])
        # After the break the champion decays: the trigger policy asks for a retrain.
        assert "emit_decay" in ran_on["monitor p7"], "the p7 batch must be judged decayed"
        retrain = wait_new_run(api, f"{MODEL}_retrain", 1, timeout=300)
        assert retrain["run_type"] == "asset_triggered", "the scheduler, not the test, starts it"
        assert retrain["state"] == "success"
        ran_on["retrain (decay)"] = _hostnames(api, f"{MODEL}_retrain", retrain["dag_run_id"])

        # The registry on the MLflow server (PostgreSQL): champion moved to the new version.
        champion = client.get_model_version_by_alias(MODEL, "champion")
        assert champion.version == "2"
        assert champion.tags["retrainer.trigger"] == "decay"
        assert champion.source.startswith(f"s3://{MLFLOW_BUCKET}/") or champion.source.startswith(
            "models:/"
        )
        # Model artifacts went to the MLflow bucket on S3.
        artifacts = prod["s3"].list_objects_v2(Bucket=MLFLOW_BUCKET, Prefix="artifacts/")
        keys = [item["Key"] for item in artifacts.get("Contents", [])]
        assert any(key.endswith("MLmodel") for key in keys), keys[:20]
        # The lake on S3: both accepted batches and the ledger of alias moves.
        assert storage.root == f"s3://{LAKE_BUCKET}/lake"
        for batch in ("p0", "p7"):
            assert storage.exists(f"batches/{MODEL}/{batch}/data.parquet")
        assert storage.list(f"ledger/{MODEL}/"), "promotion must be written to the ledger"

        print("\ntask -> worker")
        for run, tasks in ran_on.items():
            for task, host in tasks.items():
                print(f"  {run:<17} {task:<28} {host}")
        hosts = {host for tasks in ran_on.values() for host in tasks.values()}
        assert hosts == set(WORKERS), f"tasks ran on {hosts}, expected both of {WORKERS}"
