"""Record a hyperparameter search on its training run: what was chosen and every trial.

Params ``search.best.<name>`` hold the chosen values (the registered model has them set);
metrics the summary (``search.best_cv_<metric>``, trials run and planned, seconds); tags
how it ranked, how it folded and why it stopped; ``search/trials.json`` and a CSV table
every trial.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from retrainer.registry.artifacts import ARTIFACTS
from retrainer.registry.runs import log_metrics, log_params
from retrainer.registry.tags import SEARCH_FOLDS, SEARCH_METRIC, SEARCH_STOPPED_BY

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.training.search import SearchResult

__all__ = ["BEST_PARAM_PREFIX", "log_search", "trials_table"]

BEST_PARAM_PREFIX = "search.best."


def trials_table(result: SearchResult) -> str:
    """Every trial as CSV: one row per candidate, one column per parameter."""
    import pandas as pd

    metric = result.metric
    rows = [
        {
            "trial": t["trial"],
            **{f"param_{k}": v for k, v in t["params"].items()},
            f"mean_{metric}": t[f"mean_{metric}"],
            f"std_{metric}": t[f"std_{metric}"],
            "mean_fit_seconds": t["mean_fit_seconds"],
            "best": t["params"] == result.best_params,
        }
        for t in result.trials
    ]
    return str(pd.DataFrame(rows).to_csv(index=False))


def log_search(client: MlflowClient, run_id: str, result: SearchResult) -> None:
    """Log the search's choice, summary and trials to the training run ``run_id``."""
    from mlflow.entities import RunTag

    log_params(
        client, run_id, {f"{BEST_PARAM_PREFIX}{k}": _text(v) for k, v in result.best_params.items()}
    )
    log_metrics(
        client,
        run_id,
        {
            f"search.best_cv_{result.metric}": result.best_score,
            "search.trials_run": float(len(result.trials)),
            "search.trials_planned": float(result.planned),
            "search.seconds": result.seconds,
        },
    )
    stopped_by = "max_seconds" if result.stopped_by_budget else "trials"
    client.log_batch(
        run_id,
        tags=[
            RunTag(SEARCH_METRIC, result.metric),
            RunTag(SEARCH_FOLDS, result.folds),
            RunTag(SEARCH_STOPPED_BY, stopped_by),
        ],
    )
    summary: dict[str, Any] = {
        "metric": result.metric,
        "folds": result.folds,
        "best_params": result.best_params,
        f"best_cv_{result.metric}": result.best_score,
        "trials_run": len(result.trials),
        "trials_planned": result.planned,
        "stopped_by": stopped_by,
        "trials": result.trials,
    }
    client.log_dict(run_id, summary, ARTIFACTS["search_trials"])
    client.log_text(run_id, trials_table(result), ARTIFACTS["search_table"])


def _text(value: Any) -> str:
    # JSON spelling, so None/True and strings read back the way the YAML wrote them.
    return value if isinstance(value, str) else json.dumps(value)
