"""One model's health at a glance: champion, recent batches, last trigger decisions.

Read-only. It joins what the pipeline already writes per batch under
``reports/<model>/<batch>/`` (``monitor.json`` from the monitor; ``performance.json`` and
``trigger.json`` when performance monitoring and the trigger policy produce them) with the
registry's champion and the ledger. Used by ``retrainer status`` and the Airflow "Models"
page; it never imports Airflow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from retrainer.lake import keys
from retrainer.registry.ledger import alias_events
from retrainer.registry.tags import PREFIX, PROMOTED_AT, PROMOTED_BY, PROMOTION_REASON, TRIGGER
from retrainer.registry.versions import champion_version

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage

__all__ = ["BatchStatus", "ChampionInfo", "ModelStatus", "TriggerStatus", "model_status"]

log = logging.getLogger(__name__)

# The per-batch records this module reads; any of them may be missing for a batch.
RECORDS = (keys.MONITOR, keys.PERFORMANCE, keys.TRIGGER)


@dataclass(frozen=True)
class ChampionInfo:
    version: str
    since: str | None  # when it became champion (ledger, else the promoted_at tag)
    event: str | None  # promote, rollback or manual_change
    trigger: str | None  # what started the retrain that produced it (drift, decay, manual...)
    reason: str | None
    by: str | None
    # The version's retrainer.* tags without the prefix: gate decision, window, approval...
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchStatus:
    batch_id: str
    checked_at: str | None
    champion_version: str | None
    drift: bool | None  # None: not checked (no champion yet or no monitor record)
    drift_score: float | None
    drifted_features: tuple[str, ...]
    explanation: str | None
    rows: int | None
    labelled_rows: int | None
    realized: Mapping[str, float]
    estimated: Mapping[str, float]
    estimate_broken: bool | None


@dataclass(frozen=True)
class TriggerStatus:
    """What the status page shows of a batch's trigger record (``trigger.json``)."""

    batch_id: str
    decided_at: str | None
    decision: str  # retrain, none or suppressed
    event: str | None  # decay, drift or None
    reasons: tuple[str, ...]
    suppressed_by: str | None


@dataclass(frozen=True)
class ModelStatus:
    """What ``model_status`` found; ``problems`` names records it could not read."""

    model: str
    metric: str
    champion: ChampionInfo | None
    batches: tuple[BatchStatus, ...]
    decisions: tuple[TriggerStatus, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def last_drift(self) -> BatchStatus | None:
        """The newest batch that was checked for drift."""
        checked = [b for b in self.batches if b.drift is not None]
        return checked[-1] if checked else None

    @property
    def last_decision(self) -> TriggerStatus | None:
        return self.decisions[-1] if self.decisions else None

    def to_dict(self) -> dict[str, Any]:
        payload = asdict(self)
        last_drift, last_decision = self.last_drift, self.last_decision
        payload["last_drift"] = None if last_drift is None else asdict(last_drift)
        payload["last_decision"] = None if last_decision is None else asdict(last_decision)
        return payload


def _float_map(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}


def _read_records(
    storage: Storage, model: str, problems: list[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{batch_id: {record name: payload}}`` for every batch with at least one record."""
    records: dict[str, dict[str, dict[str, Any]]] = {}
    prefix = keys.reports(model)
    for key in storage.list(prefix):
        batch_id, _, name = key.removeprefix(prefix).rpartition("/")
        if name not in RECORDS or not batch_id or "/" in batch_id:
            continue
        try:
            payload = storage.read_json(key)
        except (OSError, ValueError) as exc:
            # One damaged record must not hide the rest of the model's history.
            problems.append(f"{storage.uri(key)}: unreadable ({exc})")
            continue
        if not isinstance(payload, dict):
            problems.append(f"{storage.uri(key)}: expected a JSON object")
            continue
        records.setdefault(batch_id, {})[name] = payload
    return records


def _when(parts: Mapping[str, Mapping[str, Any]]) -> str:
    """When a batch was last looked at: the sort key of the history."""
    return str(
        parts.get(keys.MONITOR, {}).get("checked_at")
        or parts.get(keys.PERFORMANCE, {}).get("updated_at")
        or parts.get(keys.TRIGGER, {}).get("decided_at")
        or ""
    )


def _batch(batch_id: str, parts: Mapping[str, Mapping[str, Any]]) -> BatchStatus:
    monitor = parts.get(keys.MONITOR, {})
    perf = parts.get(keys.PERFORMANCE, {})
    checked = monitor.get("checked_at")
    # Without a champion the monitor records drift=False but compared nothing.
    compared = bool(monitor) and monitor.get("champion_version") is not None
    realized = _float_map(perf.get("realized")) or _float_map(monitor.get("realized"))
    broken = perf.get("estimate_broken")
    rows = perf.get("rows")
    labelled = perf.get("labelled_rows")
    return BatchStatus(
        batch_id=batch_id,
        checked_at=str(checked) if checked else None,
        champion_version=_str_or_none(
            perf.get("champion_version") or monitor.get("champion_version")
        ),
        drift=bool(monitor.get("drift")) if compared else None,
        drift_score=_float_or_none(monitor.get("drift_score")),
        drifted_features=tuple(str(f) for f in monitor.get("drifted_features") or ()),
        explanation=_str_or_none(monitor.get("explanation")),
        rows=int(rows) if isinstance(rows, int) else None,
        labelled_rows=int(labelled) if isinstance(labelled, int) else None,
        realized=realized,
        estimated=_float_map(perf.get("estimated")),
        estimate_broken=bool(broken) if isinstance(broken, bool) else None,
    )


def _decision(batch_id: str, record: Mapping[str, Any]) -> TriggerStatus:
    reasons = record.get("reasons") or ()
    return TriggerStatus(
        batch_id=str(record.get("batch_id") or batch_id),
        decided_at=_str_or_none(record.get("decided_at")),
        decision=str(record.get("decision") or "unknown"),
        event=_str_or_none(record.get("event")),
        reasons=(reasons,) if isinstance(reasons, str) else tuple(str(r) for r in reasons),
        suppressed_by=_str_or_none(record.get("suppressed_by")),
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _champion(client: MlflowClient, storage: Storage, model: str) -> ChampionInfo | None:
    mv = champion_version(client, model)
    if mv is None:
        return None
    version = str(mv.version)
    tags = mv.tags or {}
    moved = [e for e in alias_events(storage, model) if str(e.get("version")) == version]
    last = moved[-1] if moved else {}
    return ChampionInfo(
        version=version,
        since=last.get("time") or tags.get(PROMOTED_AT),
        event=last.get("event") or ("promote" if PROMOTED_AT in tags else None),
        trigger=tags.get(TRIGGER),
        reason=last.get("reason") or tags.get(PROMOTION_REASON),
        by=last.get("actor") or tags.get(PROMOTED_BY),
        tags={k.removeprefix(PREFIX): v for k, v in tags.items() if k.startswith(PREFIX)},
    )


def model_status(
    client: MlflowClient, storage: Storage, config: ModelConfig, *, last: int = 10
) -> ModelStatus:
    """Collect the champion, the last ``last`` batches and trigger decisions of a model.

    Args:
        client: MLflow client on the model's registry.
        storage: the lake holding ``reports/<model>/`` and ``ledger/<model>/``.
        config: the model's config (name and gate metric).
        last: how many of the newest batches and decisions to keep.

    Raises:
        ValueError: ``last`` is not positive.
    """
    if last < 1:
        raise ValueError(f"last must be at least 1, got {last}")
    problems: list[str] = []
    records = _read_records(storage, config.name, problems)
    ordered = sorted(records.items(), key=lambda item: (_when(item[1]), item[0]))
    batches = tuple(_batch(batch_id, parts) for batch_id, parts in ordered[-last:])
    decisions = [
        _decision(batch_id, parts[keys.TRIGGER])
        for batch_id, parts in ordered
        if keys.TRIGGER in parts
    ]
    decisions.sort(key=lambda d: (d.decided_at or "", d.batch_id))
    return ModelStatus(
        model=config.name,
        metric=config.gate.metric,
        champion=_champion(client, storage, config.name),
        batches=batches,
        decisions=tuple(decisions[-last:]),
        problems=tuple(problems),
    )
