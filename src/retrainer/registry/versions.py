"""Read model versions (by number or by alias) and write their tags.

Every read of the registry goes through here, so a missing version or an unset alias
means the same thing everywhere: None for an alias, :class:`RegistryError` for a version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.errors import RegistryError
from retrainer.registry.errors import alias_unset, is_missing
from retrainer.registry.tags import APPROVAL, APPROVED_BY, CHALLENGER, CHAMPION, PREFIX

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

__all__ = [
    "alias_version",
    "challenger_version",
    "champion_version",
    "get_version",
    "model_versions",
    "now_iso",
    "set_tags",
    "tag_values",
]

# Tags a person edits in the MLflow UI: the only names outside the namespace.
_PLAIN = {APPROVAL, APPROVED_BY}


def alias_version(client: MlflowClient, model: str, alias: str) -> ModelVersion | None:
    """Return the version ``alias`` points at, or None when it is not set.

    Raises:
        RegistryError: the registry could not be read.
    """
    try:
        return client.get_model_version_by_alias(model, alias)
    except Exception as exc:
        if alias_unset(exc):
            return None
        raise RegistryError(f"cannot read the {alias} of {model!r}: {exc}") from exc


def champion_version(client: MlflowClient, model: str) -> ModelVersion | None:
    """Return the version the ``champion`` alias points at, or None."""
    return alias_version(client, model, CHAMPION)


def challenger_version(client: MlflowClient, model: str) -> ModelVersion | None:
    """Return the version the ``challenger`` alias points at, or None."""
    return alias_version(client, model, CHALLENGER)


def get_version(client: MlflowClient, model: str, version: str | int) -> ModelVersion:
    """Return one version of a model.

    Raises:
        RegistryError: the model has no such version.
    """
    try:
        return client.get_model_version(model, str(version))
    except Exception as exc:
        if is_missing(exc):
            raise RegistryError(f"{model!r} has no version {version}") from exc
        raise


def model_versions(client: MlflowClient, model: str) -> list[ModelVersion]:
    """Every registered version of ``model``; none when the model is not registered yet."""
    try:
        return list(client.search_model_versions(f"name = '{model}'"))
    except Exception as exc:
        if is_missing(exc):
            return []
        raise


def set_tags(client: MlflowClient, model: str, version: str, tags: dict[str, Any]) -> None:
    """Set tags named in :mod:`retrainer.registry.tags` on a version (values become strings).

    Raises:
        ValueError: a name is outside the ``retrainer.`` namespace (a bare name would be
            written where nothing reads it).
    """
    for name, value in tag_values(tags).items():
        client.set_model_version_tag(model, version, name, value)


def tag_values(tags: dict[str, Any]) -> dict[str, str]:
    """``tags`` as MLflow stores them (strings), checked against the vocabulary.

    Raises:
        ValueError: a name is outside the ``retrainer.`` namespace.
    """
    for name in tags:
        if not name.startswith(PREFIX) and name not in _PLAIN:
            raise ValueError(f"tag {name!r} is not in the registry vocabulary")
    return {name: "" if value is None else str(value) for name, value in tags.items()}


def now_iso() -> str:
    """The current time as the ``*_at`` tags and champion claims record it."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
