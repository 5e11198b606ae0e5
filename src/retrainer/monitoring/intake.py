"""Take the landed batches of a monitor run in: validate each, accept or quarantine it.

A run takes in the batches of its landing events and every other landed batch that was
never checked (its event was lost, or folded into a run that started before it landed),
each under an intake claim so that of two overlapping runs only one validates it. The
accepted batches go on in data order (newest last), so a decay or drift event names the
newest batch, whatever order Airflow folded the events in.

A batch that fails its suite is blocked (quarantined, alerted) and the others go on; the
step fails only when every batch was blocked, because bad data is no transient fault.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from retrainer.errors import LakeConflict, NothingToDo, ObjectNotFound, ValidationFailed
from retrainer.lake import accept_batch, find_incoming, keys, read_meta
from retrainer.lake.intake_claims import Landed, claim_intake, taken_by, unchecked_batches

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.notify import AlertSink
    from retrainer.storage import Storage

__all__ = ["Intake", "IntakeRequest", "validate_landed_batches"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeRequest:
    """What a monitor run asks to take in, and who it is (the owner of its claims)."""

    run: str
    # The batches of the run's landing events, or the batch_id Param.
    batch_ids: tuple[str, ...] = ()
    # The batch_id Param: check just that batch, even when it was checked before.
    only_requested: bool = False


@dataclass(frozen=True)
class Intake:
    """Which batches were accepted, which blocked (and why), where their Data Docs are."""

    accepted: tuple[str, ...]
    blocked: dict[str, list[str]] = field(default_factory=dict)
    # Data Docs of blocked or partly quarantined batches, in the order they were validated.
    docs: tuple[str, ...] = ()

    @property
    def last_docs(self) -> str | None:
        return self.docs[-1] if self.docs else None

    def raise_if_all_blocked(self) -> None:
        """Raise ValidationFailed when no batch got through (nothing downstream may run)."""
        if self.accepted:
            return
        raise ValidationFailed(
            "every batch was blocked: "
            + "; ".join(f"{b}: {', '.join(c)}" for b, c in self.blocked.items()),
            batch_id=",".join(self.blocked),
            failed_checks=[c for checks in self.blocked.values() for c in checks],
        )

    def to_xcom(self) -> list[str]:
        """The accepted batch ids: what the check and shadow tasks work on."""
        return list(self.accepted)

    @classmethod
    def from_xcom(cls, value: list[str] | None) -> Intake:
        return cls(accepted=tuple(str(b) for b in value or ()))


def _blocked(
    storage: Storage, alert: AlertSink, model: str, batch_id: str, exc: ValidationFailed
) -> str | None:
    """Log and alert a blocked batch; return its Data Docs key if it has one."""
    for check in exc.failed_checks:
        log.error("batch %s failed check: %s", batch_id, check)
    log.error(
        "batch %s quarantined in %s (validation result %s)",
        batch_id,
        storage.uri(exc.evidence.get("quarantine_prefix") or ""),
        exc.report_key,
    )
    docs = exc.evidence.get("data_docs_key")
    if docs:
        log.error("batch %s Data Docs: %s", batch_id, storage.uri(docs))
    alert(
        f"{model}: batch {batch_id} blocked",
        str(exc),
        {"batch_id": batch_id, "report_key": exc.report_key},
        event="blocked_batch",
    )
    return str(docs) if docs else None


def _accepted(alert: AlertSink, model: str, batch_id: str, outcome: Any) -> str | None:
    """Log (and alert on quarantined rows of) an accepted batch; return its Data Docs key."""
    for warning in outcome.warnings:
        log.warning("batch %s check (warn only): %s", batch_id, warning)
    docs = None
    if outcome.status == "rows_quarantined":
        docs = f"{outcome.quarantine_prefix}/{keys.DATA_DOCS}"
        for code, count in outcome.reasons.items():
            log.warning("batch %s: %d row(s) quarantined for %s", batch_id, count, code)
        alert(
            f"{model}: {outcome.quarantined_rows} row(s) of batch {batch_id} quarantined",
            f"{outcome.quarantined_rows} of {outcome.rows} rows failed row checks "
            f"{outcome.reasons}; kept in {outcome.quarantine_prefix}/",
            outcome.to_dict(),
            event="rows_quarantined",
        )
    log.info(
        "batch %s accepted (%d of %d rows) -> %s",
        batch_id,
        outcome.rows - outcome.quarantined_rows,
        outcome.rows,
        outcome.batch_key,
    )
    return docs


def _order(
    storage: Storage, model: str, requested: tuple[str, ...], swept: list[Landed]
) -> list[str]:
    """The requested and the never-checked batches, once each, oldest landing first."""
    landed = {b.batch_id: b.landed_at for b in swept}
    ids = list(dict.fromkeys([*requested, *landed]))
    for batch_id in ids:
        if batch_id not in landed:
            # Missing or ambiguous: the intake says what is wrong with it.
            with contextlib.suppress(ObjectNotFound, LakeConflict):
                landed[batch_id] = storage.modified(find_incoming(storage, model, batch_id))
    last = datetime.max.replace(tzinfo=UTC)
    return sorted(ids, key=lambda b: landed.get(b, last))


def _data_order(storage: Storage, model: str, accepted: list[str]) -> tuple[str, ...]:
    """Accepted batches by the end of their data (then landing order), newest last."""
    ends = {}
    for batch_id in accepted:
        meta = read_meta(storage, model, batch_id)
        ends[batch_id] = (meta.end if meta else None) or ""
    return tuple(sorted(accepted, key=lambda b: ends[b]))  # stable: ties keep landing order


def validate_landed_batches(
    client: MlflowClient,
    storage: Storage,
    alert: AlertSink,
    config: ModelConfig,
    request: IntakeRequest,
) -> Intake:
    """Take in the requested and every never-checked landed batch; accept or quarantine each.

    A batch another run claimed is left to it. With ``only_requested`` (the batch_id
    Param) just the requested batches are validated, claimed or not.

    Raises:
        NothingToDo: no batch to take in.
    """
    from retrainer.registry import champion_version
    from retrainer.validation import load_suite_spec, served_context, validate_batch

    model = config.name
    swept = [] if request.only_requested else unchecked_batches(storage, model)
    # A retried task redoes the batches its run claimed, validated or not: the check after
    # validation may never have run for them.
    own = () if request.only_requested else tuple(sorted(taken_by(storage, model, request.run)))
    candidates = _order(storage, model, (*request.batch_ids, *own), swept)
    if swept:
        log.info("never-checked landed batches: %s", ", ".join(b.batch_id for b in swept))
    batch_ids: list[str] = []
    keys_of: dict[str, str] = {}
    blocked: dict[str, list[str]] = {}
    for batch_id in candidates:
        try:
            keys_of[batch_id] = find_incoming(storage, model, batch_id)
        except (ObjectNotFound, LakeConflict) as exc:  # missing or ambiguous
            blocked[batch_id] = [str(exc)]
            log.error("batch %s: %s", batch_id, exc)
            continue
        claim = claim_intake(storage, model, batch_id, request.run)
        if claim is None and not request.only_requested:
            log.info("batch %s: taken in by another monitor run already", batch_id)
            continue
        batch_ids.append(batch_id)
    if not batch_ids and not blocked:
        raise NothingToDo(
            "no batch to check: every landed batch was checked already; land one with "
            "`retrainer land` or give the batch_id Param"
        )
    champion = champion_version(client, model)
    spec = load_suite_spec(config, champion.run_id if champion else None, client=client)
    served = served_context(client, config, spec)
    accepted: list[str] = []
    docs: list[str | None] = []
    for batch_id in batch_ids:
        try:
            outcome = validate_batch(
                storage, config, batch_id, keys_of[batch_id], spec, served=served
            )
        except (ObjectNotFound, LakeConflict) as exc:  # gone, or would overwrite accepted rows
            blocked[batch_id] = [str(exc)]
            log.error("batch %s: %s", batch_id, exc)
            continue
        except ValidationFailed as exc:
            blocked[batch_id] = exc.failed_checks
            docs.append(_blocked(storage, alert, model, batch_id, exc))
            continue
        assert outcome.batch_key is not None  # accepted batches always have a key
        accept_batch(storage, config, batch_id, outcome.batch_key)
        docs.append(_accepted(alert, model, batch_id, outcome))
        accepted.append(batch_id)
    return Intake(_data_order(storage, model, accepted), blocked, tuple(d for d in docs if d))
