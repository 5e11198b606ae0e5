"""Move the aliases forward: promote a challenger to champion, or park a rejected one.

Each champion move is claimed with its intent, recorded on the version's tags before the
alias moves, and written to the ledger after (:mod:`retrainer.registry.moves`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from retrainer.errors import RegistryError
from retrainer.registry.artifacts import ARTIFACTS
from retrainer.registry.claims import CLAIM_TTL, take_snapshot
from retrainer.registry.ledger import record_event
from retrainer.registry.moves import complete_claim, complete_pending, move_champion
from retrainer.registry.safe_load import inspect_version
from retrainer.registry.tags import (
    CHALLENGER,
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
    get_version,
    now_iso,
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
    stale_after: timedelta = CLAIM_TTL,
) -> AliasChange:
    """Move ``champion`` to ``version`` if the champion is still ``expected_champion``.

    The compare-and-set check stops a promotion that was decided against a champion that
    has since changed (another retrain or a rollback won the race); it and the claim read
    the same snapshot, and the alias is read again after claiming.

    Raises:
        ChampionMoved: a rollback or another promotion moved the champion meanwhile.
        StaleClaim: an empty or malformed claim blocks the epoch (``retrainer doctor``).
        RegistryError: the champion moved since the challenger was evaluated.
        UnsafeModelError: the version would run code when loaded (never made champion).
    """
    snapshot = take_snapshot(client, storage, model)
    if complete_pending(client, storage, model, snapshot=snapshot):
        snapshot = take_snapshot(client, storage, model)  # a killed move got its entry
    current_v = snapshot.champion
    if current_v == version:
        raise RegistryError(f"version {version} of {model!r} is already the champion")
    if current_v != (None if expected_champion is None else str(expected_champion)):
        raise RegistryError(
            f"champion of {model!r} is now version {current_v}, not {expected_champion} as "
            f"when version {version} was evaluated: re-run the evaluation"
        )
    inspect_version(client, model, version)  # whatever the tags say, never an unsafe champion
    mv = get_version(client, model, version)
    run_id = mv.tags.get(RUN_ID) or mv.run_id
    # The monitor reads drift reference and validation suite of whatever is champion:
    # naming them on the version makes the binding visible in the registry UI.
    reference = f"runs:/{run_id}/{ARTIFACTS['profile']}"
    suite = f"runs:/{run_id}/{ARTIFACTS['suite']}"
    claim = move_champion(
        client,
        storage,
        snapshot,
        version,
        event="promote",
        actor=actor,
        tags={
            PREVIOUS_CHAMPION: current_v,
            PROMOTED_AT: now_iso(),
            PROMOTED_BY: actor,
            PROMOTION_REASON: reason,
            REFERENCE_PROFILE: reference,
            VALIDATION_SUITE: suite,
        },
        ledger={
            "reason": reason,
            "reference_profile": reference,
            "validation_suite": suite,
            **(context or {}),
        },
        context=context,
        stale_after=stale_after,
    )
    holder = challenger_version(client, model)
    if holder is not None and str(holder.version) == str(version):
        client.delete_registered_model_alias(model, CHALLENGER)
    key = complete_claim(storage, claim)
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
