"""Keep the ledger honest about changes made outside retrainer."""

from __future__ import annotations

from typing import Any

from retrainer.orchestration.base import ModelOperator, airflow_errors
from retrainer.orchestration.context import airflow_ids

__all__ = ["ReconcileChampionOperator"]


class ReconcileChampionOperator(ModelOperator):
    """Record in the ledger a ``champion`` move the ledger does not know (a hand edit)."""

    @airflow_errors()
    def execute(self, context: Any) -> dict[str, Any] | None:
        from retrainer.registry.steps import reconcile_ledger

        rt = self.open_runtime()
        return reconcile_ledger(
            rt.client, rt.storage, rt.alert, self.model, context=airflow_ids(context)
        )
