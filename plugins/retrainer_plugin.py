"""Airflow plugin of retrainer: registrations only (the code is in retrainer.orchestration).

- Extra links on retrainer tasks (MLflow run, model version, drift / validation report).
  The operators carry them; they are listed here so Airflow's plugin page shows them.
- A web app under ``/retrainer`` in the API server: the "Models" page and the lake reports
  the links point to.
- A "Models" entry in the Airflow UI's navigation that shows that page.
"""

from __future__ import annotations

from pathlib import Path

from airflow.plugins_manager import AirflowPlugin

from retrainer.orchestration.asgi import LazyApp
from retrainer.orchestration.links import (
    DriftReportLink,
    MlflowRunLink,
    ModelVersionLink,
    ValidationReportLink,
)

# Same default as the DAG files: the project's config/ unless $RETRAINER_CONFIG_DIR is set.
_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class RetrainerPlugin(AirflowPlugin):
    name = "retrainer"
    operator_extra_links = [
        MlflowRunLink(),
        ModelVersionLink(),
        DriftReportLink(),
        ValidationReportLink(),
    ]
    fastapi_apps = [
        {
            "app": LazyApp("retrainer.orchestration.views:create_app", _CONFIG_DIR),
            "url_prefix": "/retrainer",
            "name": "retrainer",
        }
    ]
    external_views = [
        {
            "name": "Models",
            "href": "retrainer/models",
            "destination": "nav",
            "url_route": "retrainer-models",
            "icon": None,
        }
    ]
