"""The live gate's rule: collect, promote or stop a canary on seeded served rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from retrainer.config import ModelConfig
from retrainer.monitoring.canary import decide_canary
from retrainer.monitoring.live_ab import compare_versions


def _config(**gate: Any) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": "online",
            "data": {"time_column": "date"},
            "numeric_features": ["x"],
            "target": {"column": "y", "task": "binary", "positive_label": 1},
            "gate": {"metric": "accuracy", **gate},
        }
    )


def _served(rows: dict[str, tuple[int, float]], seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A log where version v served n rows and was right on a share p of them."""
    rng = np.random.default_rng(seed)
    frames, labels = [], []
    for version, (n, p) in rows.items():
        y = rng.integers(0, 2, n)
        right = rng.random(n) < p
        frames.append(
            pd.DataFrame({"model_version": version, "prediction": np.where(right, y, 1 - y)})
        )
        labels.append(pd.Series(y))
    return pd.concat(frames, ignore_index=True), pd.concat(labels, ignore_index=True)


def _decide(rows: dict[str, tuple[int, float]], config: ModelConfig | None = None) -> Any:
    config = config or _config()
    log, y = _served(rows)
    comparison = compare_versions(log, y, config, "1")
    return decide_canary(
        comparison,
        "2",
        "1",
        metric=config.gate.live_metric,
        margin=config.gate.live_margin,
        min_rows=config.gate.live.min_rows,
    )


def test_a_clearly_better_canary_is_promoted() -> None:
    decision = _decide({"1": (2000, 0.70), "2": (400, 0.90)})
    assert decision.action == "promote"
    assert decision.labelled_rows == {"1": 2000, "2": 400}
    assert decision.interval["lower"] > 0
    assert decision.values["2"] - decision.values["1"] == pytest.approx(
        decision.interval["difference"]
    )
    assert "lies above the margin 0" in decision.reason


def test_a_clearly_worse_canary_is_stopped() -> None:
    decision = _decide({"1": (2000, 0.85), "2": (400, 0.60)})
    assert decision.action == "stop"
    assert decision.interval["upper"] < 0
    assert decision.reason.endswith("lies below 0")


def test_too_few_labelled_rows_keep_collecting_whatever_the_numbers() -> None:
    decision = _decide({"1": (2000, 0.50), "2": (150, 1.0)})
    assert decision.action == "collect"
    assert decision.reason == (
        "labelled served rows v1 2000, v2 150; each needs 200 (gate.live.min_rows)"
    )


def test_an_even_race_keeps_collecting() -> None:
    decision = _decide({"1": (2000, 0.80), "2": (400, 0.80)})
    assert decision.action == "collect"
    assert decision.interval["lower"] < 0 < decision.interval["upper"]
    assert decision.reason.endswith("is not clear of ±0: keep collecting")


def test_the_margin_holds_back_a_small_win() -> None:
    rows = {"1": (2000, 0.70), "2": (400, 0.90)}
    assert _decide(rows).action == "promote"
    # The same rows with the comparison margin of the holdout gate: +0.2 is not clear of 0.25.
    wide = _config(comparison={"kind": "superiority", "margin": 0.25})
    assert wide.gate.live_margin == 0.25
    assert _decide(rows, wide).action == "collect"
    # gate.live.margin wins over the comparison margin.
    own = _config(comparison={"kind": "superiority", "margin": 0.25}, live={"margin": 0.05})
    assert _decide(rows, own).action == "promote"


def test_a_loss_metric_is_oriented_so_that_lower_is_better() -> None:
    comparison = {
        "versions": {
            "1": {"labelled_rows": 500, "realized": {"log_loss": 0.6}},
            "2": {"labelled_rows": 500, "realized": {"log_loss": 0.3}},
        },
        "intervals": {
            "2": {
                "log_loss": {"difference": -0.3, "lower": -0.4, "upper": -0.2, "confidence": 0.95}
            }
        },
    }
    decision = decide_canary(comparison, "2", "1", metric="log_loss", margin=0.0, min_rows=200)
    assert decision.action == "promote"
    assert "gain +0.3000, 95% interval [+0.2000, +0.4000]" in decision.reason


def test_no_probabilities_means_no_auc_interval_and_no_decision() -> None:
    log, y = _served({"1": (500, 0.7), "2": (500, 0.9)})
    comparison = compare_versions(log, y, _config(), "1")
    decision = decide_canary(comparison, "2", "1", metric="roc_auc", margin=0.0, min_rows=200)
    assert decision.action == "collect"
    assert "no live interval for roc_auc" in decision.reason


def test_live_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="min_rows"):
        _config(live={"min_rows": 5})
    with pytest.raises(ValidationError, match="extra"):
        _config(live={"min_row": 500})
