"""Kill a task attempt at a chosen instant, for real: a child process that dies mid-step.

``RETRAINER_TEST_CRASH_AT=<MlflowClient method>`` makes the child's client call that method
and then ``os._exit`` (no ``finally``, no ``atexit``, no run ended: what SIGKILL leaves),
deterministically at the first such call. The parent then plays the retry in-process and
inspects the real SQLite registry the child left behind.

Run as ``python -m tests.integration.crash_points <config_dir> <model> <context json>``:
the child trains a challenger with ``train_challenger`` under that Airflow task context.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mlflow import MlflowClient

CRASH_AT = "RETRAINER_TEST_CRASH_AT"
KILLED = 137  # the exit status of a SIGKILLed process, as the child reports its death


class CrashingClient(MlflowClient):
    """An MlflowClient whose process dies right after the method named by CRASH_AT returns."""

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name != os.environ.get(CRASH_AT) or not callable(attr):
            return attr

        def then_die(*args: Any, **kwargs: Any) -> Any:
            attr(*args, **kwargs)
            sys.stdout.flush()
            os._exit(KILLED)

        return then_die


def run_attempt(config_dir: str, model: str, context: dict[str, str], crash_at: str) -> int:
    """Run one training attempt in a child process that dies after ``crash_at``."""
    env = {**os.environ, CRASH_AT: crash_at}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.crash_points",
            config_dir,
            model,
            json.dumps(context),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != KILLED:
        raise AssertionError(f"the attempt did not die at {crash_at}: {done.stderr[-3000:]}")
    return done.returncode


def _train(config_dir: str, model: str, context: dict[str, str]) -> None:
    from retrainer.config import load_model_config
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage
    from retrainer.training import train_challenger

    settings = load_settings(config_dir)
    connect(settings)  # sets the tracking URI the fluent run API uses
    client = CrashingClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)
    train_challenger(
        client,
        open_storage(settings.storage_root),
        settings,
        load_model_config(settings.models_dir / f"{model}.yaml"),
        trigger="manual",
        reason="attempt 1",
        context=context,
    )


if __name__ == "__main__":
    _train(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
    sys.exit(0)  # not killed: the parent reports the crash point was never reached
