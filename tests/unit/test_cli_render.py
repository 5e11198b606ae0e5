"""What `retrainer history` prints, pinned line by line."""

from __future__ import annotations


def test_ledger_lines_and_the_champion_at_a_time() -> None:
    from retrainer.cli.render import champion_at_line, ledger_line

    promote = {
        "time": "2026-11-23T10:00:00+00:00",
        "event": "promote",
        "version": "3",
        "previous_version": "2",
        "actor": "scheduler",
        "reason": "gate passed",
        "airflow_run_id": "scheduled__2026-11-23",
    }
    assert ledger_line(promote) == (
        "2026-11-23T10:00:00+00:00  promote  v3 (was v2)  by scheduler: gate passed"
        " [run scheduled__2026-11-23]"
    )
    first = {"time": "t0", "event": "promote", "version": "1", "actor": None, "reason": None}
    assert ledger_line(first) == "t0  promote  v1  by None: None"
    assert champion_at_line("rainfall", "2026-11-24", promote) == (
        "rainfall at 2026-11-24: champion v3 since 2026-11-23T10:00:00+00:00"
        " (promote by scheduler: gate passed)"
    )
    assert champion_at_line("rainfall", "1999", None) == "rainfall at 1999: no champion"
