"""Hyperparameter search on retrain: seeded random candidates, cross-validated on the
training rows only, refitted on all of them.

The shared holdout never enters a fold: the search sees ``window.train`` alone, and the
gate later judges the refitted best on the holdout as it judges any challenger. The folds
follow the holdout's strategy: time-ordered (``TimeSeriesSplit``, each fold validates on
rows after the ones it trained on) when the holdout is cut by time, ``GroupKFold`` for a
group holdout, ``StratifiedKFold`` for a classifier otherwise, ``KFold`` for a regressor.
Candidates come from scikit-learn's ``ParameterSampler`` over scipy.stats distributions;
each is scored with ``cross_validate`` and the time budget is checked between candidates.
"""

from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retrainer.errors import ConfigError, InputDataError
from retrainer.metric_specs import greater_is_better

if TYPE_CHECKING:
    import pandas as pd

    from retrainer.config import ModelConfig
    from retrainer.config.search import SearchConfig

__all__ = ["SearchResult", "check_search_space", "cv_folds", "distributions", "run_search"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchResult:
    """The refitted best estimator and what the search did to find it."""

    estimator: Any
    best_params: dict[str, Any]
    best_score: float
    metric: str
    trials: list[dict[str, Any]] = field(default_factory=list)
    planned: int = 0
    stopped_by_budget: bool = False
    folds: str = ""
    seconds: float = 0.0


def check_search_space(estimator: Any, config: ModelConfig) -> None:
    """Check every searched name is a settable parameter of ``estimator``.

    Raises:
        ConfigError: a name is not among ``estimator.get_params()``; the message names
            the YAML file and lists the valid names.
    """
    search = config.training.search
    if search is None:
        return
    valid = sorted(estimator.get_params(deep=True))
    unknown = sorted(set(search.space) - set(valid))
    if unknown:
        raise ConfigError(
            f"{config.source}: training.search.space names {unknown}, which "
            f"{type(estimator).__name__} cannot set; valid names: {', '.join(valid)}"
        )


def distributions(search: SearchConfig) -> dict[str, Any]:
    """The space as ParameterSampler takes it: lists stay lists, ranges become scipy.stats."""
    from scipy import stats

    out: dict[str, Any] = {}
    for name, values in search.space.items():
        if isinstance(values, list):
            out[name] = values
        elif values.integer and values.log:
            out[name] = _LogInt(int(values.low), int(values.high))
        elif values.integer:
            out[name] = stats.randint(values.low, values.high + 1)  # high included
        elif values.log:
            out[name] = stats.loguniform(values.low, values.high)
        else:
            out[name] = stats.uniform(values.low, values.high - values.low)
    return out


class _LogInt:
    """An integer drawn log-uniformly in [low, high] (``rvs`` is what ParameterSampler uses)."""

    def __init__(self, low: int, high: int) -> None:
        from scipy import stats

        self.low, self.high = low, high
        self._dist = stats.loguniform(low, high + 1)

    def rvs(self, random_state: Any = None) -> int:
        return min(self.high, int(self._dist.rvs(random_state=random_state)))


def cv_folds(
    train: pd.DataFrame, config: ModelConfig, holdout_strategy: str
) -> tuple[pd.DataFrame, Any, Any]:
    """The training rows in fold order, the splitter and the groups (or None).

    Time folds need the rows in time order (``TimeSeriesSplit`` splits by position).

    Raises:
        InputDataError: too few rows, classes or groups for ``search.folds`` folds.
    """
    import pandas as pd
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

    search = config.training.search
    assert search is not None
    seed = search.seed if search.seed is not None else config.training.random_state
    folds, target = search.folds, config.target.column
    where = f"training.search.folds {folds} of {config.name!r}"
    if len(train) < 2 * folds:
        raise InputDataError(f"{where}: {len(train)} training rows are too few")
    if holdout_strategy == "time":
        time_col = config.data.time_column
        if time_col and time_col in train.columns:
            train = train.sort_values(time_col, kind="stable")
        return train, TimeSeriesSplit(n_splits=folds), None
    if holdout_strategy == "group":
        column = config.training.holdout.group_column
        assert column is not None
        groups = pd.factorize(train[column], use_na_sentinel=True)[0]
        if len(set(groups)) < folds:
            raise InputDataError(f"{where}: the training rows hold {len(set(groups))} groups")
        return train, GroupKFold(n_splits=folds), groups
    if config.target.task == "regression":
        return train, KFold(n_splits=folds, shuffle=True, random_state=seed), None
    smallest = int(train[target].value_counts().min())
    if smallest < folds:
        raise InputDataError(f"{where}: a class has {smallest} training row(s)")
    return train, StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed), None


def _scorer(config: ModelConfig) -> Any:
    """Score a fold with the gate's own metric code (greater is better: losses negated)."""
    from retrainer.evaluation.metrics import metrics_from_scores, predict_scores

    metric = config.search_metric
    sign = 1.0 if greater_is_better(metric) else -1.0

    def score(estimator: Any, X: pd.DataFrame, y: Any) -> float:
        values = metrics_from_scores(y, predict_scores(estimator, X, config), config)
        return sign * values.get(metric, float("nan"))

    return score


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (for JSON, MLflow params and set_params)."""
    return value.item() if hasattr(value, "item") else value


def run_search(
    estimator: Any, train: pd.DataFrame, config: ModelConfig, holdout_strategy: str
) -> SearchResult:
    """Search ``training.search.space`` on ``train`` and refit the best on all of it.

    Raises:
        InputDataError: the rows cannot be cut into the folds, or no candidate scored.
    """
    import math

    from sklearn.base import clone
    from sklearn.model_selection import ParameterSampler, cross_validate

    from retrainer.model_inputs import model_inputs

    search = config.training.search
    assert search is not None
    check_search_space(estimator, config)
    seed = search.seed if search.seed is not None else config.training.random_state
    ordered, splitter, groups = cv_folds(train, config, holdout_strategy)
    X, y = model_inputs(ordered, config), ordered[config.target.column]
    metric, sign = config.search_metric, 1.0 if greater_is_better(config.search_metric) else -1.0
    candidates = list(ParameterSampler(distributions(search), search.trials, random_state=seed))
    started, stopped = time.monotonic(), False
    trials: list[dict[str, Any]] = []
    for number, params in enumerate(candidates):
        if search.max_seconds is not None and time.monotonic() - started >= search.max_seconds:
            stopped = True
            break
        params = {k: _plain(v) for k, v in params.items()}
        scores = cross_validate(
            clone(estimator).set_params(**params),
            X,
            y,
            groups=groups,
            cv=splitter,
            scoring=_scorer(config),
            error_score="raise",
        )
        # Scores back on the metric's own scale (a loss is positive again).
        test = [sign * float(s) for s in scores["test_score"]]
        finite = [s for s in test if not math.isnan(s)]
        trials.append(
            {
                "trial": number,
                "params": params,
                f"mean_{metric}": sum(finite) / len(finite) if finite else float("nan"),
                f"std_{metric}": statistics.pstdev(finite) if finite else float("nan"),
                "fold_scores": test,
                "mean_fit_seconds": float(scores["fit_time"].mean()),
            }
        )
    scored = [t for t in trials if not math.isnan(t[f"mean_{metric}"])]
    if not scored:
        raise InputDataError(
            f"training.search of {config.name!r}: no candidate got a {metric} on any fold"
        )
    best = max(scored, key=lambda t: sign * t[f"mean_{metric}"])
    refit = clone(estimator).set_params(**best["params"])
    refit.fit(model_inputs(train, config), train[config.target.column])
    seconds = time.monotonic() - started
    log.info(
        "search of %s: %d of %d trial(s)%s in %.1f s, best %s %.4f with %s",
        config.name,
        len(trials),
        len(candidates),
        " (stopped by max_seconds)" if stopped else "",
        seconds,
        metric,
        best[f"mean_{metric}"],
        best["params"],
    )
    return SearchResult(
        refit,
        best["params"],
        best[f"mean_{metric}"],
        metric,
        trials,
        len(candidates),
        stopped,
        f"{type(splitter).__name__}(n_splits={search.folds})",
        seconds,
    )
