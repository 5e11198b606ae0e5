"""Operator extra links: from a retrainer task in the Airflow UI to the model in MLflow."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperatorLink

__all__ = ["MlflowModelLink"]


class MlflowModelLink(BaseOperatorLink):
    """ "MLflow model" button on every retrainer task: the registered model's page."""

    name = "MLflow model"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        model = getattr(operator, "model", None)
        if not model:
            return ""
        from retrainer.settings import load_settings

        return f"{load_settings().mlflow_ui_url}/#/models/{model}"
