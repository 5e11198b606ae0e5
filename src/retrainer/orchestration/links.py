"""Operator extra links: buttons on retrainer tasks to the MLflow run, the model version
and the drift / validation reports.

A task publishes the URLs of what it produced with :func:`publish_links` (one XCom,
``retrainer_links``). Airflow 3 evaluates an operator's links in the worker when the task
finishes and stores each URL as an XCom the API server reads back, so ``get_link`` runs
where that XCom is reachable; the API server never needs MLflow or the lake to draw them.
Lake files have no URL of their own: the plugin's FastAPI app serves them under
``<airflow>/retrainer/`` (see :mod:`retrainer.orchestration.views`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from retrainer.settings import Settings

__all__ = [
    "LINKS_XCOM_KEY",
    "DriftReportLink",
    "MlflowRunLink",
    "ModelVersionLink",
    "ValidationReportLink",
    "lake_url",
    "mlflow_run_url",
    "model_version_url",
    "publish_links",
]

log = logging.getLogger(__name__)

LINKS_XCOM_KEY = "retrainer_links"
# The plugin mounts its FastAPI app here (plugins/retrainer_plugin.py).
APP_PREFIX = "/retrainer"


def mlflow_run_url(settings: Settings, experiment_id: str, run_id: str) -> str:
    return f"{settings.mlflow_ui_url}/#/experiments/{experiment_id}/runs/{run_id}"


def model_version_url(settings: Settings, model: str, version: str | int) -> str:
    return f"{settings.mlflow_ui_url}/#/models/{quote(model)}/versions/{version}"


def lake_url(settings: Settings, key: str) -> str:
    """Where the plugin serves a report of the lake (``reports/...``, ``quarantine/...``)."""
    return f"{settings.airflow_url}{APP_PREFIX}/{quote(key)}"


def publish_links(context: Any, **urls: str | None) -> None:
    """Record the URLs of what this task produced for its extra-link buttons."""
    found = {name: url for name, url in urls.items() if url}
    if found:
        context["ti"].xcom_push(key=LINKS_XCOM_KEY, value=found)


class _PublishedLink(BaseOperatorLink):
    """A button whose URL the task published under ``field``; empty (greyed out) if none."""

    field: ClassVar[str]

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        try:
            urls = XCom.get_value(ti_key=ti_key, key=LINKS_XCOM_KEY)
        except Exception:  # a link must never fail the task that draws it
            log.warning("no %s link for %s", self.name, ti_key, exc_info=True)
            return ""
        return str((urls or {}).get(self.field) or "")


class MlflowRunLink(_PublishedLink):
    """The MLflow run the task logged (training or evaluation)."""

    name = "MLflow run"
    field = "mlflow_run"


class ModelVersionLink(_PublishedLink):
    """The registered model version the task produced, judged or moved an alias to."""

    name = "Model version"
    field = "model_version"


class DriftReportLink(_PublishedLink):
    """The batch's drift report (HTML with plots), served from the lake by the plugin."""

    name = "Drift report"
    field = "drift_report"


class ValidationReportLink(_PublishedLink):
    """Great Expectations Data Docs of a blocked or partly quarantined batch."""

    name = "Validation report"
    field = "validation_report"
