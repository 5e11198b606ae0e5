"""Airflow plugin: links from retrainer tasks to the MLflow UI (registrations only)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from retrainer.orchestration.links import MlflowModelLink


class RetrainerPlugin(AirflowPlugin):
    name = "retrainer"
    global_operator_extra_links = [MlflowModelLink()]
