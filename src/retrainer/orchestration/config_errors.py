"""A broken model file becomes one visible placeholder DAG, not a missing set of DAGs.

Raising from the DAG file would make one import error for the whole folder and drop every
model's DAGs. Instead the factory builds the good models and, for each broken file, a DAG
``<model>_config_error`` whose description, docs and single (failing) task name the file
and the offending field.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, BaseOperator
from airflow.sdk.exceptions import AirflowFailException

__all__ = ["ConfigErrorOperator", "config_error_dag", "config_error_dag_id"]

START = datetime(2024, 1, 1)


def config_error_dag_id(name: str) -> str:
    """``<name>_config_error``, with what a DAG id may not hold replaced (any file name)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:200] + "_config_error"


class ConfigErrorOperator(BaseOperator):
    """Fails with the error of a model file: running it says what to fix."""

    ui_color = "#fed7d7"

    def __init__(self, *, path: str, error: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.error = error

    def execute(self, context: Any) -> None:
        raise AirflowFailException(f"model file {self.path} is broken; fix it:\n{self.error}")


def config_error_dag(dag_id: str, path: str, error: str) -> DAG:
    """The placeholder DAG of a broken model file (never scheduled)."""
    # The file and its first offending field: what the DAG list shows.
    first = " ".join(line.strip() for line in error.splitlines()[:2]) or "broken"
    with DAG(
        dag_id=dag_id,
        start_date=START,
        schedule=None,
        catchup=False,
        tags=["retrainer", "config-error"],
        description=f"BROKEN model file: {first}"[:1000],
        doc_md=(
            f"**The model file `{path}` could not be loaded**, so its monitor, retrain and "
            "rollback DAGs are missing until it is fixed (the other models are unaffected)."
            # The error quotes the file: a fence in it must not end the code block.
            f"\n\n```\n{error.replace('```', '` ` `')}\n```"
        ),
    ) as dag:
        ConfigErrorOperator(task_id="config_error", path=path, error=error, retries=0)
    return dag
