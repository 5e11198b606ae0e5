"""Deployment settings: ``config/retrainer.yaml``, each overridable by one environment variable.

:class:`Settings` is the one inventory of the environment variables retrainer reads:
``RETRAINER_<FIELD>`` for a top-level setting, ``RETRAINER_ALERT_<FIELD>`` for one of
``alerts:`` (comma-separated for lists); :data:`ENVIRONMENT_VARIABLES` is derived from its
fields and their descriptions. The environment overrides the file. Values may use
``{home}`` (the local state folder) and relative paths, which resolve against the project
root (the parent of the config folder), so a setting means the same thing whatever the
working directory of the process (an Airflow task, the CLI, a test).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from retrainer.errors import ConfigError

__all__ = [
    "ALERT_EVENTS",
    "ENVIRONMENT_VARIABLES",
    "AlertSettings",
    "EnvVar",
    "Settings",
    "default_config_dir",
    "load_settings",
    "resolve_config_dir",
]

_PREFIX = "RETRAINER_"
_CONFIG_DIR_VARIABLE = f"{_PREFIX}CONFIG_DIR"
# A nested section's variables: RETRAINER_ALERT_CHANNELS sets alerts.channels.
_SECTION_PREFIX = {"alerts": "ALERT_"}


class _FileOnly:
    """Field marker: the setting is read from the file only (it has no variable)."""


_FILE_ONLY = _FileOnly()

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

    channels: tuple[Literal["webhook", "email"], ...] = Field(
        default=(), description="Alert channels, comma-separated: webhook,email."
    )
    webhook_conn_id: str = Field(
        default="retrainer_webhook", description="Airflow connection of the webhook."
    )
    smtp_conn_id: str = Field(
        default="retrainer_smtp", description="Airflow connection of the SMTP server."
    )
    email_to: tuple[str, ...] = Field(
        default=(), description="Alert e-mail recipients, comma-separated."
    )
    email_from: Annotated[str | None, _FILE_ONLY] = Field(
        default=None, description="Sender address; default: the connection's from_email."
    )
    events: tuple[AlertEvent, ...] = Field(
        default=ALERT_EVENTS,  # type: ignore[arg-type]
        description="Events that alert, comma-separated.",
    )
    timeout_seconds: Annotated[float, _FILE_ONLY] = Field(
        default=10.0, gt=0, description="How long one delivery may take."
    )
    # File only: sending a password in the clear is a decision for the deployment's file,
    # not for a variable that a task's environment might carry.
    smtp_allow_plaintext_login: Annotated[bool, _FILE_ONLY] = Field(
        default=False,
        description="Log in to SMTP on a connection without SSL/STARTTLS (trusted network).",
    )

    _split = field_validator("channels", "email_to", "events", mode="before")(_comma_list)

    @model_validator(mode="after")
    def _email_needs_recipients(self) -> AlertSettings:
        if "email" in self.channels and not self.email_to:
            raise ValueError("the email channel needs at least one address in alerts.email_to")
        return self


def _is_uri(value: str) -> bool:
    return "://" in value or value.startswith("sqlite:")


def _resolve_path(value: str | Path, root: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (root / path).resolve()


class Settings(BaseSettings):
    """Resolved deployment settings (build them with :func:`load_settings`)."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix=_PREFIX,
        env_ignore_empty=True,
        validate_default=True,
    )

    # Fields are validated in order: later ones resolve against config_dir and home.
    config_dir: Path = Field(
        default_factory=lambda: default_config_dir(),
        description="Folder with retrainer.yaml and models/.",
    )
    home: Path = Field(
        default=Path(".retrainer"),
        description="Local state folder (SQLite stores, local lake, logs).",
    )
    storage_root: str = Field(
        default="{home}/lake", description="The lake: a folder, file://... or s3://bucket/prefix."
    )
    mlflow_tracking_uri: str = Field(
        default="sqlite:///{home}/mlflow.db", description="MLflow tracking and registry URI."
    )
    mlflow_artifact_root: str = Field(
        default="{home}/mlartifacts", description="Artifact location for new experiments."
    )
    approval_mode: Literal["auto", "mlflow", "airflow"] = Field(
        default="auto", description="Default approval mode: auto, mlflow or airflow."
    )
    alert_webhook_url: str | None = Field(
        default=None, description="Slack-compatible webhook for alerts."
    )
    airflow_url: str = Field(
        default="http://127.0.0.1:8080", description="Airflow API server used by `retrainer land`."
    )
    airflow_user: str = Field(default="admin", description="User for the Airflow REST API.")
    airflow_password: str = Field(default="admin", description="Password for the Airflow REST API.")
    mlflow_ui_url: str = Field(
        default="http://127.0.0.1:5000", description="MLflow UI address used in Airflow task links."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 endpoint (MinIO, moto) for s3:// roots."
    )
    alerts: AlertSettings = Field(
        default_factory=AlertSettings, description="Where alerts go (RETRAINER_ALERT_*)."
    )
    pushgateway_url: str | None = Field(
        default=None, description="Prometheus Pushgateway (unset: no metrics)."
    )

    @field_validator("home")
    @classmethod
    def _home(cls, value: Path, info: ValidationInfo) -> Path:
        return _resolve_path(value, info.data["config_dir"].parent)

    @field_validator("storage_root", "mlflow_artifact_root")
    @classmethod
    def _location(cls, value: str, info: ValidationInfo) -> str:
        if "home" not in info.data:  # home itself is invalid: reported on its own
            return value
        value = value.replace("{home}", str(info.data["home"]))
        root = info.data["config_dir"].parent
        return value if _is_uri(value) else str(_resolve_path(value, root))

    @field_validator("mlflow_tracking_uri")
    @classmethod
    def _tracking_uri(cls, value: str, info: ValidationInfo) -> str:
        return value.replace("{home}", str(info.data["home"])) if "home" in info.data else value

    @field_validator("airflow_url", "mlflow_ui_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("pushgateway_url")
    @classmethod
    def _pushgateway(cls, value: str | None) -> str | None:
        return (value or "").rstrip("/") or None

    @property
    def models_dir(self) -> Path:
        return self.config_dir / "models"

    @property
    def project_root(self) -> Path:
        return self.config_dir.parent

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest first: the config folder (given), the environment, retrainer.yaml.
        given = cast(InitSettingsSource, init_settings).init_kwargs.get("config_dir")
        config_dir = Path(given) if given else default_config_dir()
        return (
            init_settings,
            _Environment(settings_cls),
            _SettingsFile(settings_cls, yaml_file=config_dir / "retrainer.yaml"),
        )


class _Environment(EnvSettingsSource):
    """``RETRAINER_<FIELD>``, and ``RETRAINER_ALERT_<FIELD>`` for the alerts section."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name == "config_dir":
            # Needed before the file can be found: resolve_config_dir reads it.
            return None, field_name, False
        if field_name in _SECTION_PREFIX:
            values = {
                var.field.partition(".")[2]: self.env_vars.get(var.name.lower())
                for var in ENVIRONMENT_VARIABLES
                if var.field.startswith(f"{field_name}.")
            }
            found = {key: value for key, value in values.items() if value is not None}
            return (found or None), field_name, False
        return super().get_field_value(field, field_name)

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        if field_name in _SECTION_PREFIX:
            return value  # already the section's mapping; lists stay comma-separated text
        return super().prepare_field_value(field_name, field, value, value_is_complex)


class _SettingsFile(YamlConfigSettingsSource):
    """retrainer.yaml (absent: every default), with errors that name the file."""

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        try:
            loaded = yaml.safe_load(file_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file_path}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{file_path}: expected a mapping at the top level")
        if "config_dir" in loaded:
            raise ConfigError(
                f"{file_path}: invalid settings: config_dir: the file is in the config folder; "
                f"set {_CONFIG_DIR_VARIABLE} to use another"
            )
        return loaded


@dataclass(frozen=True)
class EnvVar:
    """One environment variable: its name, the setting it overrides, what it means."""

    name: str
    field: str
    description: str


def _environment_variables() -> tuple[EnvVar, ...]:
    def has_variable(info: FieldInfo) -> bool:
        return not any(isinstance(m, _FileOnly) for m in info.metadata)

    out = []
    for name, info in Settings.model_fields.items():
        section = _SECTION_PREFIX.get(name)
        if section is None:
            out.append(EnvVar(f"{_PREFIX}{name.upper()}", name, info.description or ""))
            continue
        model = cast(type[BaseModel], info.annotation)
        out.extend(
            EnvVar(f"{_PREFIX}{section}{leaf.upper()}", f"{name}.{leaf}", sub.description or "")
            for leaf, sub in model.model_fields.items()
            if has_variable(sub)
        )
    return tuple(out)


ENVIRONMENT_VARIABLES: tuple[EnvVar, ...] = _environment_variables()


def resolve_config_dir(default: str | Path) -> Path:
    """``$RETRAINER_CONFIG_DIR`` if set (production images), else ``default``, resolved.

    The one reader of the variable: the DAG files, the plugin's views and the CLI pass
    their own default.
    """
    return Path(os.environ.get(_CONFIG_DIR_VARIABLE) or default).resolve()


def default_config_dir() -> Path:
    """``$RETRAINER_CONFIG_DIR``, else ``./config`` of the working directory."""
    return resolve_config_dir(Path.cwd() / "config")


def load_settings(config_dir: str | Path | None = None) -> Settings:
    """Read ``retrainer.yaml`` from the config folder and apply environment overrides.

    Raises:
        ConfigError: the file is not valid YAML or has an unknown/invalid key.
    """
    config_dir = Path(config_dir).resolve() if config_dir else default_config_dir()
    try:
        return Settings(config_dir=config_dir)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{config_dir / 'retrainer.yaml'}: invalid settings: {fields}") from exc
