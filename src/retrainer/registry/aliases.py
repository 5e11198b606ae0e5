"""Registry actions on aliases: read the champion, promote, reject, roll back.

Aliases (``champion``, ``challenger``) and namespaced version tags only; registry stages
are never used. Each alias change is recorded in the ledger and on the version's tags.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.errors import NoChampion, RegistryError
from retrainer.registry.ledger import record_event

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from retrainer.storage import Storage

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "AliasChange",
    "champion_version",
    "get_version",
    "mark_rejected",
    "promote",
    "rollback",
    "set_tags",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
TAG = "retrainer."


@dataclass(frozen=True)
class AliasChange:
    model: str
    event: str
    version: str
    previous_version: str | None
    reason: str
    actor: str
    ledger_key: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _missing(exc: Exception) -> bool:
    text = str(exc)
    return "RESOURCE_DOES_NOT_EXIST" in text or "not found" in text.lower()


def champion_version(client: MlflowClient, model: str) -> ModelVersion | None:
    """Return the version the ``champion`` alias points at, or None."""
    try:
        return client.get_model_version_by_alias(model, CHAMPION)
    except Exception as exc:
        if _missing(exc):
            return None
        raise RegistryError(f"cannot read the champion of {model!r}: {exc}") from exc


def get_version(client: MlflowClient, model: str, version: str | int) -> ModelVersion:
    try:
        return client.get_model_version(model, str(version))
    except Exception as exc:
        if _missing(exc):
            raise RegistryError(f"{model!r} has no version {version}") from exc
        raise


def set_tags(client: MlflowClient, model: str, version: str, tags: dict[str, Any]) -> None:
    """Set ``retrainer.``-namespaced tags on a version (values become strings)."""
    for key, value in tags.items():
        name = key if key.startswith(TAG) else f"{TAG}{key}"
        client.set_model_version_tag(model, version, name, "" if value is None else str(value))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def promote(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    *,
    expected_champion: str | None,
    reason: str,
    actor: str,
    context: dict[str, Any] | None = None,
) -> AliasChange:
    """Move ``champion`` to ``version`` if the champion is still ``expected_champion``.

    The compare-and-set check stops a promotion that was decided against a champion that
    has since changed (another retrain or a rollback won the race).

    Raises:
        RegistryError: the champion moved since the challenger was evaluated.
    """
    current = champion_version(client, model)
    current_v = str(current.version) if current else None
    if current_v == version:
        raise RegistryError(f"version {version} of {model!r} is already the champion")
    if current_v != (None if expected_champion is None else str(expected_champion)):
        raise RegistryError(
            f"champion of {model!r} is now version {current_v}, not {expected_champion} as "
            f"when version {version} was evaluated: re-run the evaluation"
        )
    set_tags(
        client,
        model,
        version,
        {
            "previous_champion": current_v,
            "promoted_at": _now(),
            "promoted_by": actor,
            "promotion_reason": reason,
        },
    )
    client.set_registered_model_alias(model, CHAMPION, version)
    _drop_challenger_alias(client, model, version)
    key = record_event(
        storage,
        model,
        "promote",
        {
            "version": version,
            "previous_version": current_v,
            "reason": reason,
            "actor": actor,
            **(context or {}),
        },
    )
    return AliasChange(model, "promote", version, current_v, reason, actor, key)


def _drop_challenger_alias(client: MlflowClient, model: str, version: str) -> None:
    try:
        holder = client.get_model_version_by_alias(model, CHALLENGER)
    except Exception:
        return
    if str(holder.version) == str(version):
        client.delete_registered_model_alias(model, CHALLENGER)


def mark_rejected(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    *,
    reason: str,
    actor: str,
    context: dict[str, Any] | None = None,
) -> AliasChange:
    """Point ``challenger`` at a candidate the gate rejected, so people can inspect it.

    Idempotent: when ``challenger`` already points at this version (a retried task), no
    second ledger entry is written.
    """
    try:
        holder = client.get_model_version_by_alias(model, CHALLENGER)
    except Exception:
        holder = None
    if holder is not None and str(holder.version) == str(version):
        return AliasChange(model, "reject", str(version), None, reason, actor, "")
    client.set_registered_model_alias(model, CHALLENGER, version)
    key = record_event(
        storage,
        model,
        "reject",
        {
            "version": version,
            "reason": reason,
            "actor": actor,
            **(context or {}),
        },
    )
    return AliasChange(model, "reject", version, None, reason, actor, key)


def rollback(
    client: MlflowClient,
    storage: Storage,
    model: str,
    *,
    target_version: str | None,
    reason: str,
    actor: str,
    context: dict[str, Any] | None = None,
) -> AliasChange:
    """Move ``champion`` back to ``target_version`` (default: the previous champion).

    Raises:
        NoChampion: the model has no champion to roll back from.
        RegistryError: no target was given and none is known, the target does not exist,
            is already the champion, or was never promoted by the gate.
    """
    if not reason or not reason.strip():
        raise RegistryError("a rollback needs a reason")
    current = champion_version(client, model)
    if current is None:
        raise NoChampion(f"{model!r} has no champion to roll back from")
    target = target_version or current.tags.get(f"{TAG}previous_champion") or None
    if not target or target == "None":
        raise RegistryError(
            f"champion version {current.version} of {model!r} has no previous champion: "
            "give target_version"
        )
    target_mv = get_version(client, model, target)
    target_v, current_v = str(target_mv.version), str(current.version)
    if target_v == current_v:
        raise RegistryError(f"version {target} of {model!r} is already the champion")
    if target_mv.tags.get(f"{TAG}gate.decision") != "promote":
        # A version the gate rejected (or never judged) was never fit for production.
        raise RegistryError(
            f"version {target_v} of {model!r} was never promoted by the gate "
            f"({target_mv.tags.get(f'{TAG}gate.reason', 'no gate decision')}); "
            "roll back to a version that was champion before"
        )
    set_tags(
        client,
        model,
        target_v,
        {
            "previous_champion": current_v,
            "promoted_at": _now(),
            "promoted_by": actor,
            "promotion_reason": f"rollback: {reason}",
        },
    )
    set_tags(client, model, current_v, {"rolled_back_at": _now(), "rollback_reason": reason})
    client.set_registered_model_alias(model, CHAMPION, target_v)
    key = record_event(
        storage,
        model,
        "rollback",
        {
            "version": target_v,
            "previous_version": current_v,
            "reason": reason,
            "actor": actor,
            **(context or {}),
        },
    )
    return AliasChange(model, "rollback", target_v, current_v, reason, actor, key)
