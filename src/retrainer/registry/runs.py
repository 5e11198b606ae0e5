"""MLflow runs of a model: start one in the model's experiment, log metrics and params.

Logging goes through the injected client with the run's id. The run itself is started
with ``mlflow.start_run``: it resolves the user/source tags the MLflow UI shows, and
``mlflow.sklearn.log_model`` and ``mlflow.log_input`` log into the active run only.

A run opened by an Airflow task is keyed by the task's identity (:data:`TASK_KEY`: dag,
run and task ids) and its name, so a retried task finds the runs of its earlier attempts:
it resumes its own run instead of opening a second one, and a run that a killed attempt
left RUNNING is never left RUNNING for ever (resumed, or ended ``KILLED`` with
:data:`ENDED_REASON` saying why).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from retrainer.registry.client import ensure_experiment
from retrainer.registry.tags import ENDED_REASON, RUN_KIND, TASK_KEY, context_tags

if TYPE_CHECKING:
    from mlflow import ActiveRun, MlflowClient

    from retrainer.settings import Settings

__all__ = ["earlier_runs", "log_metrics", "log_params", "start_model_run", "task_key"]

_TASK_IDS = ("airflow_dag_id", "airflow_run_id", "airflow_task_id")


def task_key(context: dict[str, Any] | None) -> str | None:
    """``<dag_id>/<run_id>/<task_id>`` of the task in ``context``; None outside Airflow."""
    ids = [str((context or {}).get(name) or "") for name in _TASK_IDS]
    return "/".join(ids) if all(ids) else None


def earlier_runs(
    client: MlflowClient, experiment_id: str, key: str, run_name: str | None = None
) -> list[Any]:
    """Runs the task ``key`` opened before (named ``run_name``, if given), newest first."""
    from mlflow.entities import ViewType

    query = f"tags.`{TASK_KEY}` = '{key}'"
    if run_name is not None:
        query += f" and attributes.run_name = '{run_name}'"
    return list(
        client.search_runs(
            [experiment_id],
            filter_string=query,
            run_view_type=ViewType.ACTIVE_ONLY,
            order_by=["attributes.start_time DESC"],
        )
    )


def _end_killed(client: MlflowClient, run: Any, key: str) -> None:
    client.set_tag(
        run.info.run_id,
        ENDED_REASON,
        f"its attempt of task {key} was killed before ending it; ended by the retry",
    )
    client.set_terminated(run.info.run_id, status="KILLED")


def start_model_run(
    client: MlflowClient,
    settings: Settings,
    model: str,
    *,
    run_name: str,
    kind: str,
    tags: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    resume: bool = True,
) -> ActiveRun:
    """Start a run in the model's experiment, tagged with its kind and the Airflow context.

    ``tags`` are names from :mod:`retrainer.registry.tags`; the context's keys are
    namespaced (:func:`~retrainer.registry.tags.context_tags`).

    With a task identity in ``context``, a retry of the task finds its earlier runs of the
    same name. ``resume``: the newest is resumed (its metrics and artifacts are rewritten);
    otherwise (training, whose params cannot change) a new run starts. Either way no
    earlier run is left RUNNING: a killed attempt's run is ended ``KILLED``.
    """
    import mlflow

    experiment_id = ensure_experiment(client, model, settings.mlflow_artifact_root)
    all_tags = {RUN_KIND: kind}
    for key, value in context_tags({**(tags or {}), **(context or {})}).items():
        all_tags[key] = str(value)
    identity = task_key(context)
    if identity is None:
        return mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=all_tags)
    all_tags[TASK_KEY] = identity
    earlier = earlier_runs(client, experiment_id, identity, run_name)
    resumed = earlier[0] if resume and earlier else None
    for run in earlier:
        if run is not resumed and run.info.status == "RUNNING":
            _end_killed(client, run, identity)
    if resumed is not None:
        return mlflow.start_run(run_id=resumed.info.run_id, tags=all_tags)
    return mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=all_tags)


def log_metrics(client: MlflowClient, run_id: str, metrics: dict[str, float]) -> None:
    """Log metrics at step 0 with one timestamp, in one request."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in metrics.items()])


def log_params(client: MlflowClient, run_id: str, params: dict[str, Any]) -> None:
    """Log params (values become strings), in one request."""
    from mlflow.entities import Param

    client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
