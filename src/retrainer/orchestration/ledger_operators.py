"""Keep the ledger honest about changes made outside retrainer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator

from retrainer.orchestration.runtime import TaskRuntime, run_context

__all__ = ["ReconcileChampionOperator"]

log = logging.getLogger(__name__)


class ReconcileChampionOperator(BaseOperator):
    """Record in the ledger a ``champion`` move the ledger does not know (a hand edit)."""

    def __init__(self, *, config_dir: str | Path, model: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_dir = str(config_dir)
        self.model = model

    def execute(self, context: Any) -> dict[str, Any] | None:
        from retrainer.orchestration.notifiers import send_alert
        from retrainer.registry.ledger import reconcile_champion

        rt = TaskRuntime.open(self.config_dir, self.model)
        ctx = run_context(context)
        found = reconcile_champion(
            rt.client,
            rt.storage,
            self.model,
            context={
                "airflow_dag_id": ctx["airflow_dag_id"],
                "airflow_run_id": ctx["airflow_run_id"],
            },
        )
        if found is None:
            log.info("the champion of %s is where the ledger says", self.model)
            return None
        send_alert(
            rt.settings,
            f"{self.model}: champion changed outside retrainer",
            f"champion v{found['previous_version']} -> v{found['version']} (recorded in "
            f"{found['key']})",
            found,
            event="champion_changed",
        )
        return found
