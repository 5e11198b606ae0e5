"""Shadow mode tasks: hold a gated challenger (retrain DAG), score it on batches (monitor)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.runtime import TaskRuntime, run_context

__all__ = ["HoldInShadowOperator", "ScoreShadowOperator"]

log = logging.getLogger(__name__)


class HoldInShadowOperator(BaseOperator):
    """Instead of promoting now, keep the gated challenger as ``challenger`` in shadow."""

    def __init__(
        self,
        *,
        config_dir: str | Path,
        model: str,
        evaluate_task_id: str,
        batches: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.evaluate_task_id = evaluate_task_id
        self.batches = batches

    def execute(self, context: Any) -> dict[str, Any]:
        evaluation = context["ti"].xcom_pull(task_ids=self.evaluate_task_id)
        if not evaluation["decision"]["promote"]:
            raise AirflowSkipException(
                f"challenger v{evaluation['challenger_version']} rejected by the gate"
            )
        from retrainer.evaluation.shadow import hold_in_shadow

        rt = TaskRuntime.open(self.config_dir, self.model)
        ctx = run_context(context)
        return hold_in_shadow(
            rt.client,
            rt.storage,
            self.model,
            str(evaluation["challenger_version"]),
            champion=evaluation["champion_version"],
            batches=self.batches,
            actor=ctx["actor"],
            context={
                "airflow_dag_id": ctx["airflow_dag_id"],
                "airflow_run_id": ctx["airflow_run_id"],
            },
        )


class ScoreShadowOperator(BaseOperator):
    """Score a challenger held in shadow on the accepted batches; promote it when it wins."""

    def __init__(
        self, *, config_dir: str | Path, model: str, validate_task_id: str, **kwargs: Any
    ) -> None:
        super().__init__(outlets=[model_asset(model, "champion")], **kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.validate_task_id = validate_task_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.evaluation.shadow import score_shadow
        from retrainer.lake import keys

        batch_ids = context["ti"].xcom_pull(task_ids=self.validate_task_id) or []
        rt = TaskRuntime.open(self.config_dir, self.model)
        ctx = run_context(context)
        results = []
        for batch_id in batch_ids:
            frame = rt.storage.read_frame(keys.batch_data(self.model, batch_id))
            result = score_shadow(
                rt.client,
                rt.storage,
                rt.config,
                batch_id,
                frame,
                actor=ctx["actor"],
                context={
                    "airflow_dag_id": ctx["airflow_dag_id"],
                    "airflow_run_id": ctx["airflow_run_id"],
                },
            )
            if result is None:
                raise AirflowSkipException("no challenger is held in shadow")
            log.info("shadow %s on %s: %s", result["status"], batch_id, result.get("reason"))
            results.append(result)
            if result["status"] == "won":
                context["outlet_events"][model_asset(self.model, "champion")].extra = result
            if result["status"] != "running":
                break
        return results
