"""Operators of ``<model>_retrain`` and ``<model>_rollback``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.base import ModelOperator, airflow_errors
from retrainer.orchestration.context import (
    evaluation_from,
    retrain_request,
    rollback_params,
    run_context,
    run_kwargs,
)
from retrainer.orchestration.links import (
    MlflowRunLink,
    ModelVersionLink,
    mlflow_run_url,
    model_version_url,
)

if TYPE_CHECKING:
    from retrainer.orchestration.runtime import TaskRuntime

__all__ = [
    "EvaluateChallengerOperator",
    "PromoteChallengerOperator",
    "RollbackChampionOperator",
    "TrainChallengerOperator",
]

log = logging.getLogger(__name__)


def _run_and_version_links(rt: TaskRuntime, run_id: str, version: str) -> dict[str, str]:
    try:
        experiment = rt.client.get_run(run_id).info.experiment_id
    except Exception:  # a missing link button must not fail work that is done
        log.warning("no MLflow run link for run %s", run_id, exc_info=True)
        return {}
    return {
        "mlflow_run": mlflow_run_url(rt.settings, experiment, run_id),
        "model_version": model_version_url(rt.settings, rt.config.name, version),
    }


class TrainChallengerOperator(ModelOperator):
    """Assemble the training window, train, log to MLflow and register a version."""

    operator_extra_links = (MlflowRunLink(), ModelVersionLink())

    @airflow_errors()
    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.training.retrain import retrain

        request = retrain_request(context)
        rt = self.open_runtime()
        trained = retrain(
            rt.client,
            rt.storage,
            rt.settings,
            rt.config,
            request,
            alert=rt.alert,
            context=run_context(context),
        )
        self.publish(context, **_run_and_version_links(rt, trained.run_id, trained.version))
        return trained.to_xcom()


class EvaluateChallengerOperator(ModelOperator):
    """Score challenger and champion on the same holdout; record the gate decision."""

    operator_extra_links = (MlflowRunLink(), ModelVersionLink())

    def __init__(self, *, train_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.train_task_id = train_task_id

    @airflow_errors()
    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.evaluation import evaluate_challenger
        from retrainer.training import TrainedModel

        trained = TrainedModel.from_xcom(self.pull(context, self.train_task_id))
        rt = self.open_runtime()
        evaluation = evaluate_challenger(
            rt.client, rt.storage, rt.settings, rt.config, trained.version, **run_kwargs(context)
        )
        self.publish(context, **_run_and_version_links(rt, evaluation.run_id, trained.version))
        return evaluation.to_xcom()


class PromoteChallengerOperator(ModelOperator):
    """Move ``champion`` to a challenger the gate accepted (skip when it rejected it)."""

    operator_extra_links = (ModelVersionLink(),)

    def __init__(
        self, *, model: str, evaluate_task_id: str, approval_mode: str = "auto", **kwargs: Any
    ) -> None:
        super().__init__(model=model, outlets=[model_asset(model, "champion")], **kwargs)
        self.evaluate_task_id = evaluate_task_id
        self.approval_mode = approval_mode

    @airflow_errors()
    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.registry.steps import promote_challenger

        evaluation = evaluation_from(context, self.evaluate_task_id)
        rt = self.open_runtime()
        promotion = promote_challenger(
            rt.client,
            rt.storage,
            rt.alert,
            evaluation,
            approval_mode=self.approval_mode,
            **run_kwargs(context),
        )
        self.publish_version(context, rt, promotion.version)
        self.set_event_extra(context, "champion", promotion.event_extra)
        return promotion.to_xcom()


class RollbackChampionOperator(ModelOperator):
    """Move ``champion`` back to the previous champion or to the version given as a Param."""

    operator_extra_links = (ModelVersionLink(),)

    def __init__(self, *, model: str, **kwargs: Any) -> None:
        super().__init__(model=model, outlets=[model_asset(model, "champion")], **kwargs)

    @airflow_errors()
    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.registry.steps import roll_back_champion

        rt = self.open_runtime()
        change = roll_back_champion(
            rt.client,
            rt.storage,
            rt.alert,
            self.model,
            **rollback_params(context),
            **run_kwargs(context),
        )
        self.publish_version(context, rt, change.version)
        self.set_event_extra(context, "champion", change.to_dict())
        return change.to_dict()
