"""The compose preflight refuses placeholder, short and published secrets, naming each."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from retrainer.secrets_check import BCRYPT_SECRET, SECRETS, weak_secrets

pytestmark = pytest.mark.unit

GOOD_HASH = "$2b$10$" + "Q" * 53


def _strong() -> dict[str, str]:
    return {name: secrets.token_hex(24) for name in SECRETS} | {BCRYPT_SECRET: GOOD_HASH}


def test_strong_secrets_pass() -> None:
    assert weak_secrets(_strong()) == []


def test_old_example_values_are_each_refused_by_name() -> None:
    env = _strong() | {
        "POSTGRES_PASSWORD": "change-me-postgres",
        "AIRFLOW_FERNET_KEY": "change-me-fernet-key",
        "GRAFANA_ADMIN_PASSWORD": "short",
        "MLFLOW_SECRET_KEY": "",
        # The hash .env.example once published (of "change-me-prometheus").
        BCRYPT_SECRET: "$2b$10$5/XfZzIj5Uux1s4tA63gA.XniK1emQOvYgXaLkLYiTWBDRWJRFHxq",
    }
    problems = weak_secrets(env)
    assert problems == [
        "POSTGRES_PASSWORD contains the placeholder word 'change-me'",
        "AIRFLOW_FERNET_KEY contains the placeholder word 'change-me'",
        "MLFLOW_SECRET_KEY is empty",
        "GRAFANA_ADMIN_PASSWORD is shorter than 12 characters",
        f"{BCRYPT_SECRET} is the published example hash",
    ]


def test_the_preflight_exits_non_zero_without_printing_a_value(tmp_path: Path) -> None:
    env = {**os.environ, **_strong(), "POSTGRES_PASSWORD": "example-pg-pw-123"}
    result = subprocess.run(
        [sys.executable, "-m", "retrainer.secrets_check"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "refusing to start: POSTGRES_PASSWORD contains the placeholder word" in result.stderr
    assert "example-pg-pw-123" not in result.stdout + result.stderr
