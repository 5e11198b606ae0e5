"""Warm tasks: import the heavy modules once in the process task processes are forked from.

On the embedded stack the LocalExecutor forks its worker processes from the scheduler,
and each worker forks one task-runner process per task (``os.fork``, no new interpreter:
``[core] execute_tasks_new_python_interpreter`` stays False). A module the scheduler
imported before its workers start is therefore already in every task process, so a task
no longer pays the seconds MLflow, scikit-learn and Great Expectations take to import.

Only modules are imported: no store, client, connection, thread or file is opened here,
because whatever the parent holds open is shared by every forked child. A module that
fails to import is logged and skipped; the task that needs it then fails in its own log.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from dataclasses import dataclass

__all__ = ["PRELOAD", "Preloaded", "preload", "preload_in_scheduler"]

log = logging.getLogger(__name__)

# What retrainer's tasks import inside execute(), heaviest first. The orchestration
# modules are the DAG file's own imports, which every task runner parses again.
PRELOAD = (
    "pandas",
    "pyarrow.parquet",
    "sklearn.pipeline",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.metrics",
    "mlflow",
    "mlflow.sklearn",
    "great_expectations",
    "matplotlib.figure",  # the decision timeline, drawn after every assess_performance
    "matplotlib.backends.backend_svg",
    # retrainer's packages (names built so they do not read as ``retrainer.*`` tags).
    *(
        f"{__package__.partition('.')[0]}.{name}"
        for name in (
            "validation",
            "drift",
            "monitoring",
            "training",
            "evaluation",
            "registry",
            "notify",
            "lake",
            "storage",
            "timeline",
            "orchestration.dag_factory",
        )
    ),
    # The worker's supervisor and the task runner it forks: else each of the
    # LocalExecutor's workers imports them for its first task.
    "airflow.sdk.execution_time.supervisor",
    "airflow.sdk.execution_time.task_runner",
)


@dataclass(frozen=True)
class Preloaded:
    """What :func:`preload` imported, how long it took and what it could not import."""

    seconds: float
    imported: tuple[str, ...]
    failed: tuple[str, ...]
    new_threads: tuple[str, ...]


def preload(modules: tuple[str, ...] = PRELOAD) -> Preloaded:
    """Import ``modules`` (never raises: a failure is logged and the module skipped)."""
    before = {t.ident for t in threading.enumerate()}
    began = time.monotonic()
    imported, failed = [], []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a broken optional module must not stop the scheduler
            log.warning("warm tasks: could not preload %s: %s", name, exc)
            failed.append(name)
        else:
            imported.append(name)
    # A thread started by an import would be copied into every fork without its owner
    # running: say so, loudly, so the module can be taken out of PRELOAD.
    threads = tuple(t.name for t in threading.enumerate() if t.ident not in before)
    if threads:
        log.warning("warm tasks: preloading started threads %s", ", ".join(threads))
    done = Preloaded(time.monotonic() - began, tuple(imported), tuple(failed), threads)
    log.info("warm tasks: preloaded %d modules in %.1f s", len(imported), done.seconds)
    return done


def preload_in_scheduler(argv: list[str] | None = None) -> Preloaded | None:
    """Preload when this process is ``airflow scheduler`` (the LocalExecutor's parent).

    The API server, dag-processor and triggerer import ``airflow_local_settings`` too;
    they fork no task processes, and the dag-processor must keep parsing DAGs without
    the heavy modules, so they are left alone.
    """
    args = sys.argv if argv is None else argv
    if len(args) < 2 or args[1] != "scheduler":
        return None
    return preload()
