"""Read model files: errors name the file and every offending field path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from retrainer.config.model import MODEL_NAME, ModelConfig
from retrainer.errors import ConfigError

__all__ = [
    "BrokenModelFile",
    "ModelFiles",
    "anchor_code_path",
    "load_model_config",
    "load_model_configs",
    "model_file",
    "scan_model_configs",
]


@dataclass(frozen=True)
class BrokenModelFile:
    """A model file that could not be loaded, and why (the message names file and field)."""

    path: Path
    error: str

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class ModelFiles:
    """Every model file of a folder: the ones that load, and the broken ones."""

    configs: tuple[ModelConfig, ...]
    broken: tuple[BrokenModelFile, ...]


def model_file(models_dir: str | Path, name: str) -> Path:
    """The file of model ``name``; the name is checked before it becomes part of a path.

    Raises:
        ConfigError: ``name`` is not a valid model name.
    """
    if not MODEL_NAME.fullmatch(name):
        raise ConfigError(
            f"model name {name!r} is not valid: use lower-case letters, digits and "
            f"underscores, starting with a letter (it names {Path(models_dir)}/<name>.yaml)"
        )
    return Path(models_dir) / f"{name}.yaml"


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
    config = _with_code_path(config, path)
    config._source = str(path)
    return config


def anchor_code_path(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """``raw`` with a relative ``model.code_path`` made absolute against ``path``'s folder.

    For a model YAML that is copied elsewhere before it loads (``retrainer replay``).
    """
    model = raw.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("code_path"), str):
        return raw
    folder = (path.parent / model["code_path"]).resolve()
    return {**raw, "model": {**model, "code_path": str(folder)}}


def _with_code_path(config: ModelConfig, path: Path) -> ModelConfig:
    """Resolve ``model.code_path`` against the YAML's folder (the team keeps both together).

    Only the folder is checked here: the team's code is imported when training, never
    while a DAG file is parsed.
    """
    code_path = config.model.code_path
    if code_path is None:
        return config
    folder = (path.parent / code_path).resolve()
    if not folder.is_dir():
        raise ConfigError(f"{path}: model.code_path {code_path!r} is not a folder ({folder})")
    return config.model_copy(
        update={"model": config.model.model_copy(update={"code_path": str(folder)})}
    )


def load_model_configs(models_dir: str | Path) -> list[ModelConfig]:
    """Load every ``*.yaml`` file of a directory, sorted by name."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise ConfigError(f"{models_dir}: model config directory not found")
    return [load_model_config(p) for p in sorted(models_dir.glob("*.yaml"))]


def scan_model_configs(models_dir: str | Path) -> ModelFiles:
    """Load every ``*.yaml`` file of a directory; a broken file is reported, not fatal.

    One bad file must not take the other models down (their DAGs, the Models page).

    Raises:
        ConfigError: the directory does not exist.
    """
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise ConfigError(f"{models_dir}: model config directory not found")
    configs, broken = [], []
    for path in sorted(models_dir.glob("*.yaml")):
        try:
            configs.append(load_model_config(path))
        except ConfigError as exc:
            broken.append(BrokenModelFile(path, str(exc)))
    return ModelFiles(tuple(configs), tuple(broken))
