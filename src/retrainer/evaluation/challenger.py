"""Score challenger and champion on the same holdout, decide, and record the decision.

The decision and every rule's outcome are written to the challenger's version tags and to
an evaluation run *before* any alias moves (the TFX "blessing" order): whatever happens
next, the registry explains why.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.evaluation.gate import decide
from retrainer.evaluation.metrics import compute_metrics
from retrainer.registry.aliases import champion_version, get_version, mark_rejected, set_tags
from retrainer.registry.client import start_model_run

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = ["Evaluation", "evaluate_challenger", "load_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    model: str
    challenger_version: str
    champion_version: str | None
    challenger_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    decision: dict[str, Any]
    run_id: str

    @property
    def promote(self) -> bool:
        return bool(self.decision["promote"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_model(model: str, version: str) -> Any:
    """Load a registered version as its scikit-learn object (for predict_proba)."""
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{model}/{version}")


def evaluate_challenger(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    version: str,
    *,
    actor: str = "retrainer",
    context: dict[str, Any] | None = None,
) -> Evaluation:
    """Evaluate ``version`` against the current champion on the challenger's holdout."""
    import mlflow

    mv = get_version(client, config.name, version)
    holdout_key = mv.tags.get("retrainer.holdout_key")
    if not holdout_key:
        raise ValueError(f"version {version} of {config.name!r} has no retrainer.holdout_key tag")
    holdout = storage.read_frame(holdout_key)
    challenger_metrics = compute_metrics(load_model(config.name, version), holdout, config)

    champion = champion_version(client, config.name)
    champion_v = str(champion.version) if champion is not None else None
    champion_metrics = None
    if champion is not None:
        try:
            champion_metrics = compute_metrics(
                load_model(config.name, champion.version), holdout, config
            )
        except Exception as exc:  # the gate fails closed on a champion it cannot score
            log.error("champion version %s could not be scored: %s", champion.version, exc)
            champion_metrics = {}
    decision = decide(challenger_metrics, champion_metrics, config.gate)
    log.info(
        "gate for %s v%s vs champion v%s: %s", config.name, version, champion_v, decision.reason
    )

    with start_model_run(
        client,
        settings,
        config.name,
        run_name=f"evaluate-v{version}",
        kind="evaluation",
        tags={"challenger_version": version, "champion_version": champion_v},
        context=context,
    ) as run:
        mlflow.log_metrics({f"challenger_{k}": v for k, v in challenger_metrics.items()})
        if champion_metrics:
            mlflow.log_metrics({f"champion_{k}": v for k, v in champion_metrics.items()})
        mlflow.log_dict(
            {
                "decision": decision.to_dict(),
                "holdout_key": holdout_key,
                "challenger": challenger_metrics,
                "champion": champion_metrics,
            },
            "evaluation/decision.json",
        )
        run_id = run.info.run_id

    set_tags(
        client,
        config.name,
        version,
        {
            "gate.decision": decision.decision,
            "gate.reason": decision.reason,
            "gate.metric": decision.metric,
            "gate.challenger_value": decision.challenger_value,
            "gate.champion_value": decision.champion_value,
            "gate.champion_version": champion_v,
            "gate.evaluation_run_id": run_id,
        },
    )
    if not decision.promote:
        mark_rejected(
            client,
            storage,
            config.name,
            version,
            reason=decision.reason,
            actor=actor,
            context=context,
        )
    return Evaluation(
        config.name,
        version,
        champion_v,
        challenger_metrics,
        champion_metrics,
        decision.to_dict(),
        run_id,
    )
