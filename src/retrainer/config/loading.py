"""Read model files: errors name the file and every offending field path."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from retrainer.config.model import ModelConfig
from retrainer.errors import ConfigError

__all__ = ["load_model_config", "load_model_configs"]


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {path}: {item['msg']}")
    return "\n".join(lines)


def load_model_config(path: str | Path) -> ModelConfig:
    """Load and validate one model file.

    Raises:
        ConfigError: the file is missing, is not YAML, or breaks the schema; the message
            names the file and each offending field path.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: model config file not found") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        config = ModelConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid model config\n{_format_errors(exc)}") from exc
    if config.name != path.stem:
        raise ConfigError(f"{path}: name {config.name!r} must match the file name {path.stem!r}")
    return config


def load_model_configs(models_dir: str | Path) -> list[ModelConfig]:
    """Load every ``*.yaml`` file of a directory, sorted by name."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise ConfigError(f"{models_dir}: model config directory not found")
    return [load_model_config(p) for p in sorted(models_dir.glob("*.yaml"))]
