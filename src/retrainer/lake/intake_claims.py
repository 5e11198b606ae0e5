"""Which landed batches were never checked, and which monitor run takes each one in.

A landing's Asset event can be lost (the POST failed) or folded into another run, so a
monitor run also takes in every landed batch that has no validation record yet. Two
runs may see the same batch: each takes it only after creating its *intake claim* with
an atomic create-if-absent, so exactly one of them validates it.

A claim names its run, so a retried task finds its own claims, and a marker named after
the run sits beside it, so the retry also finds (with one listing) the batches it had
validated before it died but not yet checked. A claim whose batch still has no validation
record after ``stale_after`` belongs to a run that died: the next run takes it over under
the next attempt key (created once as well).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from retrainer.lake import keys
from retrainer.lake.catalogue import BATCH_ID, accepted_ids, quarantined_ids

if TYPE_CHECKING:
    from retrainer.storage import Storage

__all__ = [
    "INTAKE_TTL",
    "IntakeClaim",
    "Landed",
    "checked_ids",
    "claim_intake",
    "intake_chain",
    "is_checked",
    "landed_batches",
    "read_intake_claim",
    "taken_by",
    "unchecked_batches",
]

log = logging.getLogger(__name__)

# A run validates its batches within minutes; a claim this old with no validation record
# belongs to a run that died.
INTAKE_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class Landed:
    """A file in the landing zone: its batch, key and when it landed."""

    batch_id: str
    key: str
    landed_at: datetime


@dataclass(frozen=True)
class IntakeClaim:
    """The monitor run that took a batch in, as stored at ``key``."""

    key: str
    batch_id: str
    run: str
    time: str

    def age(self, now: datetime) -> timedelta:
        return now - datetime.fromisoformat(self.time)


def landed_batches(storage: Storage, model: str) -> list[Landed]:
    """Every batch file in ``incoming/<model>/`` (not its labels zone), oldest landing first."""
    prefix = f"{keys.incoming(model)}/"
    found = []
    for key in storage.list(prefix):
        name = key[len(prefix) :]
        suffix = next((s for s in keys.INCOMING_SUFFIXES if name.endswith(s)), None)
        batch_id = name.removesuffix(suffix) if suffix else ""
        # Sub-folders are zones (labels/); other names were not landed by retrainer.
        if "/" in name or not BATCH_ID.fullmatch(batch_id):
            continue
        found.append(Landed(batch_id, key, storage.modified(key)))
    return sorted(found, key=lambda landed: (landed.landed_at, landed.batch_id))


def checked_ids(storage: Storage, model: str) -> set[str]:
    """Batches with a validation record: accepted (``meta.json``) or quarantined."""
    return accepted_ids(storage, model) | quarantined_ids(storage, model)[0]


def is_checked(storage: Storage, model: str, batch_id: str) -> bool:
    """Whether one batch has a validation record (two reads, no listing)."""
    return storage.exists(keys.batch_meta(model, batch_id)) or storage.exists(
        f"{keys.quarantine(model, batch_id)}/{keys.VALIDATION_RESULT}"
    )


def unchecked_batches(storage: Storage, model: str) -> list[Landed]:
    """Landed batches without a validation record (claimed or not), oldest landing first."""
    checked = checked_ids(storage, model)
    return [landed for landed in landed_batches(storage, model) if landed.batch_id not in checked]


def _run_marker(model: str, batch_id: str, run: str) -> str:
    digest = hashlib.sha256(run.encode("utf-8")).hexdigest()[:16]  # run ids hold ':' and '+'
    return f"{keys.intake_claims(model)}{batch_id}/run-{digest}"


def taken_by(storage: Storage, model: str, run: str) -> set[str]:
    """The batches ``run`` claimed (from the key listing only)."""
    prefix = keys.intake_claims(model)
    name = _run_marker(model, "", run).rsplit("/", 1)[-1]
    return {
        key[len(prefix) :].split("/", 1)[0]
        for key in storage.list(prefix)
        if key.endswith(f"/{name}")
    }


def intake_chain(storage: Storage, model: str, batch_id: str) -> list[str]:
    """The claim keys of a batch in attempt order: the last one holds it."""
    chain: list[str] = []
    while storage.exists(keys.intake_claim(model, batch_id, len(chain))):
        chain.append(keys.intake_claim(model, batch_id, len(chain)))
    return chain


def read_intake_claim(storage: Storage, key: str, batch_id: str) -> IntakeClaim | None:
    """Parse a claim; ``None`` when it is not one (a hand edit): it holds nothing then."""
    try:
        body = json.loads(storage.read_bytes(key))
        claim = IntakeClaim(key, batch_id, str(body["run"]), str(body["time"]))
        claim.age(datetime.now(UTC))  # the time must parse
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("intake claim %s is not a claim (%s): it is taken over", key, exc)
        return None
    return claim


def claim_intake(
    storage: Storage,
    model: str,
    batch_id: str,
    run: str,
    *,
    stale_after: timedelta = INTAKE_TTL,
) -> IntakeClaim | None:
    """Claim a landed batch for ``run``; ``None`` when another run holds (or checked) it.

    A retry of ``run`` finds its own claim. A claim whose batch has no validation record
    after ``stale_after`` (its run died) is taken over.
    """
    for _ in range(16):  # each round loses a create to a racer that then holds the batch
        chain = intake_chain(storage, model, batch_id)
        if chain:
            head = read_intake_claim(storage, chain[-1], batch_id)
            if head is not None and head.run == run:
                storage.write_bytes(_run_marker(model, batch_id, run), run.encode("utf-8"))
                return head
            if is_checked(storage, model, batch_id):
                return None  # its run took it in
            now = datetime.now(UTC)
            if head is not None and head.age(now) < stale_after:
                return None  # its run may still be at it
            log.warning(
                "batch %s: taking over the intake claim %s (%s), which never validated it",
                batch_id,
                chain[-1],
                f"run {head.run} at {head.time}" if head else "not a claim",
            )
        key = keys.intake_claim(model, batch_id, len(chain))
        time = datetime.now(UTC).isoformat()
        body = json.dumps({"run": run, "time": time}, sort_keys=True).encode("utf-8")
        if storage.create_new(key, body):
            # Before the batch is validated: a retry of this run finds it by this marker.
            storage.write_bytes(_run_marker(model, batch_id, run), run.encode("utf-8"))
            return IntakeClaim(key, batch_id, run, time)
    return None
