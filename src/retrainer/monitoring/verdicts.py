"""Judge the batches of a monitor run with the trigger policy: one :class:`Verdict` each.

Batches checked in this run and batches whose labels landed in it (a labels-only run skips
the check) are judged; each decision is written to ``trigger.json`` by ``decide_batch``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrainer.errors import NothingToDo

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage

__all__ = ["Verdict", "decide_batches"]

log = logging.getLogger(__name__)

# What the check step adds to a decision: the drift evidence the event carries along.
CHECK_FIELDS = ("report_uri", "drifted_features", "explanation", "evidence", "prediction_drift")


@dataclass(frozen=True)
class Verdict:
    """The trigger policy's decision on one batch, with the drift evidence of its check."""

    # The ``trigger.json`` record (TriggerDecision.to_dict()).
    record: dict[str, Any]
    report_uri: str | None = None
    drifted_features: tuple[str, ...] = ()
    explanation: str | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    prediction_drift: dict[str, Any] | None = None

    @property
    def batch_id(self) -> str:
        return str(self.record["batch_id"])

    @property
    def event(self) -> str | None:
        return self.record.get("event")

    def describe(self) -> str:
        """``<batch>: <decision> (<suppressed by>)``: why no event was emitted."""
        text = f"{self.batch_id}: {self.record['decision']}"
        suppressed = self.record.get("suppressed_by")
        return text + (f" ({suppressed})" if suppressed else "")

    def to_xcom(self) -> dict[str, Any]:
        return self.record | {
            "report_uri": self.report_uri,
            "drifted_features": list(self.drifted_features),
            "explanation": self.explanation,
            "evidence": list(self.evidence),
            "prediction_drift": self.prediction_drift,
        }

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> Verdict:
        record = {k: v for k, v in value.items() if k not in CHECK_FIELDS}
        return cls(
            record=record,
            report_uri=value.get("report_uri"),
            drifted_features=tuple(value.get("drifted_features") or ()),
            explanation=value.get("explanation"),
            evidence=tuple(value.get("evidence") or ()),
            prediction_drift=value.get("prediction_drift"),
        )


def decide_batches(
    client: MlflowClient,
    storage: Storage,
    config: ModelConfig,
    checks: Sequence[dict[str, Any]],
    labelled: Sequence[str] = (),
) -> list[Verdict]:
    """Apply the trigger policy to each checked batch, then to each newly labelled one.

    Args:
        checks: the check step's XCom (one dict per batch, with its drift evidence).
        labelled: batches whose labels landed in this run, judged again on realized metrics.

    Raises:
        NothingToDo: no batch was checked or labelled.
    """
    from retrainer.lake import keys
    from retrainer.monitoring.signals import decide_batch

    seen = {c["batch_id"] for c in checks}
    todo = list(checks) + [{"batch_id": b} for b in labelled if b not in seen]
    if not todo:
        raise NothingToDo("no checked or newly labelled batch to judge")
    out = []
    for check in todo:
        decision = decide_batch(client, storage, config, check["batch_id"])
        # The explanation in the task log is what an operator reads first.
        level = logging.WARNING if decision.decision != "none" else logging.INFO
        log.log(level, "trigger decision: %s", decision.explain())
        log.info(
            "trigger record: %s",
            storage.uri(keys.report(config.name, check["batch_id"], keys.TRIGGER)),
        )
        out.append(Verdict.from_xcom(decision.to_dict() | {k: check.get(k) for k in CHECK_FIELDS}))
    return out
