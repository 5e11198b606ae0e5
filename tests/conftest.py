"""Shared test set-up.

Airflow reads its configuration when first imported, so the environment it needs is set
here, at import time, before any test module imports it: a private AIRFLOW_HOME with a
SQLite database, no example DAGs. Settings a developer may have exported (RETRAINER_*) are
removed so every test sees only what it configures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

for _name in [n for n in os.environ if n.startswith("RETRAINER_")]:
    del os.environ[_name]
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="retrainer-airflow-test-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "GIT_PYTHON_REFRESH": "quiet",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder: unit, integration or e2e."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO / "tests").parts
        if parts and parts[0] in {"unit", "integration", "e2e"}:
            item.add_marker(getattr(pytest.mark, parts[0]))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Stop a server a test started: SIGTERM, then SIGKILL if it lingers."""
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata database (SQLite) in the private AIRFLOW_HOME."""
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run(
        [str(airflow), "db", "migrate"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return _AIRFLOW_HOME


def make_config_dir(
    root: Path,
    *,
    models: tuple[str, ...] = ("rainfall",),
    overrides: dict[str, dict] | None = None,
    settings: dict | None = None,
) -> Path:
    """Write a config folder under ``root`` whose state lives in ``root/home``.

    ``overrides`` deep-merges keys into a model's YAML (e.g. a different gate margin).
    """
    import yaml

    config_dir = root / "config"
    (config_dir / "models").mkdir(parents=True, exist_ok=True)
    for model in models:
        data = yaml.safe_load((REPO / "config" / "models" / f"{model}.yaml").read_text())
        for key, value in (overrides or {}).get(model, {}).items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        (config_dir / "models" / f"{model}.yaml").write_text(yaml.safe_dump(data))
    base = {"home": str(root / "home")}
    base.update(settings or {})
    (config_dir / "retrainer.yaml").write_text(yaml.safe_dump(base))
    return config_dir


@pytest.fixture(scope="session")
def rainfall_periods():  # type: ignore[no-untyped-def]
    """The NOAA rainfall data in ten consecutive periods (period 6 holds the break)."""
    from retrainer.datasets import load_rainfall, split_periods

    return split_periods(load_rainfall(), 10)
