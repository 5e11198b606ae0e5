"""Find what a killed or racing move left behind, explain it, and repair what is safe.

``retrainer doctor MODEL`` calls :func:`examine`. What it looks at, and what it does:

- **empty or malformed claim** (a claim written before its content, by an older
  retrainer killed half-way, or edited by hand): released, so its epoch can be claimed
  again; the ledger records ``claim_cleared``.
- **unrecorded move**: ``champion`` points where a claim meant it to, but the ledger entry
  is missing (killed after the alias moved): the entry is written from the claim.
- **stale claim** of the current champion whose alias never moved and that is older than
  ``stale_after``: released (``claim_cleared``). A younger one may be a move under way, and
  is only reported.
- **alias and ledger disagree** with no claim to explain it (a hand edit in the MLflow UI):
  recorded as ``manual_change``, as the next monitor run would.
- **a version the gate never judged** (older than ``stale_after``): reported; it can
  never be promoted or rolled back to, and only a retrain's evaluation judges it.
- **a landed batch never checked** (landed longer than ``unchecked_after`` ago, no
  validation record): reported with its intake claim, if any; its Asset event was lost
  or its run died, and the next monitor run takes it in.

With ``repair=False`` nothing is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from retrainer.errors import StaleClaim
from retrainer.lake import keys
from retrainer.lake.intake_claims import intake_chain, read_intake_claim, unchecked_batches
from retrainer.registry.claims import (
    CLAIM_TTL,
    Claim,
    claim_chain,
    is_released,
    read_claim,
    release_claim,
    take_snapshot,
)
from retrainer.registry.ledger import alias_events, read_ledger, reconcile_champion, record_event
from retrainer.registry.moves import complete_claim
from retrainer.registry.tags import GATE_DECISION
from retrainer.registry.versions import model_versions

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.storage import Storage

__all__ = ["Checkup", "Finding", "examine"]

DOCTOR = "retrainer doctor"
# A monitor run takes a batch in within minutes of its landing event.
UNCHECKED_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Finding:
    """One inconsistency: what it is, where, and what was (or would be) done about it."""

    kind: str  # empty_claim | unrecorded_move | stale_claim | live_claim | ...
    subject: str  # a lake key or "v<version>"
    problem: str
    action: str
    repaired: bool


@dataclass(frozen=True)
class Checkup:
    model: str
    dry_run: bool
    findings: tuple[Finding, ...]

    @property
    def unrepaired(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.repaired)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dry_run": self.dry_run,
            "findings": [asdict(f) for f in self.findings],
            "unrepaired": len(self.unrepaired),
        }


def examine(
    client: MlflowClient,
    storage: Storage,
    model: str,
    *,
    repair: bool = True,
    stale_after: timedelta = CLAIM_TTL,
    unchecked_after: timedelta = UNCHECKED_AFTER,
) -> Checkup:
    """Check claims, alias, ledger, gate decisions and landed batches; repair what is safe."""
    findings: list[Finding] = []
    snapshot = take_snapshot(client, storage, model)
    known = alias_events(storage, model)
    ledger_v = str(known[-1]["version"]) if known and known[-1].get("version") else None
    recorded = {str(e.get("claim")) for e in read_ledger(storage, model) if e.get("claim")}
    explained = False  # an unrecorded move accounts for alias != ledger
    for key in storage.list(keys.claims(model)):
        if not key.endswith(".json") or key in recorded or is_released(storage, key):
            continue
        try:
            claim = read_claim(storage, key)
        except StaleClaim:
            problem = (
                "the claim is empty or not a claim (a move killed while writing it, or a "
                "hand edit): every promotion and rollback of its champion fails on it"
            )
            findings.append(_clear(storage, model, key, None, "empty_claim", problem, repair))
            continue
        if claim.event == "" and _legacy_recorded(claim, known):
            continue
        if claim.version == snapshot.champion and claim.replaces == ledger_v:
            explained = True
            action = "ledger entry written from the claim" if repair else "would write it"
            if repair:
                complete_claim(storage, claim, recovered_by=DOCTOR)
            problem = (
                f"champion v{claim.version} was moved by {claim.actor} ({claim.event or 'move'} "
                f"at {claim.time}) but the ledger has no entry for it"
            )
            findings.append(Finding("unrecorded_move", key, problem, action, repair))
            continue
        if claim.epoch != snapshot.epoch or claim_chain(storage, model, claim.epoch)[-1] != key:
            continue  # an epoch that is over, or a claim already taken over: blocks nothing
        findings.append(_stale_or_live(storage, model, claim, snapshot.epoch, stale_after, repair))
    if not explained and snapshot.champion != ledger_v:
        findings.append(_disagreement(client, storage, model, snapshot.champion, ledger_v, repair))
    findings.extend(_ungated(client, model, stale_after))
    findings.extend(_unchecked(storage, model, unchecked_after))
    return Checkup(model, not repair, tuple(findings))


def _clear(
    storage: Storage,
    model: str,
    key: str,
    claim: Claim | None,
    kind: str,
    problem: str,
    repair: bool,
) -> Finding:
    if not repair:
        return Finding(kind, key, problem, "would release it (ledger: claim_cleared)", False)
    release_claim(storage, key, reason=f"cleared by {DOCTOR}: {kind}", actor=DOCTOR)
    record_event(
        storage,
        model,
        "claim_cleared",
        {
            "version": None if claim is None else claim.version,
            "claim": key,
            "reason": f"{kind}: {problem}"[:500],
            "actor": DOCTOR,
        },
    )
    return Finding(kind, key, problem, "released (ledger: claim_cleared)", True)


def _stale_or_live(
    storage: Storage,
    model: str,
    claim: Claim,
    epoch: str,
    stale_after: timedelta,
    repair: bool,
) -> Finding:
    age = claim.age(datetime.now(UTC))
    problem = (
        f"v{claim.version} claimed the replacement of champion v{claim.replaces} "
        f"({claim.event or 'move'} by {claim.actor} at {claim.time}, {age} ago) and never "
        "moved the alias"
    )
    if age < stale_after:
        return Finding(
            "live_claim",
            claim.key,
            problem,
            f"left alone: younger than {stale_after}, the move may be under way; if its run "
            f"died, run `retrainer doctor {model} --stale-after 0`",
            False,
        )
    return _clear(storage, model, claim.key, claim, "stale_claim", problem, repair)


def _disagreement(
    client: MlflowClient,
    storage: Storage,
    model: str,
    champion: str | None,
    ledger_v: str | None,
    repair: bool,
) -> Finding:
    problem = (
        f"champion alias points at v{champion} but the ledger's last champion is v{ledger_v}, "
        "and no claim of retrainer explains the move (a hand edit in the MLflow UI?)"
    )
    if not repair:
        return Finding("ledger_disagrees", "champion", problem, "would record manual_change", False)
    found = reconcile_champion(client, storage, model, context={"recorded_by": DOCTOR})
    action = "recorded manual_change" + (f" ({found['key']})" if found else "")
    return Finding("ledger_disagrees", "champion", problem, action, True)


def _ungated(client: MlflowClient, model: str, stale_after: timedelta) -> list[Finding]:
    cutoff = (datetime.now(UTC) - stale_after).timestamp() * 1000
    versions = model_versions(client, model)
    return [
        Finding(
            "ungated_version",
            f"v{mv.version}",
            f"v{mv.version} (run {mv.run_id}) has no gate decision: it can never be promoted "
            "or rolled back to",
            "left alone: a retrain's evaluation judges it (e.g. trigger the retrain with force)",
            False,
        )
        for mv in versions
        if GATE_DECISION not in (mv.tags or {}) and (mv.creation_timestamp or 0) < cutoff
    ]


def _legacy_recorded(claim: Claim, known: list[dict[str, Any]]) -> bool:
    """A claim from before intents existed: done if the ledger shows its move."""
    return any(
        str(e.get("version")) == claim.version
        and str(e.get("previous_version")) == str(claim.replaces)
        for e in known
    )


def _unchecked(storage: Storage, model: str, unchecked_after: timedelta) -> list[Finding]:
    now = datetime.now(UTC)
    findings = []
    for landed in unchecked_batches(storage, model):
        age = now - landed.landed_at
        if age < unchecked_after:
            continue  # its monitor run may be on its way
        chain = intake_chain(storage, model, landed.batch_id)
        claim = read_intake_claim(storage, chain[-1], landed.batch_id) if chain else None
        held = (
            f"; monitor run {claim.run} claimed it at {claim.time} and never validated it"
            if claim
            else "; no monitor run took it in (its Asset event was lost?)"
        )
        findings.append(
            Finding(
                "unchecked_batch",
                landed.key,
                f"batch {landed.batch_id} landed {_minutes(age)} ago and was never checked{held}",
                f"left alone: the next {model}_monitor run takes it in (trigger one now "
                "without a batch_id to check every landed batch that was never checked)",
                False,
            )
        )
    return findings


def _minutes(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
