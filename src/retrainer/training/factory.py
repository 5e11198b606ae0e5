"""A team's own model: ``model.factory: "package.module:callable"`` from the model YAML.

The callable is imported when a challenger is trained, never while a DAG file is parsed.
It gets the raw feature columns (``numeric_features`` + ``categorical_features``) and no
retrainer preprocessing: a team's Pipeline owns its preprocessing, so the model it logs
is the model it wrote and tested.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrainer.errors import ConfigError

if TYPE_CHECKING:
    from retrainer.config import ModelConfig

__all__ = ["TeamModel", "build_model", "build_team_model"]


@dataclass(frozen=True)
class TeamModel:
    """The unfitted estimator a factory returned, and the package folder to ship with it."""

    estimator: Any
    package_dir: str | None


def _where(config: ModelConfig) -> str:
    return f"model.factory {config.model.factory!r} in {config.source}"


def _on_path(folder: str) -> None:
    # Appended, not prepended: a folder of the team's cannot shadow an installed package.
    if folder not in sys.path:
        sys.path.append(folder)


def _import(config: ModelConfig) -> Any:
    factory = config.model.factory
    assert factory is not None
    module_name, _, attr = factory.partition(":")
    if config.model.code_path:
        _on_path(config.model.code_path)
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:
        found = f" (looked in model.code_path {config.model.code_path})" * bool(
            config.model.code_path
        )
        raise ConfigError(
            f"{_where(config)}: cannot import {module_name!r}{found}: {type(exc).__name__}: {exc}"
        ) from exc
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as exc:
            raise ConfigError(f"{_where(config)}: {module_name!r} has no {attr!r}") from exc
    if not callable(target):
        raise ConfigError(f"{_where(config)}: {attr!r} is a {type(target).__name__}, not callable")
    return target


def _call(config: ModelConfig, factory: Any) -> Any:
    """Call with the ModelConfig if the factory takes one argument, else with none."""
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        params = []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in params if p.kind in kinds]
    try:
        return factory(config) if len(positional) == 1 else factory()
    except Exception as exc:
        raise ConfigError(f"{_where(config)} failed: {type(exc).__name__}: {exc}") from exc


def _package_dir(config: ModelConfig, module_name: str) -> str | None:
    """The top-level package folder under ``model.code_path``: it travels with the model.

    A factory from an installed package ships no code: the workers that load the model
    have the package installed like any other dependency.
    """
    if not config.model.code_path:
        return None
    root = sys.modules[module_name.split(".")[0]]
    paths = list(getattr(root, "__path__", [])) or [getattr(root, "__file__", None) or ""]
    home = Path(config.model.code_path)
    for path in paths:
        if path and Path(path).resolve().is_relative_to(home):
            return str(Path(path).resolve())
    raise ConfigError(
        f"{_where(config)}: package {root.__name__!r} was imported from {paths[0]}, "
        f"not from model.code_path {home} (an installed package of that name wins: rename one)"
    )


def build_team_model(config: ModelConfig) -> TeamModel:
    """Import the factory, call it, and check it returned an estimator.

    Raises:
        ConfigError: the factory cannot be imported or called, or it did not return an
            unfitted estimator (an object with ``fit`` and ``predict``); the message names
            the factory and the YAML file.
    """
    factory = _import(config)
    estimator = _call(config, factory)
    if isinstance(estimator, type):
        raise ConfigError(
            f"{_where(config)} returned the class {estimator.__name__}: return an instance"
        )
    missing = [m for m in ("fit", "predict") if not callable(getattr(estimator, m, None))]
    if missing:
        raise ConfigError(
            f"{_where(config)} returned a {type(estimator).__name__}, which has no "
            f"{' or '.join(missing)}: return an unfitted scikit-learn estimator or Pipeline"
        )
    module_name = str(config.model.factory).partition(":")[0]
    return TeamModel(estimator, _package_dir(config, module_name))


def build_model(config: ModelConfig) -> TeamModel:
    """The unfitted model: the team's factory (raw features in), or the built-in pipeline."""
    from retrainer.training.pipeline import build_pipeline

    if config.model.factory:
        return build_team_model(config)
    return TeamModel(build_pipeline(config), None)
