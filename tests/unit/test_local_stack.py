"""The local stack: its secrets are private files, and stopping it stops what it started."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrainer.dev.local_stack import airflow_env, stop_pidfiles

pytestmark = pytest.mark.unit


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    airflow_env(project_root=tmp_path, home=tmp_path / "home", password="s3cret")
    home = tmp_path / "home" / "airflow"
    for name in (".api_secret", ".jwt_secret", "simple_auth_manager_passwords.json"):
        assert _mode(home / name) == 0o600, name


def test_a_world_readable_secret_from_before_is_closed_and_kept(tmp_path: Path) -> None:
    home = tmp_path / "home" / "airflow"
    home.mkdir(parents=True)
    old = home / ".jwt_secret"
    old.write_text("kept-secret")
    old.chmod(0o644)
    env = airflow_env(project_root=tmp_path, home=tmp_path / "home")
    # Kept: every running component still signs with it.
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "kept-secret"
    assert _mode(old) == 0o600


def _start(pids: Path, name: str, code: str) -> subprocess.Popen[bytes]:
    """A child in its own process group, recorded the way the stack records its services."""
    process = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    pids.mkdir(exist_ok=True)
    (pids / f"{name}.pid").write_text(str(process.pid))
    return process


def test_stop_returns_once_its_own_children_have_exited(tmp_path: Path) -> None:
    # The stack's services are this process's children: once one exits on SIGTERM it is
    # a zombie until reaped, and a zombie still answers killpg(pid, 0). Stopping waited
    # out its whole timeout (20 s per test stack, and at the end of `make demo`) for it.
    process = _start(tmp_path / "pids", "api-server", "import time; time.sleep(600)")
    began = time.monotonic()
    assert stop_pidfiles(tmp_path / "pids", timeout=60) == ["api-server"]
    assert time.monotonic() - began < 30  # half the timeout: it did not wait it out
    with pytest.raises(ProcessLookupError):  # gone, not left running
        os.killpg(process.pid, 0)
    assert not list((tmp_path / "pids").iterdir())


def test_a_service_that_ignores_sigterm_is_killed_at_the_timeout(tmp_path: Path) -> None:
    ignores = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(600)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", ignores], start_new_session=True, stdout=subprocess.PIPE
    )
    assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
    (tmp_path / "pids").mkdir()
    (tmp_path / "pids" / "stubborn.pid").write_text(str(process.pid))
    stop_pidfiles(tmp_path / "pids", timeout=1)
    assert process.wait(10) == -signal.SIGKILL
