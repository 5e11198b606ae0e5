"""Operators of ``<model>_retrain`` and ``<model>_rollback``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.links import (
    MlflowRunLink,
    ModelVersionLink,
    mlflow_run_url,
    model_version_url,
    publish_links,
)
from retrainer.orchestration.runtime import TaskRuntime, run_context

__all__ = [
    "EvaluateChallengerOperator",
    "PromoteChallengerOperator",
    "RollbackChampionOperator",
    "TrainChallengerOperator",
    "trigger_of",
]

log = logging.getLogger(__name__)


def _asset_events(context: Any) -> list[tuple[str, dict[str, Any]]]:
    """(asset uri, extra) of every triggering asset event, oldest first."""
    out = []
    for asset, events in (context.get("triggering_asset_events") or {}).items():
        uri = str(getattr(asset, "uri", asset))
        for event in events:
            out.append((uri, dict(event.extra or {})))
    return out


def trigger_of(context: Any) -> tuple[str, str, dict[str, Any] | None]:
    """Why this retrain runs: (trigger, reason, evidence) from the run type, Params, events.

    trigger is decay or drift (the Asset event the monitor's policy emitted; decay wins
    when both are folded into one run), schedule or manual. The evidence is the event's
    extra, recorded on the new version.
    """
    params = context.get("params") or {}
    run_type = str(getattr(context["dag_run"], "run_type", "manual")).lower()
    reason = (params.get("reason") or "").strip()
    events = _asset_events(context)
    if "asset" in run_type or events:
        kinds = [extra.get("event") or uri.rstrip("/").rsplit("/", 1)[-1] for uri, extra in events]
        kind = "decay" if "decay" in kinds else "drift"
        chosen = [extra for k, (_, extra) in zip(kinds, events, strict=True) if k == kind]
        evidence = chosen[-1] if chosen else None
        explanations = [
            f"{extra.get('batch_id', '?')}: {extra.get('explanation', uri)}"
            for uri, extra in events
        ]
        return kind, reason or "; ".join(explanations) or "asset event", evidence
    if "scheduled" in run_type:
        return "schedule", reason or "scheduled retrain", None
    return "manual", reason or "manual retrain", None


def _publish_run_and_version(context: Any, rt: TaskRuntime, run_id: str, version: str) -> None:
    try:
        experiment = rt.client.get_run(run_id).info.experiment_id
    except Exception:  # a missing link button must not fail work that is done
        log.warning("no MLflow run link for run %s", run_id, exc_info=True)
        return
    publish_links(
        context,
        mlflow_run=mlflow_run_url(rt.settings, experiment, run_id),
        model_version=model_version_url(rt.settings, rt.config.name, version),
    )


class TrainChallengerOperator(BaseOperator):
    """Assemble the training window, train, log to MLflow and register a version."""

    operator_extra_links = (MlflowRunLink(), ModelVersionLink())

    def __init__(self, *, config_dir: str | Path, model: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model

    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.errors import InputDataError, ValidationFailed
        from retrainer.notify import send_alert
        from retrainer.training import train_challenger

        rt = TaskRuntime.open(self.config_dir, self.model)
        params = context.get("params") or {}
        trigger, reason, evidence = trigger_of(context)
        log.info("retrain started by %s: %s", trigger, reason)
        window_batches = params.get("window_batches") or None
        window = None
        if params.get("window"):
            from retrainer.config import WindowConfig

            window = WindowConfig(kind=params["window"], batches=rt.config.training.window.batches)
        if not params.get("force"):
            self._skip_if_already_trained(rt, window_batches, window)
        try:
            trained = train_challenger(
                rt.client,
                rt.storage,
                rt.settings,
                rt.config,
                trigger=trigger,
                reason=reason,
                context=run_context(context),
                window_batches=window_batches,
                window=window,
                trigger_evidence=evidence,
            )
        except InputDataError as exc:
            raise AirflowFailException(str(exc)) from exc
        except ValidationFailed as exc:
            # Bad labels or types in the window: retrying cannot help, a person must look.
            for check in exc.failed_checks:
                log.error("training window failed check: %s", check)
            send_alert(
                rt.settings,
                f"{self.model}: retrain blocked by validation",
                str(exc),
                {},
                event="blocked_batch",
            )
            raise AirflowFailException(str(exc)) from exc
        log.info(
            "challenger %s v%s trained on %s (%s): holdout %s",
            self.model,
            trained.version,
            trained.window.get("batches"),
            trained.window.get("policy"),
            trained.metrics,
        )
        _publish_run_and_version(context, rt, trained.run_id, trained.version)
        return trained.to_dict()

    def _skip_if_already_trained(
        self, rt: TaskRuntime, window_batches: int | None, window: Any
    ) -> None:
        """Retraining on exactly the batches the newest version used would add nothing."""
        from retrainer.config import WindowConfig
        from retrainer.lake import accepted_batches
        from retrainer.training.train import window_inputs
        from retrainer.training.window import choose_batches

        metas = accepted_batches(rt.storage, self.model)
        if not metas:
            return
        if window_batches:
            window = WindowConfig(kind="sliding", batches=window_batches)
        champion_batches, flagged = window_inputs(rt.client, rt.storage, rt.config)
        chosen, _ = choose_batches(
            metas,
            window or rt.config.training.window,
            min_rows=rt.config.training.min_rows,
            holdout_fraction=rt.config.training.holdout_fraction,
            champion_batches=champion_batches,
            flagged=flagged,
        )
        wanted = ",".join(m.batch_id for m in chosen)
        try:
            versions = rt.client.search_model_versions(f"name = '{self.model}'")
        except Exception:
            return
        for mv in versions:
            if mv.tags.get("retrainer.batches") == wanted and mv.tags.get(
                "retrainer.gate.decision"
            ):
                raise AirflowSkipException(
                    f"version {mv.version} was already trained and judged on batches {wanted}; "
                    "set the force Param to train again"
                )


class EvaluateChallengerOperator(BaseOperator):
    """Score challenger and champion on the same holdout; record the gate decision."""

    operator_extra_links = (MlflowRunLink(), ModelVersionLink())

    def __init__(
        self, *, config_dir: str | Path, model: str, train_task_id: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.train_task_id = train_task_id

    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.evaluation import evaluate_challenger

        trained = context["ti"].xcom_pull(task_ids=self.train_task_id)
        rt = TaskRuntime.open(self.config_dir, self.model)
        ctx = run_context(context)
        evaluation = evaluate_challenger(
            rt.client,
            rt.storage,
            rt.settings,
            rt.config,
            trained["version"],
            actor=ctx["actor"],
            context={k: v for k, v in ctx.items() if k != "actor"},
        )
        for rule in evaluation.decision["rules"]:
            log.info(
                "gate rule %s: %s (%s)",
                rule["rule"],
                "pass" if rule["passed"] else "FAIL",
                rule["detail"],
            )
        log.info("gate decision for v%s: %s", trained["version"], evaluation.decision["reason"])
        _publish_run_and_version(context, rt, evaluation.run_id, str(trained["version"]))
        return evaluation.to_dict()


class PromoteChallengerOperator(BaseOperator):
    """Move ``champion`` to a challenger the gate accepted (skip when it rejected it)."""

    operator_extra_links = (ModelVersionLink(),)

    def __init__(
        self,
        *,
        config_dir: str | Path,
        model: str,
        evaluate_task_id: str,
        approval_mode: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(outlets=[model_asset(model, "champion")], **kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.evaluate_task_id = evaluate_task_id
        self.approval_mode = approval_mode

    def execute(self, context: Any) -> dict[str, Any]:
        evaluation = context["ti"].xcom_pull(task_ids=self.evaluate_task_id)
        if not evaluation["decision"]["promote"]:
            raise AirflowSkipException(
                f"challenger v{evaluation['challenger_version']} not promoted: "
                f"{evaluation['decision']['reason']}"
            )
        from retrainer.errors import RegistryError
        from retrainer.notify import send_alert
        from retrainer.registry import champion_version, promote

        rt = TaskRuntime.open(self.config_dir, self.model)
        ctx = run_context(context)
        version = evaluation["challenger_version"]
        publish_links(context, model_version=model_version_url(rt.settings, self.model, version))
        current = champion_version(rt.client, self.model)
        if current is not None and str(current.version) == str(version):
            log.info("v%s is already champion (a retried task): nothing to move", version)
            return {"version": version, "previous_version": None, "reused": True}
        approval: dict[str, Any] = {}
        if self.approval_mode != "auto":
            # Defence in depth: the approval task should have skipped us otherwise.
            from retrainer.registry.approval import approval_state

            state = approval_state(rt.client, self.model, version)
            if state.status != "approved":
                raise AirflowFailException(
                    f"v{version} is not approved (approval={state.status}): not promoted"
                )
            approval = {"approved_by": state.by, "approved_at": state.at}
        try:
            change = promote(
                rt.client,
                rt.storage,
                self.model,
                version,
                expected_champion=evaluation["champion_version"],
                reason=evaluation["decision"]["reason"],
                actor=ctx["actor"],
                context={
                    "airflow_dag_id": ctx["airflow_dag_id"],
                    "airflow_run_id": ctx["airflow_run_id"],
                    "evaluation_run_id": evaluation["run_id"],
                    "evidence": f"runs:/{evaluation['run_id']}/evaluation/report.html",
                    "approval_mode": self.approval_mode,
                    **approval,
                },
            )
        except RegistryError as exc:
            raise AirflowFailException(str(exc)) from exc
        context["outlet_events"][model_asset(self.model, "champion")].extra = change.to_dict()
        send_alert(
            rt.settings,
            f"{self.model}: v{version} promoted",
            f"champion v{change.previous_version} -> v{version}: {change.reason}",
            change.to_dict(),
            event="promotion",
        )
        return change.to_dict()


class RollbackChampionOperator(BaseOperator):
    """Move ``champion`` back to the previous champion or to the version given as a Param."""

    operator_extra_links = (ModelVersionLink(),)

    def __init__(self, *, config_dir: str | Path, model: str, **kwargs: Any) -> None:
        super().__init__(outlets=[model_asset(model, "champion")], **kwargs)
        self.config_dir = str(config_dir)
        self.model = model

    def execute(self, context: Any) -> dict[str, Any]:
        from retrainer.errors import RegistryError
        from retrainer.notify import send_alert
        from retrainer.registry import rollback

        params = context.get("params") or {}
        target = params.get("target_version")
        rt = TaskRuntime.open(self.config_dir, self.model)
        ctx = run_context(context)
        try:
            change = rollback(
                rt.client,
                rt.storage,
                self.model,
                target_version=str(target) if target not in (None, "") else None,
                reason=str(params.get("reason") or ""),
                actor=ctx["actor"],
                context={
                    "airflow_dag_id": ctx["airflow_dag_id"],
                    "airflow_run_id": ctx["airflow_run_id"],
                },
            )
        except RegistryError as exc:
            raise AirflowFailException(str(exc)) from exc
        publish_links(
            context, model_version=model_version_url(rt.settings, self.model, change.version)
        )
        context["outlet_events"][model_asset(self.model, "champion")].extra = change.to_dict()
        log.warning(
            "rolled back %s: champion v%s -> v%s (%s, by %s)",
            self.model,
            change.previous_version,
            change.version,
            change.reason,
            change.actor,
        )
        send_alert(
            rt.settings,
            f"{self.model}: rolled back to v{change.version}",
            f"champion v{change.previous_version} -> v{change.version}: {change.reason}",
            change.to_dict(),
            event="rollback",
        )
        return change.to_dict()
