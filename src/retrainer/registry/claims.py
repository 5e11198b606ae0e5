"""Claim the right to replace a champion: exactly one of two racing alias moves wins.

MLflow has no conditional alias update, so two moves of ``champion`` (promotions, a
rollback) that both passed their compare-and-set read could both move the alias. Each
champion *epoch* (the champion and the number of alias changes so far, read once into a
:class:`Snapshot` that also feeds the compare-and-set) can be claimed once, with an atomic
create in the lake; the loser stops. Promotion and rollback claim the same epochs.

A claim is the move's *intent*: the version, the champion it replaces, who, why, and the
ledger entry to write once the alias has moved. It is written first and completed last
(:mod:`retrainer.registry.moves`), so a retry or the reconciler recognises a move killed
half-way as retrainer's own.

A claim whose alias never moved is *stale* once it was released (its move failed and
gave up) or is older than ``stale_after`` (its process died): the next move of the same
epoch takes it over under the next attempt key, and the ledger records the takeover. An
empty or malformed claim is never guessed at: it raises :class:`StaleClaim` until
``retrainer doctor`` clears it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from retrainer.errors import ChampionMoved, RegistryError, StaleClaim
from retrainer.lake import keys
from retrainer.registry.ledger import alias_events, record_once
from retrainer.registry.versions import champion_version, now_iso

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.storage import Storage

__all__ = [
    "CLAIM_TTL",
    "Claim",
    "Snapshot",
    "claim_chain",
    "claim_champion",
    "is_released",
    "read_claim",
    "release_claim",
    "take_snapshot",
]

# A promotion holds its claim for the seconds between claiming and moving the alias; a
# claim this old whose alias never moved belongs to a process that died.
CLAIM_TTL = timedelta(hours=1)
_MAX_ROUNDS = 16  # each round loses a create to a racer that then holds the epoch


@dataclass(frozen=True)
class Snapshot:
    """The champion and the number of champion moves in the ledger, read once."""

    model: str
    champion: str | None
    moves: int

    @property
    def epoch(self) -> str:
        return f"{self.champion or 'none'}-{self.moves}"


def take_snapshot(client: MlflowClient, storage: Storage, model: str) -> Snapshot:
    """Read the champion and the ledger once: the compare-and-set and the epoch both use it."""
    current = champion_version(client, model)
    moves = len(alias_events(storage, model))
    return Snapshot(model, None if current is None else str(current.version), moves)


@dataclass(frozen=True)
class Claim:
    """One move's intent, as stored at ``key``."""

    key: str
    model: str
    event: str  # promote | rollback ("" in claims written before intents existed)
    version: str
    replaces: str | None
    epoch: str
    actor: str
    time: str
    airflow_run_id: str | None = None
    ledger: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        body = {k: v for k, v in asdict(self).items() if k != "key"}
        return json.dumps(body, indent=2, sort_keys=True, default=str).encode("utf-8")

    def age(self, now: datetime) -> timedelta:
        return now - datetime.fromisoformat(self.time)


def read_claim(storage: Storage, key: str) -> Claim:
    """Parse the claim at ``key``.

    Raises:
        StaleClaim: the claim is empty or not a claim (a write killed half-way by an
            older retrainer, or a hand edit); it blocks its epoch until cleared.
    """
    raw = storage.read_bytes(key)
    try:
        body = json.loads(raw)
        version = str(body["version"])
        replaces = body.get("replaces")
        return Claim(
            key=key,
            model=str(body["model"]),
            event=str(body.get("event") or ""),
            version=version,
            replaces=None if replaces is None else str(replaces),
            epoch=str(body.get("epoch") or ""),
            actor=str(body.get("actor")),
            time=str(body["time"]),
            airflow_run_id=body.get("airflow_run_id"),
            ledger=dict(body.get("ledger") or {}),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        what = "is empty" if not raw.strip() else f"is not a valid claim ({exc})"
        model = key.split("/")[1] if key.count("/") >= 2 else "MODEL"
        raise StaleClaim(
            f"champion claim {storage.uri(key)} {what}: it blocks every promotion and "
            f"rollback of this champion; clear it with `retrainer doctor {model}`",
            key=key,
        ) from exc


def is_released(storage: Storage, key: str) -> bool:
    """Whether the claim at ``key`` was given up (released or cleared by the doctor)."""
    return storage.exists(keys.claim_release(key))


def release_claim(storage: Storage, key: str, *, reason: str, actor: str) -> None:
    """Mark a claim whose alias never moved as given up, so the epoch can be claimed again."""
    marker = {"reason": reason, "actor": actor, "time": now_iso()}
    storage.write_json(keys.claim_release(key), marker)


def _entry_key(claim: Claim) -> str:
    """Where the ledger entry of a claimed move is written (its claim's time and event)."""
    return keys.ledger_entry(claim.model, datetime.fromisoformat(claim.time), claim.event)


def claim_chain(storage: Storage, model: str, epoch: str) -> list[str]:
    """The claim keys of one epoch in attempt order: the last one holds the epoch."""
    chain: list[str] = []
    while storage.exists(keys.champion_claim(model, epoch, len(chain))):
        chain.append(keys.champion_claim(model, epoch, len(chain)))
    return chain


def claim_champion(
    storage: Storage,
    snapshot: Snapshot,
    version: str,
    *,
    event: str,
    actor: str,
    ledger: dict[str, Any],
    context: dict[str, Any] | None = None,
    stale_after: timedelta = CLAIM_TTL,
) -> Claim:
    """Claim the replacement of the snapshot's champion by ``version``; return the claim.

    A retried task finds its own claim. A stale claim of the same epoch is taken over (and
    the takeover written to the ledger).

    Raises:
        ChampionMoved: another move of this epoch already moved the alias (it won).
        StaleClaim: the epoch's claim is empty or malformed (``retrainer doctor`` clears it).
        RegistryError: another move holds this epoch and is not stale.
    """
    model = snapshot.model
    for _ in range(_MAX_ROUNDS):
        chain = claim_chain(storage, model, snapshot.epoch)
        taken_from: Claim | None = None
        if chain:
            head_key = chain[-1]
            released = is_released(storage, head_key)
            try:
                head: Claim | None = read_claim(storage, head_key)
            except StaleClaim:
                if not released:
                    raise
                head = None  # an empty claim the doctor cleared
            own = head is not None and head.version == str(version) and head.event in {event, ""}
            if own and not released and head is not None:
                return head  # our own claim: a retry after a crash before the alias move
            if head is not None and head.event and storage.exists(_entry_key(head)):
                raise ChampionMoved(
                    f"v{head.version} of {model!r} already replaced champion "
                    f"v{snapshot.champion} ({head.event} by {head.actor} at {head.time}): a "
                    f"{head.event} won the race; v{version} is not moved, re-run the "
                    "evaluation against the new champion"
                )
            now = datetime.now(UTC)
            if head is not None and not released and head.age(now) < stale_after:
                raise RegistryError(
                    f"version {head.version} of {model!r} claimed the replacement of champion "
                    f"{snapshot.champion} ({head.event or 'move'} by {head.actor} at "
                    f"{head.time}, {head_key}) and has not moved the alias yet: version "
                    f"{version} is not moved. If that run is still going, wait for it; if it "
                    f"died, its claim is stale after {stale_after} or clear it now with "
                    f"`retrainer doctor {model} --stale-after 0`"
                )
            taken_from = head
        key = keys.champion_claim(model, snapshot.epoch, len(chain))
        claim = Claim(
            key=key,
            model=model,
            event=event,
            version=str(version),
            replaces=snapshot.champion,
            epoch=snapshot.epoch,
            actor=actor,
            time=now_iso(),
            airflow_run_id=(context or {}).get("airflow_run_id"),
            ledger={**ledger, "claim": key},
        )
        if not storage.create_new(key, claim.to_bytes()):
            continue  # a racer created this attempt first: look again at what it holds
        if chain:  # at the claim's time, so it sorts before the move it makes possible
            record_once(
                storage,
                model,
                "claim_takeover",
                {
                    "version": str(version),
                    "claim": key,
                    "taken_from": chain[-1],
                    "stale_version": None if taken_from is None else taken_from.version,
                    "reason": "the claim was released or had expired without moving the alias",
                    "actor": actor,
                },
                at=claim.time,
            )
        return claim
    raise RegistryError(
        f"could not claim the replacement of champion {snapshot.champion} of {model!r}: "
        f"{_MAX_ROUNDS} other moves claimed it first"
    )
