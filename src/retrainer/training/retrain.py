"""One retrain of ``<model>_retrain``: skip a redundant one, train, alert on a blocked window.

The retrain's request (why, which window, force) comes from the run; this module turns it
into a trained and registered challenger, or into "nothing to do".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrainer.errors import NothingToDo, ValidationFailed
from retrainer.registry import tags

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig, WindowConfig
    from retrainer.monitoring.events import TriggerEvent
    from retrainer.notify import AlertSink
    from retrainer.settings import Settings
    from retrainer.storage import Storage
    from retrainer.training.train import TrainedModel

__all__ = ["RetrainRequest", "retrain", "skip_if_already_trained"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrainRequest:
    """Why and on what to retrain: the run's trigger and its Params."""

    trigger: str
    reason: str
    event: TriggerEvent | None = None
    window_batches: int | None = None
    # A window policy for this run only (sliding, expanding, since_break).
    window: str | None = None
    force: bool = False

    def window_config(self, config: ModelConfig) -> WindowConfig | None:
        from retrainer.config import WindowConfig

        if not self.window:
            return None
        return WindowConfig(kind=self.window, batches=config.training.window.batches)  # type: ignore[arg-type]


def skip_if_already_trained(
    client: MlflowClient,
    storage: Storage,
    config: ModelConfig,
    window_batches: int | None,
    window: WindowConfig | None,
) -> None:
    """Retraining on exactly the batches the newest version used would add nothing.

    Raises:
        NothingToDo: a version was already trained and judged on the same batches.
    """
    from retrainer.lake import accepted_batches
    from retrainer.training.train import window_inputs
    from retrainer.training.window import choose_window

    metas = accepted_batches(storage, config.name)
    if not metas:
        return
    champion_batches, flagged = window_inputs(client, storage, config)
    chosen, _ = choose_window(
        metas, config, window, window_batches, champion_batches=champion_batches, flagged=flagged
    )
    wanted = ",".join(m.batch_id for m in chosen)
    try:
        versions = client.search_model_versions(f"name = '{config.name}'")
    except Exception:
        return
    for mv in versions:
        if mv.tags.get(tags.BATCHES) == wanted and _judged(mv):
            raise NothingToDo(
                f"version {mv.version} was already trained and judged on batches {wanted}; "
                "set the force Param to train again"
            )


# What the gate recorded, before outages were retried, when the champion could not be
# fetched: an infrastructure failure, not a judgement of the challenger.
_OUTAGE_REJECTION = "fail: champion not scored: the champion could not be loaded"


def _judged(mv: Any) -> bool:
    """The gate judged this version (an outage recorded as a rejection does not count)."""
    if not mv.tags.get(tags.GATE_DECISION):
        return False
    return mv.tags.get(tags.gate_rule("champion_scored")) != _OUTAGE_REJECTION


def retrain(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    request: RetrainRequest,
    *,
    alert: AlertSink,
    context: dict[str, Any] | None = None,
) -> TrainedModel:
    """Train and register a challenger for ``request`` (unless it would repeat the last one).

    Raises:
        NothingToDo: the newest version already used these batches (and force is off).
        ValidationFailed: bad labels or types in the window (alerted; a person must look).
        InputDataError: a batch of the window cannot be read.
    """
    from retrainer.training.train import train_challenger

    log.info("retrain started by %s: %s", request.trigger, request.reason)
    window = request.window_config(config)
    if not request.force:
        skip_if_already_trained(client, storage, config, request.window_batches, window)
    try:
        trained = train_challenger(
            client,
            storage,
            settings,
            config,
            trigger=request.trigger,
            reason=request.reason,
            context=context,
            window_batches=request.window_batches,
            window=window,
            trigger_evidence=request.event.to_xcom() if request.event else None,
        )
    except ValidationFailed as exc:
        for check in exc.failed_checks:
            log.error("training window failed check: %s", check)
        alert(
            f"{config.name}: retrain blocked by validation",
            str(exc),
            {},
            event="blocked_batch",
        )
        raise
    log.info(
        "challenger %s v%s trained on %s (%s): holdout %s",
        config.name,
        trained.version,
        trained.window.get("batches"),
        trained.window.get("policy"),
        trained.metrics,
    )
    return trained
