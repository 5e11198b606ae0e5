"""Per-slice metrics and group fairness of a binary classifier, on the shared holdout.

Slices: each configured column is cut into its categories (or, for numbers, into quantile
bins of the holdout); slices smaller than ``min_size`` rows are reported as skipped, since
a metric on a handful of rows is noise that would block good models at random.

Fairness, for the configured protected attribute:
    - disparate impact ratio: lowest group selection rate (share predicted positive)
      divided by the reference group's (the privileged group if configured, else the group
      with the highest rate). The four-fifths rule asks for at least 0.8.
    - equal opportunity difference: largest gap between a group's true positive rate and
      the reference group's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrainer.evaluation.bootstrap import weighted_metric

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from retrainer.config import FairnessConfig, SliceConfig

__all__ = ["fairness", "slice_keys", "slice_metrics"]


def slice_keys(column: pd.Series, bins: int) -> tuple[pd.Series, list[str]]:
    """Label every row with its slice (the category, or the quantile bin of a number).

    Returns the labels and the slices in their natural order (bins low to high).
    """
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column) and column.nunique() > bins:
        edges = sorted(set(column.quantile([i / bins for i in range(1, bins)]).tolist()))
        cut = pd.cut(column, [-float("inf"), *edges, float("inf")])
        return cut.astype(str), [str(c) for c in cut.cat.categories]
    keys = column.astype(str)
    return keys, sorted(set(keys.tolist()))


def _metric(metric: str, y: np.ndarray, pred: np.ndarray, score: np.ndarray | None) -> float:
    import numpy as np

    value = float(weighted_metric(metric, np.ones((1, len(y))), y, pred, score)[0])
    return value if np.isfinite(value) else float("nan")


def slice_metrics(
    frame: pd.DataFrame,
    y: np.ndarray,
    champion: tuple[np.ndarray, np.ndarray | None] | None,
    challenger: tuple[np.ndarray, np.ndarray | None],
    *,
    metric: str,
    config: SliceConfig,
    higher_is_better: bool,
) -> list[dict[str, Any]]:
    """One entry per slice: size, both models' metric, and the challenger's gain.

    ``gain`` is signed so that positive is better (champion minus challenger for a
    lower-is-better metric); it is None without a champion or where the metric is undefined.
    """
    import math

    import numpy as np

    out: list[dict[str, Any]] = []
    for column in config.columns:
        labels, order = slice_keys(frame[column], config.bins)
        keys = labels.to_numpy()
        for key in order:
            mask = keys == key
            n = int(mask.sum())
            entry: dict[str, Any] = {"column": column, "slice": str(key), "rows": n}
            if n < config.min_size:
                out.append({**entry, "skipped": f"fewer than {config.min_size} rows"})
                continue
            mine = _metric(metric, y[mask], challenger[0][mask], _sub(challenger[1], mask))
            theirs = (
                None
                if champion is None
                else _metric(metric, y[mask], champion[0][mask], _sub(champion[1], mask))
            )
            gain = None
            if theirs is not None and not (math.isnan(mine) or math.isnan(theirs)):
                gain = (mine - theirs) if higher_is_better else (theirs - mine)
            out.append(
                {
                    **entry,
                    "challenger": None if np.isnan(mine) else mine,
                    "champion": None if theirs is None or np.isnan(theirs) else theirs,
                    "gain": gain,
                }
            )
    return out


def _sub(score: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
    return None if score is None else score[mask]


def fairness(
    groups: pd.Series, y: np.ndarray, prediction: np.ndarray, config: FairnessConfig
) -> dict[str, Any]:
    """Disparate impact ratio and equal opportunity difference of one model's predictions."""
    import numpy as np

    keys = groups.astype(str).to_numpy()
    per_group: dict[str, dict[str, float | int | None]] = {}
    for key in sorted(set(keys.tolist())):
        mask = keys == key
        positives = mask & (y == 1)
        per_group[key] = {
            "rows": int(mask.sum()),
            "selection_rate": float(prediction[mask].mean()),
            "true_positive_rate": (
                float(prediction[positives].mean()) if positives.any() else None
            ),
        }
    usable = {k: v for k, v in per_group.items() if int(v["rows"] or 0) >= config.min_group_size}
    result: dict[str, Any] = {"attribute": config.attribute, "groups": per_group}
    if len(usable) < 2:
        result["disparate_impact"] = None
        result["equal_opportunity_difference"] = None
        result["note"] = f"fewer than two groups with {config.min_group_size}+ rows"
        return result
    rates = {k: float(v["selection_rate"] or 0.0) for k, v in usable.items()}
    privileged = None if config.privileged is None else str(config.privileged)
    reference = privileged if privileged in usable else max(rates, key=lambda k: rates[k])
    others = [k for k in usable if k != reference]
    ref_rate = rates[reference]
    ratios = [rates[k] / ref_rate if ref_rate > 0 else float("nan") for k in others]
    tprs = {k: v["true_positive_rate"] for k, v in usable.items()}
    gaps = [
        abs(float(tprs[k]) - float(tprs[reference]))  # type: ignore[arg-type]
        for k in others
        if tprs[k] is not None and tprs[reference] is not None
    ]
    result["reference_group"] = reference
    result["disparate_impact"] = float(np.nanmin(ratios)) if np.isfinite(ratios).any() else None
    result["equal_opportunity_difference"] = float(max(gaps)) if gaps else None
    return result
