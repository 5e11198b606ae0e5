"""Registry actions on aliases: read the champion, promote, reject, roll back.

Aliases (``champion``, ``challenger``) and namespaced version tags only; registry stages
are never used. Each alias change is recorded in the ledger and on the version's tags.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.errors import NoChampion, RegistryError
from retrainer.lake import keys
from retrainer.registry.ledger import alias_events, record_event

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from retrainer.storage import Storage

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "AliasChange",
    "champion_version",
    "claim_champion",
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
    return datetime.now(UTC).isoformat(timespec="microseconds")


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
    claim_champion(storage, model, current_v, version, actor=actor, context=context)
    mv = get_version(client, model, version)
    run_id = mv.tags.get(f"{TAG}run_id") or mv.run_id
    bound = {
        # The monitor reads drift reference and validation suite of whatever is champion:
        # naming them on the version makes the binding visible in the registry UI.
        "reference_profile": f"runs:/{run_id}/reference/profile.json",
        "validation_suite": f"runs:/{run_id}/validation/suite.json",
    }
    set_tags(
        client,
        model,
        version,
        {
            "previous_champion": current_v,
            "promoted_at": _now(),
            "promoted_by": actor,
            "promotion_reason": reason,
            **bound,
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
            "alias": CHAMPION,
            "reason": reason,
            "actor": actor,
            **bound,
            **(context or {}),
        },
    )
    return AliasChange(model, "promote", version, current_v, reason, actor, key)


def claim_champion(
    storage: Storage,
    model: str,
    current: str | None,
    version: str,
    *,
    actor: str,
    context: dict[str, Any] | None = None,
) -> str:
    """Claim the right to replace the current champion; exactly one claimant wins.

    MLflow has no conditional alias update, so two promotions that both passed the
    compare-and-set read could both move the alias (a lost update). Each champion *epoch*
    (its version and the number of alias changes so far) can be claimed once, with an
    atomic create in the lake; the loser stops. A retried task finds its own claim.

    Raises:
        RegistryError: another version claimed this epoch first.
    """
    epoch = f"{current or 'none'}-{len(alias_events(storage, model))}"
    key = keys.champion_claim(model, epoch)
    claim = {
        "model": model,
        "version": str(version),
        "replaces": current,
        "actor": actor,
        "time": _now(),
        "airflow_run_id": (context or {}).get("airflow_run_id"),
    }
    if storage.create_new(key, json.dumps(claim, indent=2).encode("utf-8")):
        return key
    holder = storage.read_json(key)
    if str(holder.get("version")) == str(version):
        return key  # our own claim: a retry after a crash between claim and alias move
    raise RegistryError(
        f"version {holder.get('version')} of {model!r} already claimed the replacement of "
        f"champion {current} (by {holder.get('actor')} at {holder.get('time')}): "
        f"version {version} is not promoted; re-run the evaluation against the new champion"
    )


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
            is already the champion, was never judged by the gate or failed one of its
            safety rules, or takes other inputs than the champion.
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
    refusal = _unfit_for_rollback(target_mv)
    if refusal:
        raise RegistryError(f"version {target_v} of {model!r} {refusal}")
    mismatch = signature_mismatch(model, target_v, current_v)
    if mismatch:
        raise RegistryError(
            f"version {target_v} of {model!r} takes other inputs than champion "
            f"{current_v}: {mismatch}"
        )
    claim_champion(storage, model, current_v, target_v, actor=actor, context=context)
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
            "alias": CHAMPION,
            "reason": reason,
            "actor": actor,
            **(context or {}),
        },
    )
    return AliasChange(model, "rollback", target_v, current_v, reason, actor, key)


def _unfit_for_rollback(mv: ModelVersion) -> str | None:
    """Why a version must not serve, or None.

    A version the gate rejected only for not beating the champion of its day is a valid
    rollback target; one that failed a safety rule (a floor, a slice, fairness, a budget)
    or was never judged is not.
    """
    tags = mv.tags
    decision = tags.get(f"{TAG}gate.decision")
    safety = tags.get(f"{TAG}gate.safety")
    reason = tags.get(f"{TAG}gate.reason", "no gate decision")
    if decision is None:
        return "was never judged by the gate: roll back to a version the gate passed"
    if safety is None and decision != "promote":
        return f"was rejected by the gate ({reason})"  # recorded before safety kinds existed
    if safety is not None and safety.startswith("fail"):
        return f"failed a safety rule of the gate ({safety.removeprefix('fail: ')}): {reason}"
    return None


def signature_mismatch(model: str, version: str, other: str) -> str | None:
    """Describe how the input schemas of two versions differ, or None when they match."""
    from mlflow.models import get_model_info

    def inputs(v: str) -> list[dict[str, Any]] | None:
        signature = get_model_info(f"models:/{model}/{v}").signature
        if signature is None or signature.inputs is None:
            return None
        return list(signature.inputs.to_dict())

    mine, theirs = inputs(version), inputs(other)
    if mine is None or theirs is None:
        return None if mine == theirs else "one of them has no signature"
    if mine == theirs:
        return None
    names = {c.get("name") for c in mine}
    other_names = {c.get("name") for c in theirs}
    missing, extra = sorted(other_names - names, key=str), sorted(names - other_names, key=str)
    return f"missing {missing}, extra {extra}" if missing or extra else "column types differ"
