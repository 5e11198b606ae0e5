"""Sample a big training window down to ``training.sample.max_rows``, seeded.

The sample is drawn from the training rows only, after the shared holdout was cut from
the newest batch (:mod:`retrainer.training.holdout`). Sampling first would shrink the
holdout, and so widen every interval the gate judges by, and would judge champion and
challenger on fewer rows than a window without sampling; the holdout is at most a
fraction of one batch, so it stays bounded by the batch size anyway. No holdout row can
reach the sample: the sample only ever picks among the training rows.

The rows keep the window's order (batches oldest first, each in its own order), so a
time-ordered window gives a time-ordered sample and time-ordered folds stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from retrainer.config import ModelConfig

__all__ = ["SampleLineage", "class_quotas", "sample_training_rows"]


@dataclass(frozen=True)
class SampleLineage:
    """What the sample kept of the window: logged as params of the training run."""

    window_rows: int
    sampled_rows: int
    seed: int
    stratified: bool
    # Rows per class in the window and in the sample (classifiers; str(label) keys).
    window_classes: dict[str, int] = field(default_factory=dict)
    sampled_classes: dict[str, int] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        return self.sampled_rows < self.window_rows

    def params(self) -> dict[str, Any]:
        """MLflow params (JSON text for the class counts: a param value is a string)."""
        import json

        params: dict[str, Any] = {
            "sample.window_rows": self.window_rows,
            "sample.rows": self.sampled_rows,
            "sample.seed": self.seed,
            "sample.stratified": self.stratified,
        }
        if self.sampled_classes:
            params["sample.window_class_counts"] = json.dumps(self.window_classes, sort_keys=True)
            params["sample.class_counts"] = json.dumps(self.sampled_classes, sort_keys=True)
        return params

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_rows": self.window_rows,
            "sampled_rows": self.sampled_rows,
            "seed": self.seed,
            "stratified": self.stratified,
            "class_counts": dict(self.sampled_classes),
        }


def class_quotas(counts: np.ndarray, total: int) -> np.ndarray:
    """Rows to take per class so that ``total`` rows keep the classes' shares.

    Notes:
        The exact share of class k is :math:`e_k = total \\cdot c_k / \\sum c`. Largest
        remainders give :math:`\\lfloor e_k \\rfloor` or :math:`\\lceil e_k \\rceil` rows
        (ties to the earlier class), summing to ``total``. A present class whose share
        rounds to 0 gets one row, taken from the class rounded up the most: that class
        then holds at least :math:`e_j - 1`, so every quota stays within one row of its
        share and no class the window holds vanishes from the sample.
    """
    import numpy as np

    exact = counts * (total / counts.sum())
    quotas = np.floor(exact).astype(np.int64)
    # Stable sort on the negated remainders: the largest first, ties by class order.
    order = np.argsort(-(exact - quotas), kind="stable")
    quotas[order[: total - int(quotas.sum())]] += 1
    for k in np.flatnonzero((quotas == 0) & (counts > 0)):
        gains = np.where(quotas > 1, quotas - exact, -np.inf)
        if gains.max() <= 0:
            break  # no class above its share can spare a row: leave the quotas
        donor = int(np.argmax(gains))
        quotas[donor] -= 1
        quotas[k] = 1
    return quotas


def sample_training_rows(
    train: pd.DataFrame, config: ModelConfig
) -> tuple[pd.DataFrame, SampleLineage | None]:
    """The training rows to fit on and what the sample kept (None without a policy).

    A window within ``max_rows`` is returned whole (its lineage says so).
    """
    import numpy as np
    import pandas as pd

    policy = config.training.sample
    if policy is None:
        return train, None
    seed = policy.seed if policy.seed is not None else config.training.random_state
    n = len(train)
    classify = config.target.task != "regression"
    labels = train[config.target.column] if classify else None
    codes = uniques = None
    if labels is not None:
        codes, uniques = pd.factorize(labels, sort=True)
    if n <= policy.max_rows:
        counted = _counts(codes, uniques)
        return train, SampleLineage(n, n, seed, policy.stratify, counted, counted)
    rng = np.random.default_rng(seed)
    if policy.stratify and codes is not None and uniques is not None:
        quotas = class_quotas(np.bincount(codes, minlength=len(uniques)), policy.max_rows)
        picked = [
            rng.choice(np.flatnonzero(codes == k), size=int(q), replace=False)
            for k, q in enumerate(quotas)
        ]
        rows = np.sort(np.concatenate(picked))
    else:
        rows = np.sort(rng.choice(n, size=policy.max_rows, replace=False))
    sample = train.iloc[rows].reset_index(drop=True)
    return sample, SampleLineage(
        n,
        len(sample),
        seed,
        policy.stratify,
        _counts(codes, uniques),
        _counts(None if codes is None else codes[rows], uniques),
    )


def _counts(codes: Any, uniques: Any) -> dict[str, int]:
    import numpy as np

    if codes is None or uniques is None:
        return {}
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    return {str(u): int(c) for u, c in zip(uniques, counts, strict=True)}
