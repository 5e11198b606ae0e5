"""Operators of ``<model>_monitor``: validate the landed batch, check it.

The trigger decision and the decay/drift events live in ``trigger_operators``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from retrainer.orchestration.links import (
    DriftReportLink,
    ModelVersionLink,
    ValidationReportLink,
    lake_url,
    model_version_url,
    publish_links,
)
from retrainer.orchestration.runtime import TaskRuntime, run_context

__all__ = [
    "CheckBatchOperator",
    "FailRunOnFailureOperator",
    "ValidateBatchOperator",
    "batch_ids_from",
]

log = logging.getLogger(__name__)


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


class ValidateBatchOperator(BaseOperator):
    """Validate each landed batch with the champion's suite; quarantine what fails."""

    ui_color = "#e8f4e8"
    operator_extra_links = (ValidationReportLink(),)

    def __init__(self, *, config_dir: str | Path, model: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model

    def execute(self, context: Any) -> list[str]:
        from retrainer.errors import ObjectNotFound, ValidationFailed
        from retrainer.lake import accept_batch, find_incoming, keys
        from retrainer.notify import send_alert
        from retrainer.registry import champion_version
        from retrainer.validation import load_suite_spec, validate_batch

        batch_ids = batch_ids_from(context)
        if not batch_ids:
            raise AirflowSkipException(
                "no batch to check: land one with `retrainer land` or give the batch_id Param"
            )
        rt = TaskRuntime.open(self.config_dir, self.model)
        champion = champion_version(rt.client, self.model)
        spec = load_suite_spec(rt.config, champion.run_id if champion else None)
        accepted: list[str] = []
        blocked: dict[str, list[str]] = {}
        docs: list[str] = []  # Data Docs of blocked or partly quarantined batches
        for batch_id in batch_ids:
            try:
                key = find_incoming(rt.storage, self.model, batch_id)
                outcome = validate_batch(rt.storage, rt.config, batch_id, key, spec)
            except ObjectNotFound as exc:
                blocked[batch_id] = [str(exc)]
                log.error("batch %s: %s", batch_id, exc)
                continue
            except ValidationFailed as exc:
                blocked[batch_id] = exc.failed_checks
                for check in exc.failed_checks:
                    log.error("batch %s failed check: %s", batch_id, check)
                log.error(
                    "batch %s quarantined in %s (validation result %s)",
                    batch_id,
                    rt.storage.uri(exc.evidence.get("quarantine_prefix") or ""),
                    exc.report_key,
                )
                if exc.evidence.get("data_docs_key"):
                    docs.append(exc.evidence["data_docs_key"])
                    log.error(
                        "batch %s Data Docs: %s",
                        batch_id,
                        rt.storage.uri(exc.evidence["data_docs_key"]),
                    )
                send_alert(
                    rt.settings,
                    f"{self.model}: batch {batch_id} blocked",
                    str(exc),
                    {"batch_id": batch_id, "report_key": exc.report_key},
                    event="blocked_batch",
                )
                continue
            assert outcome.batch_key is not None  # accepted batches always have a key
            accept_batch(rt.storage, rt.config, batch_id, outcome.batch_key)
            for warning in outcome.warnings:
                log.warning("batch %s check (warn only): %s", batch_id, warning)
            if outcome.status == "rows_quarantined":
                docs.append(f"{outcome.quarantine_prefix}/{keys.DATA_DOCS}")
                for code, count in outcome.reasons.items():
                    log.warning("batch %s: %d row(s) quarantined for %s", batch_id, count, code)
                send_alert(
                    rt.settings,
                    f"{self.model}: {outcome.quarantined_rows} row(s) of batch {batch_id} "
                    "quarantined",
                    f"{outcome.quarantined_rows} of {outcome.rows} rows failed row checks "
                    f"{outcome.reasons}; kept in {outcome.quarantine_prefix}/",
                    outcome.to_dict(),
                    event="rows_quarantined",
                )
            log.info(
                "batch %s accepted (%d of %d rows) -> %s",
                batch_id,
                outcome.rows - outcome.quarantined_rows,
                outcome.rows,
                outcome.batch_key,
            )
            accepted.append(batch_id)
        if docs:
            publish_links(context, validation_report=lake_url(rt.settings, docs[-1]))
        if not accepted:
            # Bad data is not a transient fault: fail without retries; nothing downstream runs.
            raise AirflowFailException(
                "every batch was blocked: "
                + "; ".join(f"{b}: {', '.join(c)}" for b, c in blocked.items())
            )
        return accepted


class CheckBatchOperator(BaseOperator):
    """Score accepted batches with the champion and measure drift against its reference."""

    operator_extra_links = (DriftReportLink(), ModelVersionLink())

    def __init__(
        self, *, config_dir: str | Path, model: str, validate_task_id: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model
        self.validate_task_id = validate_task_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from retrainer.lake import keys
        from retrainer.monitoring import check_batch

        batch_ids = context["ti"].xcom_pull(task_ids=self.validate_task_id) or []
        rt = TaskRuntime.open(self.config_dir, self.model)
        ctx = run_context(context)
        results = []
        for batch_id in batch_ids:
            check = check_batch(
                rt.client,
                rt.storage,
                rt.settings,
                rt.config,
                batch_id,
                context={k: v for k, v in ctx.items() if k != "actor"},
            )
            log.info(
                "batch %s: %s (drift report: %s)", batch_id, check.explanation, check.report_uri
            )
            results.append(check.evidence() | {"drift": check.drift})
        reported = [c for c in results if c.get("report_uri")]
        if reported:
            last = reported[-1]
            publish_links(
                context,
                drift_report=lake_url(
                    rt.settings, keys.report(self.model, last["batch_id"], keys.DRIFT_HTML)
                ),
                model_version=model_version_url(rt.settings, self.model, last["champion_version"]),
            )
        return results


class FailRunOnFailureOperator(BaseOperator):
    """Fail the monitor run when any of its tasks failed (Airflow's "watcher" pattern).

    ``publish_metrics`` runs ``all_done`` so blocked batches are counted, which makes it a
    leaf that succeeds even when validation blocked the batch; Airflow derives a run's
    state from its leaves, so without this task a blocked batch would show as a green run.
    It runs only when an upstream task failed (``one_failed``) and then fails itself,
    without alerting: the failed task already sent its own alert.
    """

    ui_color = "#f4cccc"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "one_failed")
        kwargs["on_failure_callback"] = None
        kwargs["retries"] = 0
        super().__init__(**kwargs)

    def execute(self, context: Any) -> None:
        failed = [
            ti.task_id
            for ti in context["dag_run"].get_task_instances(state=["failed", "upstream_failed"])
            if ti.task_id != self.task_id
        ]
        raise AirflowFailException(
            f"this run did not finish cleanly: {', '.join(sorted(failed)) or 'a task'} failed "
            "(see that task's log)"
        )
