"""Check what an online model served before the monitor judges it (``data.serving``).

A batch of an online model carries, per row, the prediction the service returned, its
class probabilities, the model version that served it and the request id. Before these
may stand for the model, they must be what they claim: the version is registered for
this model, probabilities lie in [0, 1] and sum to 1, a predicted class is one the model
knows (a regressor's prediction is a finite number), and every row has its own request
id (late labels join on it). Each failure names its column, how many rows fail and
example rows; all of them block the batch, because a wrong served log would judge a
model on what it never did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrainer.validation.runner import FailedCheck

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig, ServingConfig
    from retrainer.validation.suite import SuiteSpec

__all__ = [
    "SERVED_CHECKS",
    "ServedContext",
    "check_served",
    "served_context",
    "split_served",
    "version_text",
]

SERVED_CHECKS = (
    "served_columns",
    "served_request_id",
    "served_version",
    "served_proba",
    "served_prediction",
)
_EXAMPLES = 5


@dataclass(frozen=True)
class ServedContext:
    """What served rows are checked against: the registered versions and the classes."""

    versions: frozenset[str]
    # The model's classes (as text) from the suite's target domain; None: not known.
    classes: tuple[str, ...] | None = None


def version_text(value: Any) -> str:
    """A served version as the registry writes it: ``3``, whether logged as 3, 3.0 or "3"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def served_context(
    client: MlflowClient, config: ModelConfig, spec: SuiteSpec
) -> ServedContext | None:
    """The registered versions of the model and the classes its suite learned.

    ``None`` for a model that declares no ``data.serving`` (nothing served to check).
    """
    from retrainer.registry.versions import model_versions

    if config.data.serving is None:
        return None
    versions = frozenset(str(v.version) for v in model_versions(client, config.name))
    target = spec.column(spec.target)
    classes = None
    if config.target.task != "regression" and target is not None and target.allowed:
        classes = tuple(sorted(str(c) for c in target.allowed))
    return ServedContext(versions, classes)


def split_served(frame: pd.DataFrame, serving: ServingConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The batch's inputs (what the suite validates) and its served columns, row for row."""
    served = serving.served_columns([str(c) for c in frame.columns])
    return frame.drop(columns=served), frame[served]


def _rows(mask: Any, values: pd.Series) -> tuple[str, ...]:
    """Example failing rows as ``row <n>: <value>`` (n counts from 0 in the landed file)."""
    import pandas as pd

    picked = values[mask].head(_EXAMPLES)
    return tuple(
        f"row {i}: {'missing' if pd.isna(v) else repr(v)}"
        for i, v in zip(picked.index, picked.tolist(), strict=True)
    )


def _failure(check: str, column: str, what: str, mask: Any, values: pd.Series) -> FailedCheck:
    count = int(mask.sum())
    rows = len(values)
    return FailedCheck(
        check, column, f"{count:,} of {rows:,} rows {what}", count, _rows(mask, values)
    )


def _proba_columns(
    served: pd.DataFrame, serving: ServingConfig, context: ServedContext
) -> tuple[list[str], list[FailedCheck]]:
    prefix = serving.proba_prefix or ""
    present = [c for c in served.columns if prefix and c.startswith(prefix)]
    if context.classes is None:
        return present, []
    expected = [serving.proba_column(c) for c in context.classes]
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in expected]
    failed = []
    if missing or extra:
        parts = [f"missing {missing}"] if missing else []
        parts += [f"for classes the model does not know {extra}"] if extra else []
        failed.append(
            FailedCheck(
                "served_columns",
                None,
                "probability columns "
                + "; ".join(parts)
                + f" (one {prefix}<class> per class of {list(context.classes)})",
                len(missing) + len(extra),
                tuple(missing + extra)[:_EXAMPLES],
            )
        )
    return present, failed


def _check_proba(
    served: pd.DataFrame, columns: list[str], serving: ServingConfig
) -> list[FailedCheck]:
    import numpy as np
    import pandas as pd

    failed = []
    numbers = {}
    for column in columns:
        values = pd.to_numeric(served[column], errors="coerce")
        bad = values.isna() | (values < 0) | (values > 1)
        if bad.any():
            failed.append(
                _failure(
                    "served_proba", column, "are not probabilities in [0, 1]", bad, served[column]
                )
            )
        numbers[column] = values
    if failed or not columns:
        return failed
    total = pd.DataFrame(numbers).sum(axis=1)
    off = (total - 1.0).abs() > serving.proba_tolerance
    if off.any():
        label = f"{serving.proba_prefix}*"
        failed.append(
            _failure(
                "served_proba",
                label,
                f"have probabilities that do not sum to 1 (±{serving.proba_tolerance:g})",
                off.to_numpy(),
                total.round(6).astype(np.float64),
            )
        )
    return failed


def _check_prediction(
    served: pd.DataFrame,
    serving: ServingConfig,
    config: ModelConfig,
    classes: tuple[str, ...] | None,
) -> list[FailedCheck]:
    import numpy as np
    import pandas as pd

    column = serving.prediction_column
    values = served[column]
    if config.target.task == "regression":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        bad = ~np.isfinite(numbers.to_numpy(na_value=np.nan))
        what = "are not finite numbers"
    else:
        bad = values.isna().to_numpy(copy=True)
        what = "have no prediction"
        if classes is not None:
            bad = bad | ~values.astype(str).isin(classes).to_numpy()
            what = f"are missing or not classes of the model {list(classes)}"
    return [_failure("served_prediction", column, what, bad, values)] if bad.any() else []


def check_served(
    served: pd.DataFrame, config: ModelConfig, context: ServedContext
) -> list[FailedCheck]:
    """The failures of a batch's served columns; empty when they can be judged.

    ``served`` is the batch's served columns (:func:`split_served`), its index the row
    numbers of the landed file.
    """
    serving = config.data.serving
    assert serving is not None  # only called for a model that declares data.serving
    missing = [c for c in serving.named_columns if c not in served.columns]
    if missing:
        return [
            FailedCheck(
                "served_columns",
                None,
                f"missing {missing} declared in data.serving of {config.source}",
                len(missing),
                tuple(missing),
            )
        ]
    failed: list[FailedCheck] = []
    request = served[serving.request_id_column]
    if request.isna().any():
        failed.append(
            _failure(
                "served_request_id",
                serving.request_id_column,
                "have no request id (late labels join on it)",
                request.isna().to_numpy(),
                request,
            )
        )
    repeated = request.duplicated(keep=False) & request.notna()
    if repeated.any():
        failed.append(
            _failure(
                "served_request_id",
                serving.request_id_column,
                "repeat a request id (a late label would judge two rows)",
                repeated.to_numpy(),
                request,
            )
        )
    version = served[serving.version_column]
    unknown = version.isna() | ~version.map(version_text).isin(context.versions)
    if unknown.any():
        known = sorted(context.versions, key=lambda v: (len(v), v))
        failed.append(
            _failure(
                "served_version",
                serving.version_column,
                f"name a version that is not registered for {config.name!r} "
                f"(registered: {known or 'none'})",
                unknown.to_numpy(),
                version,
            )
        )
    classes = context.classes
    if serving.proba_prefix is not None and config.target.task != "regression":
        columns, wrong = _proba_columns(served, serving, context)
        failed += wrong
        if classes is None and columns:
            classes = tuple(c.removeprefix(serving.proba_prefix) for c in columns)
        failed += _check_proba(served, columns, serving)
    failed += _check_prediction(served, serving, config, classes)
    return failed
