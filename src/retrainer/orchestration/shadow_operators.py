"""Shadow mode tasks: hold a gated challenger (retrain DAG), score it on batches (monitor)."""

from __future__ import annotations

from typing import Any

from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.base import ModelOperator, airflow_errors
from retrainer.orchestration.context import evaluation_from, run_kwargs

__all__ = ["HoldInShadowOperator", "ScoreShadowOperator"]


class HoldInShadowOperator(ModelOperator):
    """Instead of promoting now, keep the gated challenger as ``challenger`` in shadow."""

    def __init__(self, *, evaluate_task_id: str, batches: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.evaluate_task_id = evaluate_task_id
        self.batches = batches

    @airflow_errors()
    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.evaluation.shadow import hold_in_shadow

        evaluation = evaluation_from(context, self.evaluate_task_id)
        rt = self.open_runtime()
        return hold_in_shadow(
            rt.client,
            rt.storage,
            self.model,
            evaluation.gated_version(),
            champion=evaluation.champion_version,
            batches=self.batches,
            **run_kwargs(context),
        )


class ScoreShadowOperator(ModelOperator):
    """Score a challenger held in shadow on the accepted batches; promote it when it wins."""

    def __init__(self, *, model: str, validate_task_id: str, **kwargs: Any) -> None:
        super().__init__(model=model, outlets=[model_asset(model, "champion")], **kwargs)
        self.validate_task_id = validate_task_id

    @airflow_errors()
    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.evaluation.shadow import score_shadow_batches
        from retrainer.monitoring.intake import Intake

        intake = Intake.from_xcom(self.pull(context, self.validate_task_id))
        rt = self.open_runtime()
        results = score_shadow_batches(
            rt.client, rt.storage, rt.config, list(intake.accepted), **run_kwargs(context)
        )
        won = [r for r in results if r["status"] == "won"]
        self.set_event_extra(context, "champion", won[-1] if won else None)
        return results
