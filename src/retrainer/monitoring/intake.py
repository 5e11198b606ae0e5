"""Take the landed batches of a monitor run in: validate each, accept or quarantine it.

A batch that fails its suite is blocked (quarantined, alerted) and the others go on; the
step fails only when every batch was blocked, because bad data is no transient fault.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retrainer.errors import LakeConflict, NothingToDo, ObjectNotFound, ValidationFailed
from retrainer.lake import keys

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.notify import AlertSink
    from retrainer.storage import Storage

__all__ = ["Intake", "validate_landed_batches"]

log = logging.getLogger(__name__)


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


def validate_landed_batches(
    client: MlflowClient,
    storage: Storage,
    alert: AlertSink,
    config: ModelConfig,
    batch_ids: list[str],
) -> Intake:
    """Validate each landed batch with the champion's suite; accept it or quarantine it.

    Raises:
        NothingToDo: no batch was given.
    """
    from retrainer.lake import accept_batch, find_incoming
    from retrainer.registry import champion_version
    from retrainer.validation import load_suite_spec, validate_batch

    if not batch_ids:
        raise NothingToDo(
            "no batch to check: land one with `retrainer land` or give the batch_id Param"
        )
    champion = champion_version(client, config.name)
    spec = load_suite_spec(config, champion.run_id if champion else None, client=client)
    accepted: list[str] = []
    blocked: dict[str, list[str]] = {}
    docs: list[str | None] = []
    for batch_id in batch_ids:
        try:
            key = find_incoming(storage, config.name, batch_id)
            outcome = validate_batch(storage, config, batch_id, key, spec)
        except (ObjectNotFound, LakeConflict) as exc:  # missing, ambiguous, or would overwrite
            blocked[batch_id] = [str(exc)]
            log.error("batch %s: %s", batch_id, exc)
            continue
        except ValidationFailed as exc:
            blocked[batch_id] = exc.failed_checks
            docs.append(_blocked(storage, alert, config.name, batch_id, exc))
            continue
        assert outcome.batch_key is not None  # accepted batches always have a key
        accept_batch(storage, config, batch_id, outcome.batch_key)
        docs.append(_accepted(alert, config.name, batch_id, outcome))
        accepted.append(batch_id)
    return Intake(tuple(accepted), blocked, tuple(d for d in docs if d))
