"""A model's decisions as one picture: metric, drift, trigger decisions and alias moves.

Per batch (oldest left): the realized and the estimated trigger metric, the drift score
(red where the verdict was drift), a marker where the trigger asked for a retrain, and a
line where ``champion`` moved (green: promotion, red: rollback, grey: a hand edit). Drawn
with matplotlib into a self-contained SVG (no script, no external reference), shown on the
Models page and logged to the model's ``performance-<m>`` MLflow run.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.status import ModelStatus
    from retrainer.storage import Storage

__all__ = ["AliasMove", "model_timeline", "timeline_svg"]

_MOVE_COLOURS = {"promote": "#2f855a", "rollback": "#c53030"}


@dataclass(frozen=True)
class AliasMove:
    """``champion`` moved to ``version`` before the first batch it scored."""

    batch_index: int
    version: str
    event: str


def _moves(status: ModelStatus, ledger: list[dict[str, Any]]) -> list[AliasMove]:
    """Where the champion changed between batches, named by the ledger's event.

    A version can become champion more than once (promoted, later rolled back to): each
    change takes the version's next ledger event in order, never a later one's.
    """
    from retrainer.registry.ledger import CHAMPION_EVENTS

    events: dict[str, list[str]] = {}
    for entry in ledger:  # oldest first
        # Only moves of champion: a canary's start or a rejection names a version too.
        if entry.get("version") and entry.get("event") in CHAMPION_EVENTS:
            events.setdefault(str(entry["version"]), []).append(str(entry.get("event")))
    moves, previous = [], None
    for index, batch in enumerate(status.batches):
        version = batch.champion_version
        if version and version != previous:
            queue = events.get(version, [])
            event = queue.pop(0) if queue else "manual_change"
            if previous is not None:
                moves.append(AliasMove(index, version, event))
            previous = version
    return moves


def timeline_svg(status: ModelStatus, ledger: list[dict[str, Any]]) -> str:
    """The timeline of ``status`` (all its batches) as an SVG document."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    batches = status.batches
    metric = status.metric
    x = list(range(len(batches)))
    fig = Figure(figsize=(max(6.0, 0.5 * len(batches) + 2), 5.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    realized = [b.realized.get(metric) for b in batches]
    estimated = [b.estimated.get(metric) for b in batches]
    top.plot(x, [float("nan") if v is None else v for v in realized], "o-", label="realized")
    top.plot(x, [float("nan") if v is None else v for v in estimated], "s--", label="estimated")
    decisions = {d.batch_id: d for d in status.decisions}
    for index, batch in enumerate(batches):
        decision = decisions.get(batch.batch_id)
        if decision is not None and decision.decision == "retrain":
            top.annotate(
                f"retrain ({decision.event})",
                (index, 0.97),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="top",
                fontsize=8,
                color="#b7791f",
            )
            top.axvline(index, color="#b7791f", linestyle=":", linewidth=1)
    for move in _moves(status, ledger):
        colour = _MOVE_COLOURS.get(move.event, "#718096")
        for axis in (top, bottom):
            axis.axvline(move.batch_index - 0.5, color=colour, linewidth=2)
        top.annotate(
            f"{move.event} v{move.version}",
            (move.batch_index - 0.45, 0.02),
            xycoords=("data", "axes fraction"),
            fontsize=8,
            color=colour,
        )
    top.set_ylabel(metric)
    top.legend(loc="lower left", fontsize=8)
    top.set_title(f"{status.model}: {metric}, drift and decisions per batch")
    scores = [b.drift_score or 0.0 for b in batches]
    bottom.bar(x, scores, color=["#c53030" if b.drift else "#a0aec0" for b in batches])
    bottom.set_ylabel("drift score")
    bottom.set_xticks(x, [b.batch_id for b in batches], rotation=45, ha="right", fontsize=8)
    buffer = io.StringIO()
    # No date and a fixed id salt: the same records draw the same bytes.
    with rc_context({"svg.hashsalt": "retrainer"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def model_timeline(client: MlflowClient, storage: Storage, config: ModelConfig) -> str:
    """The SVG timeline of every recorded batch of ``config``'s model."""
    from retrainer.registry.ledger import alias_events
    from retrainer.status import model_status

    status = model_status(client, storage, config, last=100_000)
    return timeline_svg(status, alias_events(storage, config.name))
