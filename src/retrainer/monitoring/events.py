"""The trigger event: what the monitor tells the retrain run when its policy asks for one.

One schema end to end. The decide step returns a :class:`Verdict` per batch (the
``trigger.json`` record plus the check's drift evidence); the emit step folds the verdicts
that asked for its event into one :class:`TriggerEvent` and posts ``to_xcom()`` unchanged
as the Asset event's extra; the retrain run reads it back with ``from_xcom``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retrainer.errors import ConfigError, NothingToDo

if TYPE_CHECKING:
    from retrainer.monitoring.verdicts import Verdict
    from retrainer.notify import AlertSink

__all__ = ["TriggerEvent", "emit_trigger_event"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TriggerEvent:
    """The extra of a ``retrainer://<model>/decay`` or ``.../drift`` Asset event.

    Only ``model``, ``event`` and ``batch_id`` are required, so an event posted by hand
    through the REST API with a few keys still starts a retrain that says why.
    """

    model: str
    event: str
    batch_id: str
    batches: tuple[str, ...] = ()
    champion_version: str | None = None
    reasons: tuple[str, ...] = ()
    # What the retrain run records as its reason.
    explanation: str = ""
    drift: bool | None = None
    drift_score: float | None = None
    realized: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    drifted_features: tuple[str, ...] = ()
    report_uri: str | None = None
    # Which features, how much, why: the retrain run can show it without the lake.
    evidence: tuple[dict[str, Any], ...] = ()
    prediction_drift: dict[str, Any] | None = None

    @classmethod
    def from_verdicts(cls, model: str, event: str, verdicts: Sequence[Verdict]) -> TriggerEvent:
        """The event for the verdicts that asked for ``event``; the newest one speaks.

        Raises:
            NothingToDo: no verdict asked for this event.
        """
        wanted = [v for v in verdicts if v.event == event]
        if not wanted:
            summary = "; ".join(v.describe() for v in verdicts)
            raise NothingToDo(f"no {event} retrain requested ({summary or 'none'})")
        latest = wanted[-1]
        record, signals = latest.record, latest.record["signals"]
        return cls(
            model=model,
            event=event,
            batch_id=latest.batch_id,
            batches=tuple(v.batch_id for v in wanted),
            champion_version=record.get("champion_version"),
            reasons=tuple(record["reasons"]),
            explanation="; ".join(record["reasons"]),
            drift=signals.get("drift"),
            drift_score=signals.get("drift_score"),
            realized=signals.get("realized", {}),
            estimated=signals.get("estimated", {}),
            baseline=signals.get("baseline", {}),
            drifted_features=latest.drifted_features,
            report_uri=latest.report_uri,
            evidence=latest.evidence,
            prediction_drift=latest.prediction_drift,
        )

    def to_xcom(self) -> dict[str, Any]:
        """The Asset event extra (JSON-safe; key order is the order readers saw before)."""
        return {
            "model": self.model,
            "event": self.event,
            "batch_id": self.batch_id,
            "batches": list(self.batches),
            "champion_version": self.champion_version,
            "reasons": list(self.reasons),
            "explanation": self.explanation,
            "drift": self.drift,
            "drift_score": self.drift_score,
            "realized": dict(self.realized),
            "estimated": dict(self.estimated),
            "baseline": dict(self.baseline),
            "drifted_features": list(self.drifted_features),
            "report_uri": self.report_uri,
            "evidence": list(self.evidence),
            "prediction_drift": self.prediction_drift,
        }

    @classmethod
    def from_xcom(
        cls, extra: dict[str, Any], *, model: str | None = None, event: str | None = None
    ) -> TriggerEvent:
        """Read an event extra; ``model``/``event`` fill in what a hand-posted event omits.

        Raises:
            ConfigError: a required field (model, event, batch_id) is missing.
        """
        data = {"model": model, "event": event} | {k: v for k, v in extra.items() if v is not None}
        missing = [name for name in ("model", "event", "batch_id") if not data.get(name)]
        if missing:
            raise ConfigError(
                f"trigger event {extra!r} lacks {', '.join(missing)}: post it with "
                '{"batch_id": ..., "explanation": ...} as its extra'
            )
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for name in ("batches", "reasons", "drifted_features", "evidence"):
            if name in known:
                known[name] = tuple(known[name])
        known.setdefault("batches", (str(data["batch_id"]),))
        return cls(**known)


def emit_trigger_event(
    alert: AlertSink, model: str, event: str, verdicts: Sequence[Verdict]
) -> TriggerEvent:
    """Build the event the verdicts asked for and alert that a retrain was requested.

    Raises:
        NothingToDo: no verdict asked for this event.
    """
    found = TriggerEvent.from_verdicts(model, event, verdicts)
    log.warning("%s in %s batch %s: %s", event, model, found.batch_id, found.explanation)
    extra = found.to_xcom()
    alert(f"{model}: {event}, retrain requested", found.explanation, extra)
    return found
