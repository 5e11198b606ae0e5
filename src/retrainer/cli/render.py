"""What the ``retrainer`` commands print: JSON payloads, the status table, ledger lines.

Pure formatting of result objects (no I/O), so every command's output is pinned here.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "champion_at_line",
    "checks_payload",
    "checkup_lines",
    "ledger_line",
    "status_table",
    "to_json",
    "unreadable_json",
]


def to_json(payload: Any) -> str:
    """The commands' JSON: indented, anything unusual (times, paths) as a string."""
    return json.dumps(payload, indent=2, default=str)


def unreadable_json(model: str, file: Any, exc: Exception) -> str:
    """One JSON line on stdout saying why a file could not be read."""
    return json.dumps(
        {"model": model, "file": str(file), "outcome": "unreadable", "error": str(exc)}
    )


def checks_payload(result: Any, config: Any) -> list[dict[str, Any]]:
    """Failed validation checks with their examples and the severity the config gives them."""
    return [
        c.__dict__
        | {"examples": list(c.examples), "severity": config.validation.severity(c.check, c.column)}
        for c in result.failed_checks
    ]


def _metric(values: Any, metric: str) -> str:
    value = (values or {}).get(metric)
    return "-" if value is None else f"{value:.3f}"


def status_table(status: Any) -> str:
    """The human view of a ModelStatus: champion line, batch table, decisions with reasons."""
    lines = []
    champion = status.champion
    if champion is None:
        lines.append(f"{status.model}: no champion yet")
    else:
        lines.append(
            f"{status.model}: champion v{champion.version} since {champion.since or '?'} "
            f"({champion.event or '?'} by {champion.by or '?'}; trigger "
            f"{champion.trigger or '?'}: {champion.reason or '-'})"
        )
    lines.append("")
    m = status.metric
    header = (
        f"{'batch':<22} {'checked at':<19} {'champ':>5}  {'drift':<13} "
        f"{'realized ' + m:>16} {'estimated ' + m:>17}  decision"
    )
    lines.append(header)
    decided = {d.batch_id: d for d in status.decisions}
    for b in status.batches:
        drift = "-" if b.drift is None else ("DRIFT" if b.drift else "ok")
        if b.drift_score is not None:
            drift += f" {b.drift_score:.2f}"
        estimated = _metric(b.estimated, m) + (" (broken)" if b.estimate_broken else "")
        d = decided.get(b.batch_id)
        decision = "-" if d is None else d.decision + (f" ({d.event})" if d.event else "")
        lines.append(
            f"{b.batch_id:<22.22} {(b.checked_at or '-')[:19]:<19} "
            f"{('v' + b.champion_version) if b.champion_version else '-':>5}  {drift:<13} "
            f"{_metric(b.realized, m):>16} {estimated:>17}  {decision}"
        )
    if not status.batches:
        lines.append("  (no batch checked yet)")
    lines.append("")
    lines.append("last trigger decisions:" if status.decisions else "no trigger decisions yet")
    for d in reversed(status.decisions):
        what = d.decision + (f" ({d.event})" if d.event else "")
        if d.suppressed_by:
            what += f", suppressed by {d.suppressed_by}"
        lines.append(f"  {d.decided_at or '?'}  {d.batch_id}: {what}")
        lines.extend(f"      - {reason}" for reason in d.reasons)
    lines.extend(f"warning: {p}" for p in status.problems)
    return "\n".join(lines)


def champion_at_line(model: str, at: str, entry: dict[str, Any] | None) -> str:
    """``retrainer history --at``: the ledger entry that made the champion of that time."""
    if entry is None:
        return f"{model} at {at}: no champion"
    return (
        f"{model} at {at}: champion v{entry['version']} since {entry['time']} "
        f"({entry['event']} by {entry.get('actor')}: {entry.get('reason')})"
    )


def ledger_line(e: dict[str, Any]) -> str:
    """One alias change of ``retrainer history``: when, what, who, why, which run."""
    previous = f" (was v{e['previous_version']})" if e.get("previous_version") else ""
    run = f" [run {e['airflow_run_id']}]" if e.get("airflow_run_id") else ""
    return (
        f"{e['time']}  {e['event']:<8} v{e['version']}{previous}  by {e.get('actor')}: "
        f"{e.get('reason')}{run}"
    )


def checkup_lines(checkup: Any) -> str:
    """``retrainer doctor``: one block per finding, what is wrong and what was done."""
    if not checkup.findings:
        return f"{checkup.model}: no problems found"
    repaired = len(checkup.findings) - len(checkup.unrepaired)
    lines = [
        f"{checkup.model}: {len(checkup.findings)} problem(s), {repaired} repaired"
        + (" (dry run: nothing written)" if checkup.dry_run else "")
    ]
    for f in checkup.findings:
        mark = "repaired" if f.repaired else "NOT repaired"
        lines.append(f"- {f.kind} {f.subject}: {f.problem}")
        lines.append(f"    {mark}: {f.action}")
    return "\n".join(lines)


def replay_table(model: str, rows: list[Any], *, reasons: bool = False) -> str:
    """The decision table of a replay: one line a batch, its reasons indented below."""

    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    metric = rows[0].metric if rows else ""
    lines = [
        f"{model}: replay of {len(rows)} batch(es)",
        f"{'batch':<14} {'champion':>8}  {'drift (score)':<14} {metric:>9} {'estimated':>9}  "
        f"{'decision':<10} {'event':<6} action",
    ]
    for r in rows:
        drift = "-" if r.drift is None else f"{str(r.drift).lower()} ({num(r.drift_score)})"
        lines.append(
            f"{r.batch_id:<14} {'v' + (r.champion or '-'):>8}  {drift:<14} {num(r.realized):>9} "
            f"{num(r.estimated):>9}  {r.decision:<10} {r.event or '-':<6} {r.action}"
        )
        if reasons and r.reasons:
            lines.append(f"{'':<16}{'; '.join(r.reasons)}")
    return "\n".join(lines)
