"""Typed per-batch records of the lake, each with one reader and one writer.

A record is a small JSON object beside a batch (``meta.json``) or in its report folder
(``monitor.json``, ``performance.json``, ``labels-state.json``, ``trigger.json``,
``drift.json``). Readers return ``None`` for a record that was never written and fill
fields an older record lacks with their defaults, so every module sees the same shape.
The modules that compute a record own its meaning: the monitor check subclasses
:class:`MonitorRecord`, the trigger policy writes :class:`TriggerRecord`'s fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from retrainer.lake import keys

if TYPE_CHECKING:
    from retrainer.storage import Storage

__all__ = [
    "BatchMeta",
    "DriftRecord",
    "LabelsState",
    "MonitorRecord",
    "PerformanceRecord",
    "TriggerRecord",
    "read_drift",
    "read_labels_state",
    "read_meta",
    "read_monitor",
    "read_performance",
    "read_trigger",
    "write_drift",
    "write_labels_state",
    "write_meta",
    "write_monitor",
    "write_performance",
    "write_trigger",
]

_R = TypeVar("_R")


class _BatchResult(Protocol):
    """A result that knows its batch and its JSON form (what the writers accept)."""

    @property
    def model(self) -> str: ...
    @property
    def batch_id(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...


def _from_dict(cls: type[_R], data: dict[str, Any], **ids: str) -> _R:
    # Ids come from the key the record was read from; unknown fields (newer writers) drop.
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**(ids | {k: v for k, v in data.items() if k in names}))


def _read(storage: Storage, key: str) -> dict[str, Any] | None:
    return storage.read_json(key) if storage.exists(key) else None


@dataclass(frozen=True)
class BatchMeta:
    """The catalogue record of an accepted batch (``batches/<m>/<batch>/meta.json``)."""

    batch_id: str
    data_key: str = ""
    rows: int = 0
    accepted_at: str | None = None
    start: str | None = None
    end: str | None = None
    labelled_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchMeta:
        if "labelled_rows" not in data:
            # Records from before labelled rows were counted: every row was labelled.
            data = {**data, "labelled_rows": data.get("rows", 0)}
        return _from_dict(cls, data)


def read_meta(storage: Storage, model: str, batch_id: str) -> BatchMeta | None:
    data = _read(storage, keys.batch_meta(model, batch_id))
    return None if data is None else BatchMeta.from_dict({"batch_id": batch_id, **data})


def write_meta(storage: Storage, model: str, meta: BatchMeta) -> str:
    return storage.write_json(keys.batch_meta(model, meta.batch_id), meta.to_dict())


@dataclass(frozen=True)
class MonitorRecord:
    """What the check against the champion found (``monitor.json``)."""

    model: str
    batch_id: str
    champion_version: str | None = None
    drift: bool = False
    drift_score: float | None = None
    drifted_features: list[str] = field(default_factory=list)
    explanation: str = ""
    realized: dict[str, float] = field(default_factory=dict)
    report_key: str | None = None
    report_uri: str | None = None
    checked_at: str = ""
    # Per drifted feature: statistic, value, threshold, adjusted p, weight, reasons.
    drift_evidence: list[dict[str, Any]] = field(default_factory=list)
    prediction_drift: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_monitor(storage: Storage, model: str, batch_id: str) -> MonitorRecord | None:
    data = _read(storage, keys.report(model, batch_id, keys.MONITOR))
    if data is None:
        return None
    return _from_dict(MonitorRecord, data, model=model, batch_id=batch_id)


def write_monitor(storage: Storage, record: MonitorRecord) -> str:
    key = keys.report(record.model, record.batch_id, keys.MONITOR)
    return storage.write_json(key, record.to_dict())


@dataclass(frozen=True)
class DriftRecord:
    """The dataset-level drift verdict with every feature's statistic (``drift.json``)."""

    drift: bool = False
    drift_score: float | None = None
    threshold_share: float | None = None
    alpha: float | None = None
    row_count: int = 0
    explanation: str = ""
    features: list[dict[str, Any]] = field(default_factory=list)
    prediction: dict[str, Any] | None = None


def read_drift(storage: Storage, model: str, batch_id: str) -> DriftRecord | None:
    data = _read(storage, keys.report(model, batch_id, keys.DRIFT_JSON))
    return None if data is None else _from_dict(DriftRecord, data)


def write_drift(storage: Storage, model: str, batch_id: str, result: Any) -> str:
    """Write a drift result (anything with ``to_dict()`` in the shape of :class:`DriftRecord`)."""
    return storage.write_json(keys.report(model, batch_id, keys.DRIFT_JSON), result.to_dict())


@dataclass(frozen=True)
class PerformanceRecord:
    """The performance of the champion on one batch (the ``performance.json`` record)."""

    model: str
    batch_id: str
    champion_version: str | None = None
    rows: int = 0
    labelled_rows: int = 0
    realized: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    divergence: dict[str, float] = field(default_factory=dict)
    estimate_broken: bool = False
    updated_at: str = ""
    # The band the trigger metric's estimate had to stay in (None: not judged).
    estimate_band: float | None = None
    # Served rows of two or more versions: each one's realized metrics and intervals
    # against the baseline (retrainer.monitoring.live_ab).
    by_version: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.by_version:
            del data["by_version"]  # the record of a batch one version served stays as it was
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerformanceRecord:
        return _from_dict(cls, data)

    def to_xcom(self) -> dict[str, Any]:
        """Small and JSON-safe: what the Airflow task returns."""
        return {
            "batch_id": self.batch_id,
            "champion_version": self.champion_version,
            "rows": self.rows,
            "labelled_rows": self.labelled_rows,
            "realized": self.realized,
            "estimated": self.estimated,
            "estimate_broken": self.estimate_broken,
        }

    @classmethod
    def from_xcom(cls, value: dict[str, Any], *, model: str) -> PerformanceRecord:
        return cls.from_dict({"model": model, **value})

    def explain(self) -> str:
        def fmt(values: dict[str, float]) -> str:
            return ", ".join(f"{k} {v:.3f}" for k, v in sorted(values.items())) or "none"

        text = (
            f"{self.model} batch {self.batch_id} (v{self.champion_version}): "
            f"{self.labelled_rows}/{self.rows} labelled; realized {fmt(self.realized)}; "
            f"estimated {fmt(self.estimated)}"
        )
        if self.estimate_broken:
            text += f"; estimate off by {fmt(self.divergence)}: its assumptions broke"
        baseline = self.by_version.get("baseline")
        for version, intervals in self.by_version.get("intervals", {}).items():
            for metric, i in sorted(intervals.items()):
                text += (
                    f"; live v{version} - v{baseline} {metric} {i['difference']:+.3f} "
                    f"[{i['lower']:+.3f}, {i['upper']:+.3f}] (unpaired)"
                )
        return text


def read_performance(storage: Storage, model: str, batch_id: str) -> PerformanceRecord | None:
    data = _read(storage, keys.report(model, batch_id, keys.PERFORMANCE))
    if data is None:
        return None
    return _from_dict(PerformanceRecord, data, model=model, batch_id=batch_id)


def write_performance(storage: Storage, record: PerformanceRecord) -> str:
    key = keys.report(record.model, record.batch_id, keys.PERFORMANCE)
    return storage.write_json(key, record.to_dict())


@dataclass(frozen=True)
class LabelsState:
    """Which labels file a performance record was computed from (``labels-state.json``).

    The refresh redoes a batch only when its labels changed, whatever the storage (S3 has
    no modification times to compare).
    """

    labels_sha256: str | None = None
    at: str = ""


def read_labels_state(storage: Storage, model: str, batch_id: str) -> LabelsState | None:
    data = _read(storage, keys.report(model, batch_id, keys.LABELS_STATE))
    return None if data is None else _from_dict(LabelsState, data)


def write_labels_state(storage: Storage, model: str, batch_id: str, state: LabelsState) -> str:
    return storage.write_json(keys.report(model, batch_id, keys.LABELS_STATE), asdict(state))


@dataclass(frozen=True)
class TriggerRecord:
    """The trigger policy's decision on one batch (``trigger.json``).

    ``signals`` holds what the decision saw, in the shape the next decision's M-of-N
    reads back; ``breach`` which performance or drift rule fired, before suppression.
    """

    model: str
    batch_id: str
    decided_at: str = ""
    decision: str = ""
    event: str | None = None
    reasons: list[str] = field(default_factory=list)
    signals: dict[str, Any] = field(default_factory=dict)
    suppressed_by: str | None = None
    champion_version: str | None = None
    breach: dict[str, bool] = field(default_factory=dict)


def read_trigger(storage: Storage, model: str, batch_id: str) -> TriggerRecord | None:
    data = _read(storage, keys.report(model, batch_id, keys.TRIGGER))
    if data is None:
        return None
    return _from_dict(TriggerRecord, data, model=model, batch_id=batch_id)


def write_trigger(storage: Storage, decision: _BatchResult) -> str:
    key = keys.report(decision.model, decision.batch_id, keys.TRIGGER)
    return storage.write_json(key, decision.to_dict())
