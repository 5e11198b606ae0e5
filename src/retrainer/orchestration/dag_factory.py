"""Build ``<model>_monitor``, ``<model>_retrain`` and ``<model>_rollback`` for every model file.

Only the YAML is read at parse time (pydantic + yaml); operators import pandas, sklearn,
MLflow and Great Expectations inside ``execute()``, so parsing stays fast.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import (
    DAG,
    AssetOrTimeSchedule,
    BaseOperator,
    CronTriggerTimetable,
    Param,
    chain,
)

from retrainer.config import ApprovalConfig, ModelConfig, scan_model_configs
from retrainer.orchestration.approval_operators import (
    HITLApprovalOperator,
    RequestApprovalOperator,
    WaitForApprovalSensor,
)
from retrainer.orchestration.assets import model_asset
from retrainer.orchestration.config_errors import config_error_dag, config_error_dag_id
from retrainer.orchestration.ledger_operators import ReconcileChampionOperator
from retrainer.orchestration.metrics_operators import PublishMetricsOperator, TaskDurationCallback
from retrainer.orchestration.monitor_operators import (
    CheckBatchOperator,
    FailRunOnFailureOperator,
    ValidateBatchOperator,
)
from retrainer.orchestration.notifiers import RetrainerNotifier
from retrainer.orchestration.performance_operators import (
    AssessPerformanceOperator,
    JudgeCanaryOperator,
)
from retrainer.orchestration.retrain_operators import (
    EvaluateChallengerOperator,
    PromoteChallengerOperator,
    RollbackChampionOperator,
    TrainChallengerOperator,
)
from retrainer.orchestration.shadow_operators import HoldInShadowOperator, ScoreShadowOperator
from retrainer.orchestration.trigger_operators import (
    DecideTriggerOperator,
    EmitTriggerEventOperator,
)

__all__ = ["build_dags"]

log = logging.getLogger(__name__)

START = datetime(2024, 1, 1)


def _model_dag(config: ModelConfig, kind: str, *, retries: int = 1, **kwargs: Any) -> DAG:
    """A DAG of one model with the settings all three share."""
    # Retries are for transient faults (a busy store); bad data fails with AirflowFailException.
    default_args = {
        "owner": config.owner,
        "retries": retries,
        "retry_delay": timedelta(seconds=20),
        # Every task alerts when it fails and reports its duration; neither can fail it.
        "on_failure_callback": [RetrainerNotifier(), TaskDurationCallback(failed=True)],
        "on_success_callback": [TaskDurationCallback(failed=False)],
    }
    return DAG(
        dag_id=config.dag_ids[kind],
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=default_args,
        tags=["retrainer", config.name, kind],
        **kwargs,
    )


def _policy_warnings(config: ModelConfig) -> str:
    """Policies that cannot work, as a warning on the monitor DAG's docs (and the parse log)."""
    from retrainer.config.checks import check_policies

    found = check_policies(config)
    for finding in found:
        log.warning("model %s: %s", config.name, finding.line())
    if not found:
        return ""
    # Markdown in the Airflow UI: the YAML's own words, escaped as code.
    items = "\n".join(f"- `{f.field}`: {f.problem}; {f.fix}" for f in found)
    return f"\n\n**Policy warnings** (`retrainer check {config.name}`):\n\n{items}\n"


def _monitor(config: ModelConfig, config_dir: Path) -> DAG:
    with _model_dag(
        config,
        "monitor",
        description=f"Validate, score and check each new batch of {config.name} for drift",
        # New labels re-judge the batches they label: a run with no new batch skips the
        # batch tasks and assess_performance picks the labels up.
        schedule=model_asset(config.name, "incoming") | model_asset(config.name, "labels"),
        params={
            "batch_id": Param(
                None,
                type=["null", "string"],
                description="Batch to check (default: from the landing event)",
            )
        },
        doc_md=f"Monitor **{config.name}**: validate → check against `@champion` → realized "
        "and estimated performance (also when labels land) → trigger policy → decay or drift "
        "event." + _policy_warnings(config),
    ) as dag:
        validate = ValidateBatchOperator(
            task_id="validate_batch", config_dir=config_dir, model=config.name
        )
        check = CheckBatchOperator(
            task_id="check_batch",
            config_dir=config_dir,
            model=config.name,
            validate_task_id=validate.task_id,
        )
        assess = AssessPerformanceOperator(
            task_id="assess_performance",
            config_dir=config_dir,
            model=config.name,
            check_task_id=check.task_id,
        )
        # After assess_performance: late labels re-judge the batches they label, so a decay
        # found when labels land retrains too.
        decide = DecideTriggerOperator(
            task_id="decide_trigger",
            config_dir=config_dir,
            model=config.name,
            check_task_id=check.task_id,
            assess_task_id=assess.task_id,
        )
        emits = [
            EmitTriggerEventOperator(
                task_id=f"emit_{event}",
                config_dir=config_dir,
                model=config.name,
                event=event,
                decide_task_id=decide.task_id,
            )
            for event in ("decay", "drift")
        ]
        validate >> check >> assess >> decide >> emits
        # A version with a traffic share is judged on the labelled rows it served so far.
        judge = JudgeCanaryOperator(
            task_id="judge_canary",
            config_dir=config_dir,
            model=config.name,
            assess_task_id=assess.task_id,
        )
        assess >> judge
        # all_done: a blocked batch is counted too. Tasks that write per-batch records
        # (reports/<m>/<batch>/*.json) belong upstream of it.
        [validate, check, assess, judge, decide, *emits] >> PublishMetricsOperator(
            task_id="publish_metrics",
            config_dir=config_dir,
            model=config.name,
            validate_task_id=validate.task_id,
        )
        if config.shadow is not None:
            validate >> ScoreShadowOperator(
                task_id="score_shadow",
                config_dir=config_dir,
                model=config.name,
                validate_task_id=validate.task_id,
            )
        # Independent of the batch: a hand edit is recorded even when the batch is blocked.
        ReconcileChampionOperator(
            task_id="reconcile_champion", config_dir=config_dir, model=config.name
        )
        # Last: a blocked batch (or any failed task) must leave a failed run in the UI.
        outcome = FailRunOnFailureOperator(task_id="fail_run_on_failure")
        for task in dag.tasks:
            if task is not outcome:
                task >> outcome
    return dag


def _approval_tasks(
    config: ModelConfig, config_dir: Path, approval: ApprovalConfig, evaluate_task_id: str
) -> list[Any]:
    """The tasks between evaluation and promotion for the model's approval mode."""
    timeout = timedelta(minutes=approval.timeout_minutes)
    common: dict[str, Any] = {
        "config_dir": config_dir,
        "model": config.name,
        "evaluate_task_id": evaluate_task_id,
    }
    pulled = f"ti.xcom_pull(task_ids='{evaluate_task_id}')"
    if approval.mode == "mlflow":
        request = RequestApprovalOperator(
            task_id="request_approval", mode="mlflow", timeout=timeout, **common
        )
        wait = WaitForApprovalSensor(
            task_id="wait_for_approval",
            four_eyes=approval.four_eyes,
            mode="reschedule",
            poke_interval=approval.poke_seconds,
            # A backstop only: the request expires itself (and says so) at its expires_at.
            timeout=approval.timeout_minutes * 60 + 3 * approval.poke_seconds,
            retries=0,
            **common,
        )
        return [request, wait]
    if approval.mode == "airflow":
        return [
            HITLApprovalOperator(
                task_id="approve",
                subject=f"Promote the {config.name} challenger to champion?",
                body=(
                    f"Gate decision for **{config.name}** v"
                    f"{{{{ {pulled}['challenger_version'] }}}}:"
                    f"\n\n{{{{ {pulled}['decision']['reason'] }}}}"
                ),
                response_timeout=timeout,
                four_eyes=approval.four_eyes,
                retries=0,
                **common,
            )
        ]
    return []


def _retrain(config: ModelConfig, config_dir: Path, default_approval: str = "auto") -> DAG:
    # Drift retrains only when the trigger policy says so: the monitor emits the drift
    # Asset after its decision, never on the raw verdict.
    events = model_asset(config.name, "decay") | model_asset(config.name, "drift")
    schedule: object = events
    if config.schedule:
        schedule = AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(config.schedule, timezone="UTC"), assets=events
        )
    with _model_dag(
        config,
        "retrain",
        description=f"Train a challenger for {config.name}, gate it, promote it",
        schedule=schedule,
        params={
            "reason": Param(
                "", type="string", description="Why you retrain (recorded on the version)"
            ),
            "window_batches": Param(
                None,
                type=["null", "integer"],
                minimum=1,
                description="Train on the last N accepted batches (default: config)",
            ),
            "window": Param(
                None,
                type=["null", "string"],
                enum=[None, "sliding", "expanding", "since_break"],
                description="Window policy for this run (default: config training.window)",
            ),
            "force": Param(
                False,
                type="boolean",
                description="Train even if the newest version already used these batches",
            ),
        },
        doc_md=f"Retrain **{config.name}** on decay or drift (as the trigger policy decides)"
        + (f" or on `{config.schedule}`" if config.schedule else "")
        + " or by hand.",
    ) as dag:
        train = TrainChallengerOperator(
            task_id="train_challenger", config_dir=config_dir, model=config.name
        )
        evaluate = EvaluateChallengerOperator(
            task_id="evaluate_challenger",
            config_dir=config_dir,
            model=config.name,
            train_task_id=train.task_id,
        )
        approval = config.approval_config(default_approval)
        gates = _approval_tasks(config, config_dir, approval, evaluate.task_id)
        last: BaseOperator
        if config.shadow is not None:
            last = HoldInShadowOperator(
                task_id="hold_in_shadow",
                config_dir=config_dir,
                model=config.name,
                evaluate_task_id=evaluate.task_id,
                batches=config.shadow.batches,
            )
        else:
            last = PromoteChallengerOperator(
                task_id="promote",
                config_dir=config_dir,
                model=config.name,
                evaluate_task_id=evaluate.task_id,
                approval_mode=approval.mode,
            )
        chain(train, evaluate, *gates, last)
    return dag


def _rollback(config: ModelConfig, config_dir: Path) -> DAG:
    with _model_dag(
        config,
        "rollback",
        retries=0,
        description=f"Move the {config.name} champion back to an earlier version",
        schedule=None,
        params={
            "target_version": Param(
                None,
                type=["null", "integer"],
                minimum=1,
                description="Version to restore (default: the previous champion)",
            ),
            "reason": Param("", type="string", minLength=1, description="Why (required, recorded)"),
        },
        doc_md=f"Roll back **{config.name}**: moves `@champion`, writes the ledger.",
    ) as dag:
        RollbackChampionOperator(task_id="rollback", config_dir=config_dir, model=config.name)
    return dag


def build_dags(default_config_dir: str | Path) -> dict[str, DAG]:
    """Return every DAG of every model file, keyed by dag id.

    A file that cannot be loaded gets a ``<model>_config_error`` DAG instead of its three.
    """
    from retrainer.settings import load_settings, resolve_config_dir

    config_dir = resolve_config_dir(default_config_dir)
    default_approval = load_settings(config_dir).approval_mode  # YAML only: cheap at parse
    dags: dict[str, DAG] = {}
    found = scan_model_configs(config_dir / "models")
    broken = [(b.path, b.error) for b in found.broken]
    for config in found.configs:
        try:
            built = (
                _monitor(config, config_dir),
                _retrain(config, config_dir, default_approval),
                _rollback(config, config_dir),
            )
        except Exception as exc:  # e.g. a cron Airflow refuses: that model only, not all
            path = config_dir / "models" / f"{config.name}.yaml"
            broken.append((path, f"{path}: {type(exc).__name__}: {exc}"))
            continue
        for dag in built:
            dags[dag.dag_id] = dag
    # A broken file still shows up, as a DAG that names the file and the field.
    for path, error in broken:
        log.error("model file %s is broken, its DAGs are not built: %s", path, error)
        dag_id = config_error_dag_id(path.stem)
        while dag_id in dags:
            dag_id = "_" + dag_id
        dags[dag_id] = config_error_dag(dag_id, str(path), error)
    return dags
