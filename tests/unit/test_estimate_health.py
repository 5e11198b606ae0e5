"""The estimate's health: judged on the trigger metric, within the band sampling allows.

Golden cases on seeded data. Before, any metric's divergence over 0.1 broke the estimate:
a rare-class model alerted on every batch because precision swings, not because the
estimate was wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retrainer.config import ModelConfig
from retrainer.monitoring.estimate_health import estimate_health
from retrainer.monitoring.realized import realized_metrics

pytestmark = pytest.mark.unit

CONFIG = ModelConfig.model_validate(
    {"name": "m", "numeric_features": ["x"], "target": {"column": "y"}}
)


def _batch(rows: int, positives: float, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """A prediction log of a fair model on a batch with ``positives`` share of class 1."""
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < positives).astype(int)
    p = np.clip(0.05 + 0.3 * y * rng.random(rows) + 0.5 * rng.random(rows), 0, 1)  # AUC ~0.8
    log = pd.DataFrame({"prediction": (p > 0.5).astype(int), "proba_0": 1 - p, "proba_1": p})
    return log, pd.Series(y)


def test_a_rare_class_batch_whose_auc_estimate_holds_is_healthy() -> None:
    log, y = _batch(300, 0.045, seed=1)
    realized = realized_metrics(log, y, CONFIG)
    # The AUC estimate within 0.03; precision off by far more than 0.1.
    estimated = {"roc_auc": realized["roc_auc"] - 0.03, "precision": realized["precision"] + 0.3}
    health = estimate_health(CONFIG, log, y, estimated, realized)
    assert health.metric == "roc_auc" and not health.broken
    assert health.divergence == pytest.approx(-0.03)


def test_the_band_widens_on_a_small_rare_class_batch_and_not_on_a_big_one() -> None:
    small_log, small_y = _batch(300, 0.045, seed=2)
    big_log, big_y = _batch(20_000, 0.3, seed=2)
    small = realized_metrics(small_log, small_y, CONFIG)
    big = realized_metrics(big_log, big_y, CONFIG)
    off = 0.13  # beyond the 0.1 floor
    small_health = estimate_health(
        CONFIG, small_log, small_y, {"roc_auc": small["roc_auc"] - off}, small
    )
    big_health = estimate_health(CONFIG, big_log, big_y, {"roc_auc": big["roc_auc"] - off}, big)
    # ~13 positives: the AUC's own 95% interval is wider than the divergence.
    assert small_health.band > off and not small_health.broken
    # 6,000 positives: the floor holds, and the same divergence is a broken estimate.
    assert big_health.band == pytest.approx(0.1) and big_health.broken


def test_without_labels_or_an_estimate_nothing_is_judged() -> None:
    log, y = _batch(100, 0.5, seed=3)
    assert not estimate_health(CONFIG, log, None, {"roc_auc": 0.5}, {}).broken
    assert estimate_health(CONFIG, log, y, {}, {"roc_auc": 0.8}).divergence is None
