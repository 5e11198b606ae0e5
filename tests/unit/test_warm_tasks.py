"""Warm tasks: the embedded scheduler starts with the heavy modules, other components without.

The LocalExecutor forks its workers, and they fork every task process, from the scheduler,
so what the scheduler imported at start-up each task has without importing it again. The
dag-processor must keep parsing DAGs without those modules.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from retrainer.dev.local_stack import airflow_env
from tests.conftest import REPO

pytestmark = pytest.mark.unit

HEAVY = ("sklearn", "mlflow", "great_expectations", "pandas")
# Start-up as the `airflow <component>` command does it: importing airflow runs its
# settings, which import the stack's airflow_local_settings.
PROBE = (
    "import json, sys; import airflow; "
    f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
)


def _loaded(tmp_path: Path, component: str, *, warm_tasks: bool = True) -> dict[str, bool]:
    env = airflow_env(project_root=REPO, home=tmp_path, port=18080, warm_tasks=warm_tasks)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, component],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_scheduler_has_the_heavy_modules_before_it_forks_task_processes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert _loaded(tmp_path, "scheduler") == dict.fromkeys(HEAVY, True)


def test_the_dag_processor_stays_light_and_warm_tasks_can_be_switched_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert _loaded(tmp_path, "dag-processor") == dict.fromkeys(HEAVY, False)
    assert _loaded(tmp_path, "scheduler", warm_tasks=False) == dict.fromkeys(HEAVY, False)
