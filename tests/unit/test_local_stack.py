"""The local stack's secrets (token signing keys, the login password) are private files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from retrainer.dev.local_stack import airflow_env

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
