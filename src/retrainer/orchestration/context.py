"""What a task learns from its Airflow context: the run's batches, its trigger, who runs it.

The only module that digs in ``params``, ``dag_run`` and ``triggering_asset_events``;
operators hand what it finds to the domain as plain values and typed events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrainer.evaluation.challenger import Evaluation
    from retrainer.monitoring.events import TriggerEvent
    from retrainer.monitoring.intake import IntakeRequest
    from retrainer.training.retrain import RetrainRequest

__all__ = [
    "airflow_ids",
    "asset_events",
    "batch_ids_from",
    "evaluation_from",
    "intake_request",
    "retrain_request",
    "rollback_params",
    "run_context",
    "run_kwargs",
    "trigger_of",
]


def run_context(context: Any) -> dict[str, str]:
    """Airflow identifiers recorded on every run, version and ledger entry.

    The task id completes the task's identity (dag, run, task): a retry of the task has
    the same one, which is how it finds the MLflow runs of its earlier attempts.
    """
    dag_run = context["dag_run"]
    actor = getattr(dag_run, "triggering_user_name", None) or "airflow"
    ids = {
        "airflow_dag_id": str(dag_run.dag_id),
        "airflow_run_id": str(dag_run.run_id),
        "actor": str(actor),
    }
    task_id = getattr(context.get("ti"), "task_id", None)
    if task_id:
        ids["airflow_task_id"] = str(task_id)
    return ids


def airflow_ids(context: Any) -> dict[str, str]:
    """The run's dag and run id (the ledger's and the runs' ``context``), without the actor."""
    return {k: v for k, v in run_context(context).items() if k != "actor"}


def run_kwargs(context: Any) -> dict[str, Any]:
    """``actor=`` and ``context=``: who runs this task and where, as domain functions take them."""
    return {"actor": run_context(context)["actor"], "context": airflow_ids(context)}


def evaluation_from(context: Any, task_id: str) -> Evaluation:
    """The gate's evaluation that the evaluate task of this run returned."""
    from retrainer.evaluation.challenger import Evaluation

    return Evaluation.from_xcom(context["ti"].xcom_pull(task_ids=task_id))


def rollback_params(context: Any) -> dict[str, Any]:
    """``target_version=`` and ``reason=`` from the rollback form."""
    params = context.get("params") or {}
    return {
        "target_version": params.get("target_version"),
        "reason": str(params.get("reason") or ""),
    }


def batch_ids_from(context: Any) -> list[str]:
    """The batches this run is about: the ``batch_id`` Param, else the triggering events.

    Several landings can be folded into one asset-triggered run, so every event counts.
    """
    param = (context.get("params") or {}).get("batch_id")
    if param:
        return [str(param)]
    ids: list[str] = []
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            batch = (event.extra or {}).get("batch_id")
            if batch and batch not in ids:
                ids.append(str(batch))
    return ids


def intake_request(context: Any) -> IntakeRequest:
    """What this monitor run takes in: its Param or its events, claimed as this run."""
    from retrainer.monitoring.intake import IntakeRequest

    ids = airflow_ids(context)
    param = (context.get("params") or {}).get("batch_id")
    return IntakeRequest(
        run=f"{ids['airflow_dag_id']}/{ids['airflow_run_id']}",
        batch_ids=tuple(batch_ids_from(context)),
        only_requested=bool(param),
    )


def asset_events(context: Any) -> list[tuple[str, dict[str, Any]]]:
    """(asset uri, extra) of every triggering asset event, oldest first."""
    out = []
    for asset, events in (context.get("triggering_asset_events") or {}).items():
        uri = str(getattr(asset, "uri", asset))
        for event in events:
            out.append((uri, dict(event.extra or {})))
    return out


def _parse(uri: str, extra: dict[str, Any]) -> TriggerEvent:
    from retrainer.monitoring.events import TriggerEvent

    # retrainer://<model>/<event>: what a hand-posted event may leave out of its extra.
    model, _, kind = uri.removeprefix("retrainer://").rstrip("/").rpartition("/")
    return TriggerEvent.from_xcom(extra, model=model or None, event=kind or None)


def trigger_of(context: Any) -> tuple[str, str, TriggerEvent | None]:
    """Why this retrain runs: (trigger, reason, event) from the run type, Params, events.

    trigger is decay or drift (the Asset event the monitor's policy emitted; decay wins
    when both are folded into one run), schedule or manual. The event is recorded on the
    new version as its evidence.

    Raises:
        ConfigError: a triggering event lacks a field the retrain needs (named).
    """
    params = context.get("params") or {}
    run_type = str(getattr(context["dag_run"], "run_type", "manual")).lower()
    reason = (params.get("reason") or "").strip()
    found = [(uri, _parse(uri, extra)) for uri, extra in asset_events(context)]
    if "asset" in run_type or found:
        kind = "decay" if any(e.event == "decay" for _, e in found) else "drift"
        chosen = [e for _, e in found if e.event == kind]
        explanations = [f"{e.batch_id}: {e.explanation or uri}" for uri, e in found]
        return (
            kind,
            reason or "; ".join(explanations) or "asset event",
            (chosen[-1] if chosen else None),
        )
    if "scheduled" in run_type:
        return "schedule", reason or "scheduled retrain", None
    return "manual", reason or "manual retrain", None


def retrain_request(context: Any) -> RetrainRequest:
    """The retrain this run asks for: its trigger and the form's Params."""
    from retrainer.training.retrain import RetrainRequest

    params = context.get("params") or {}
    trigger, reason, event = trigger_of(context)
    return RetrainRequest(
        trigger=trigger,
        reason=reason,
        event=event,
        window_batches=params.get("window_batches") or None,
        window=params.get("window") or None,
        force=bool(params.get("force")),
    )
