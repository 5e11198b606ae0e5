"""Run Airflow (and the MLflow UI) locally on embedded defaults, as child processes.

Used by ``make demo`` / ``make up`` and by the end-to-end tests. Airflow runs on SQLite
with the LocalExecutor; each component logs to ``<home>/logs/<name>.log`` and records its
pid in ``<home>/pids/<name>.pid`` so ``make down`` can stop what ``make up`` started.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from retrainer.errors import RetrainerError

__all__ = ["LocalStack", "airflow_env", "free_port"]

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by its owner only (other users of the machine must not read
    the signing secrets or the login password). Created 0600 from the start, not chmod-ed
    after, so there is no instant at which the file is world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # an older file from before this rule keeps its mode otherwise


def _secret(path: Path) -> str:
    # Every component must sign and check task tokens with the same secret.
    if not path.exists():
        _write_private(path, secrets.token_hex(32))
    elif path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # left readable by an earlier version: close it now
    return path.read_text().strip()


# Airflow imports ``airflow_local_settings`` from ``$AIRFLOW_HOME/config`` in every component
# at start-up; only the scheduler acts on it (it forks the LocalExecutor's workers).
# ``__all__`` is empty because Airflow copies the module's public names into its settings.
LOCAL_SETTINGS = '''"""Written by retrainer.dev.local_stack: warm tasks (see retrainer.dev.warm)."""

from retrainer.dev.warm import preload_in_scheduler

preload_in_scheduler()
__all__: list[str] = []
'''


def _write_local_settings(airflow_home: Path, *, warm_tasks: bool) -> None:
    path = airflow_home / "config" / "airflow_local_settings.py"
    if warm_tasks:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LOCAL_SETTINGS)
    else:
        path.unlink(missing_ok=True)


def airflow_env(
    *,
    project_root: Path,
    home: Path,
    port: int = 8080,
    config_dir: Path | None = None,
    user: str = "admin",
    password: str = "admin",
    warm_tasks: bool = True,
) -> dict[str, str]:
    """Environment for Airflow components over ``<home>/airflow`` (SQLite, LocalExecutor).

    ``warm_tasks`` lets task processes start with the heavy modules already imported
    (see :mod:`retrainer.dev.warm`); False gives every task a cold start, as before.
    """
    airflow_home = home / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    _write_local_settings(airflow_home, warm_tasks=warm_tasks)
    passwords = airflow_home / "simple_auth_manager_passwords.json"
    _write_private(passwords, json.dumps({user: password}))
    base_url = f"http://127.0.0.1:{port}"
    # Inherit the caller's environment (PATH, credentials) but not a test harness's
    # unit-test mode, which would change how Airflow behaves.
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__CORE__UNIT_TEST_MODE"}
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(project_root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(project_root / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Task processes are forked from the executor's workers (warm tasks need that).
            "AIRFLOW__CORE__EXECUTE_TASKS_NEW_PYTHON_INTERPRETER": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": _secret(airflow_home / ".api_secret"),
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(airflow_home / ".jwt_secret"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "GIT_PYTHON_REFRESH": "quiet",
        }
    )
    if config_dir is not None:
        env["RETRAINER_CONFIG_DIR"] = str(config_dir)
    return env


@dataclass
class LocalStack:
    """Child processes of one local deployment, stoppable as a group."""

    home: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def pids(self) -> Path:
        return self.home / "pids"

    def migrate(self) -> None:
        """Create or upgrade the Airflow metadata database."""
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / "airflow-db-migrate.log").open("wb") as out:
            code = subprocess.call(
                [_bin("airflow"), "db", "migrate"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if code != 0:
            raise RetrainerError(
                f"`airflow db migrate` failed (exit {code}); "
                f"see {self.logs / 'airflow-db-migrate.log'}"
            )

    def start(
        self, name: str, argv: list[str], extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` as component ``name``, logging to ``logs/<name>.log``.

        ``extra_env`` adds to the stack's environment for this process only (one Celery
        worker's own hostname and log-server port, for example).
        """
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pids.mkdir(parents=True, exist_ok=True)
        out = (self.logs / f"{name}.log").open("ab")
        # A new session per child: stopping it stops the task processes it forked too.
        process = subprocess.Popen(
            argv,
            env={**self.env, **(extra_env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        (self.pids / f"{name}.pid").write_text(str(process.pid))
        return process

    def start_airflow(self) -> None:
        self.migrate()
        # API server first: tasks that start before it is up fail (FIELD-NOTES).
        self.start("api-server", [_bin("airflow"), "api-server"])
        for component in AIRFLOW_COMPONENTS[1:]:
            self.start(component, [_bin("airflow"), component])

    def start_mlflow_ui(self, tracking_uri: str, artifact_root: str, port: int = 5000) -> None:
        self.start(
            "mlflow",
            [
                _bin("mlflow"),
                "server",
                "--backend-store-uri",
                tracking_uri,
                "--default-artifact-root",
                artifact_root,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RetrainerError(
                    f"{name} exited with code {process.returncode}; "
                    f"see {self.logs / (name + '.log')}"
                )

    def stop(self, timeout: float = 20) -> None:
        stop_pidfiles(self.pids, timeout)
        self.processes.clear()


def stop_pidfiles(pids: Path, timeout: float = 20) -> list[str]:
    """Stop every process group recorded in ``pids/`` (SIGTERM, then SIGKILL)."""
    stopped = []
    groups = []
    for pidfile in sorted(pids.glob("*.pid")) if pids.is_dir() else []:
        try:
            pid = int(pidfile.read_text().strip())
            os.killpg(pid, signal.SIGTERM)
            groups.append(pid)
            stopped.append(pidfile.stem)
        except (ValueError, ProcessLookupError, PermissionError):
            pass
        pidfile.unlink(missing_ok=True)
    deadline = time.monotonic() + timeout
    for pid in groups:
        while time.monotonic() < deadline:
            _reap(pid)
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    return stopped


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child, so it stops counting as alive.

    A group leader that exited but was not waited for stays a zombie, and a zombie still
    answers ``killpg(pid, 0)``: without this, stopping the stack this process started
    waited out the whole timeout for processes that had already stopped.
    """
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
