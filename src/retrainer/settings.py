"""Deployment settings: ``config/retrainer.yaml``, each overridable by one environment variable.

This module is the one inventory of the environment variables retrainer reads. Values may
use ``{home}`` (the local state folder) and relative paths, which resolve against the
project root (the parent of the config folder), so a setting means the same thing whatever
the working directory of the process (an Airflow task, the CLI, a test).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from retrainer.errors import ConfigError

__all__ = [
    "ALERT_EVENTS",
    "ENVIRONMENT_VARIABLES",
    "AlertSettings",
    "Settings",
    "default_config_dir",
    "load_settings",
]


@dataclass(frozen=True)
class EnvVar:
    name: str
    field: str
    description: str


ENVIRONMENT_VARIABLES: tuple[EnvVar, ...] = (
    EnvVar("RETRAINER_CONFIG_DIR", "config_dir", "Folder with retrainer.yaml and models/."),
    EnvVar("RETRAINER_HOME", "home", "Local state folder (SQLite stores, local lake, logs)."),
    EnvVar(
        "RETRAINER_STORAGE_ROOT",
        "storage_root",
        "The lake: a folder, file://... or s3://bucket/prefix.",
    ),
    EnvVar(
        "RETRAINER_MLFLOW_TRACKING_URI", "mlflow_tracking_uri", "MLflow tracking and registry URI."
    ),
    EnvVar(
        "RETRAINER_MLFLOW_ARTIFACT_ROOT",
        "mlflow_artifact_root",
        "Artifact location for new experiments.",
    ),
    EnvVar(
        "RETRAINER_APPROVAL_MODE",
        "approval_mode",
        "Default approval mode: auto, mlflow or airflow.",
    ),
    EnvVar(
        "RETRAINER_ALERT_WEBHOOK_URL", "alert_webhook_url", "Slack-compatible webhook for alerts."
    ),
    EnvVar("RETRAINER_AIRFLOW_URL", "airflow_url", "Airflow API server used by `retrainer land`."),
    EnvVar("RETRAINER_AIRFLOW_USER", "airflow_user", "User for the Airflow REST API."),
    EnvVar("RETRAINER_AIRFLOW_PASSWORD", "airflow_password", "Password for the Airflow REST API."),
    EnvVar(
        "RETRAINER_MLFLOW_UI_URL", "mlflow_ui_url", "MLflow UI address used in Airflow task links."
    ),
    EnvVar(
        "RETRAINER_S3_ENDPOINT_URL", "s3_endpoint_url", "S3 endpoint (MinIO, moto) for s3:// roots."
    ),
    EnvVar(
        "RETRAINER_ALERT_CHANNELS",
        "alerts.channels",
        "Alert channels, comma-separated: webhook,email.",
    ),
    EnvVar(
        "RETRAINER_ALERT_WEBHOOK_CONN_ID",
        "alerts.webhook_conn_id",
        "Airflow connection of the webhook.",
    ),
    EnvVar(
        "RETRAINER_ALERT_SMTP_CONN_ID",
        "alerts.smtp_conn_id",
        "Airflow connection of the SMTP server.",
    ),
    EnvVar(
        "RETRAINER_ALERT_EMAIL_TO", "alerts.email_to", "Alert e-mail recipients, comma-separated."
    ),
    EnvVar("RETRAINER_ALERT_EVENTS", "alerts.events", "Events that alert, comma-separated."),
    EnvVar(
        "RETRAINER_PUSHGATEWAY_URL",
        "pushgateway_url",
        "Prometheus Pushgateway (unset: no metrics).",
    ),
)

# Events a retrainer alert can be about. `decay` is raised by the trigger policy.
AlertEvent = Literal[
    "task_failure",
    "drift",
    "decay",
    "blocked_batch",
    "rows_quarantined",
    "promotion",
    "rollback",
    "rejection",
    "approval_request",
    "champion_changed",
]
ALERT_EVENTS: tuple[str, ...] = get_args(AlertEvent)


def _comma_list(value: object) -> object:
    """Environment overrides are strings: ``"a, b"`` means ``["a", "b"]``."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class AlertSettings(BaseModel):
    """``alerts:`` in retrainer.yaml: where alerts go. Credentials live in Airflow connections."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: tuple[Literal["webhook", "email"], ...] = ()
    webhook_conn_id: str = "retrainer_webhook"
    smtp_conn_id: str = "retrainer_smtp"
    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    events: tuple[AlertEvent, ...] = Field(default=ALERT_EVENTS)  # type: ignore[arg-type]
    timeout_seconds: float = Field(default=10.0, gt=0)

    _split = field_validator("channels", "email_to", "events", mode="before")(_comma_list)

    @model_validator(mode="after")
    def _email_needs_recipients(self) -> AlertSettings:
        if "email" in self.channels and not self.email_to:
            raise ValueError("the email channel needs at least one address in alerts.email_to")
        return self


class _FileSettings(BaseModel):
    """The shape of retrainer.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: str = ".retrainer"
    storage_root: str = "{home}/lake"
    mlflow_tracking_uri: str = "sqlite:///{home}/mlflow.db"
    mlflow_artifact_root: str = "{home}/mlartifacts"
    approval_mode: Literal["auto", "mlflow", "airflow"] = "auto"
    alert_webhook_url: str | None = None
    airflow_url: str = "http://127.0.0.1:8080"
    airflow_user: str = "admin"
    airflow_password: str = "admin"
    s3_endpoint_url: str | None = None
    mlflow_ui_url: str = "http://127.0.0.1:5000"
    alerts: AlertSettings = AlertSettings()
    pushgateway_url: str | None = None


@dataclass(frozen=True)
class Settings:
    """Resolved deployment settings."""

    config_dir: Path
    home: Path
    storage_root: str
    mlflow_tracking_uri: str
    mlflow_artifact_root: str
    approval_mode: str
    alert_webhook_url: str | None
    airflow_url: str
    airflow_user: str
    airflow_password: str
    s3_endpoint_url: str | None
    mlflow_ui_url: str
    alerts: AlertSettings = field(default_factory=AlertSettings)
    pushgateway_url: str | None = None

    @property
    def models_dir(self) -> Path:
        return self.config_dir / "models"

    @property
    def project_root(self) -> Path:
        return self.config_dir.parent


def default_config_dir() -> Path:
    """``$RETRAINER_CONFIG_DIR``, else ``./config`` of the working directory."""
    return Path(os.environ.get("RETRAINER_CONFIG_DIR") or Path.cwd() / "config").resolve()


def _is_uri(value: str) -> bool:
    return "://" in value or value.startswith("sqlite:")


def _resolve_path(value: str, root: Path) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (root / path).resolve())


def load_settings(config_dir: str | Path | None = None) -> Settings:
    """Read ``retrainer.yaml`` from the config folder and apply environment overrides.

    Raises:
        ConfigError: the file is not valid YAML or has an unknown/invalid key.
    """
    config_dir = Path(config_dir).resolve() if config_dir else default_config_dir()
    path = config_dir / "retrainer.yaml"
    raw: dict[str, object] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        raw.update(loaded)
    for var in ENVIRONMENT_VARIABLES:
        if var.field != "config_dir" and os.environ.get(var.name):
            # "alerts.channels" overrides one key of the nested alerts mapping.
            *parents, leaf = var.field.split(".")
            target = raw
            for parent in parents:
                nested = target.get(parent)
                target[parent] = target = dict(nested) if isinstance(nested, dict) else {}
            target[leaf] = os.environ[var.name]
    try:
        file_settings = _FileSettings.model_validate(raw)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: invalid settings: {fields}") from exc

    root = config_dir.parent
    home = Path(_resolve_path(file_settings.home, root))

    def expand(value: str) -> str:
        value = value.replace("{home}", str(home))
        return value if _is_uri(value) else _resolve_path(value, root)

    tracking = file_settings.mlflow_tracking_uri.replace("{home}", str(home))
    return Settings(
        config_dir=config_dir,
        home=home,
        storage_root=expand(file_settings.storage_root),
        mlflow_tracking_uri=tracking,
        mlflow_artifact_root=expand(file_settings.mlflow_artifact_root),
        approval_mode=file_settings.approval_mode,
        alert_webhook_url=file_settings.alert_webhook_url,
        airflow_url=file_settings.airflow_url.rstrip("/"),
        airflow_user=file_settings.airflow_user,
        airflow_password=file_settings.airflow_password,
        s3_endpoint_url=file_settings.s3_endpoint_url,
        mlflow_ui_url=file_settings.mlflow_ui_url.rstrip("/"),
        alerts=file_settings.alerts,
        pushgateway_url=(file_settings.pushgateway_url or "").rstrip("/") or None,
    )
