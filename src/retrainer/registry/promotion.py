"""Move the aliases forward: promote a challenger to champion, or park a rejected one.

Each alias change is claimed (:mod:`retrainer.registry.claims`), recorded on the version's
tags before the alias moves, and written to the ledger after.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.errors import RegistryError
from retrainer.registry.artifacts import ARTIFACTS
from retrainer.registry.claims import claim_champion
from retrainer.registry.ledger import record_event
from retrainer.registry.safe_load import inspect_version
from retrainer.registry.tags import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS_CHAMPION,
    PROMOTED_AT,
    PROMOTED_BY,
    PROMOTION_REASON,
    REFERENCE_PROFILE,
    RUN_ID,
    VALIDATION_SUITE,
)
from retrainer.registry.versions import (
    challenger_version,
    champion_version,
    get_version,
    now_iso,
    set_tags,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.storage import Storage

__all__ = ["AliasChange", "mark_rejected", "promote"]


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
        UnsafeModelError: the version would run code when loaded (never made champion).
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
    inspect_version(client, model, version)  # whatever the tags say, never an unsafe champion
    claim_champion(storage, model, current_v, version, actor=actor, context=context)
    mv = get_version(client, model, version)
    run_id = mv.tags.get(RUN_ID) or mv.run_id
    # The monitor reads drift reference and validation suite of whatever is champion:
    # naming them on the version makes the binding visible in the registry UI.
    reference = f"runs:/{run_id}/{ARTIFACTS['profile']}"
    suite = f"runs:/{run_id}/{ARTIFACTS['suite']}"
    set_tags(
        client,
        model,
        version,
        {
            PREVIOUS_CHAMPION: current_v,
            PROMOTED_AT: now_iso(),
            PROMOTED_BY: actor,
            PROMOTION_REASON: reason,
            REFERENCE_PROFILE: reference,
            VALIDATION_SUITE: suite,
        },
    )
    client.set_registered_model_alias(model, CHAMPION, version)
    holder = challenger_version(client, model)
    if holder is not None and str(holder.version) == str(version):
        client.delete_registered_model_alias(model, CHALLENGER)
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
            "reference_profile": reference,
            "validation_suite": suite,
            **(context or {}),
        },
    )
    return AliasChange(model, "promote", version, current_v, reason, actor, key)


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
    holder = challenger_version(client, model)
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
