"""The evaluation report: one self-contained HTML page (inline SVG, no scripts, no external
URLs, so it opens from the MLflow artifact view) and the same content as JSON.

It leads with the decision and every rule's outcome, because the report is what a person
reads when asking "why was this version (not) promoted?".
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["render_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:60rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}
.fail{color:#b00020;font-weight:600}.pass{color:#1b5e20;font-weight:600}
"""


def _num(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{c if isinstance(c, _Html) else _num(c)}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


class _Html(str):
    """Already-escaped markup for a table cell."""


def _forest(rows: list[tuple[str, float, float, float]]) -> str:
    """Differences with their intervals around a zero line (one row per metric or slice)."""
    if not rows:
        return ""
    span = max(max(abs(lo), abs(hi), abs(d)) for _, d, lo, hi in rows) or 1.0
    width, left, row_h = 520, 170, 22
    half = (width - left - 20) / 2
    zero = left + half

    def x(v: float) -> float:
        return zero + v / span * half

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{row_h * len(rows) + 30}" role="img">',
        f'<line x1="{zero}" y1="0" x2="{zero}" y2="{row_h * len(rows)}" stroke="#999"/>',
    ]
    for i, (label, d, lo, hi) in enumerate(rows):
        y = row_h * i + row_h / 2
        colour = "#1b5e20" if lo > 0 else ("#b00020" if hi < 0 else "#555")
        parts += [
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>",
            f'<line x1="{x(lo):.1f}" y1="{y}" x2="{x(hi):.1f}" y2="{y}" stroke="{colour}" '
            'stroke-width="2"/>',
            f'<circle cx="{x(d):.1f}" cy="{y}" r="4" fill="{colour}"/>',
        ]
    parts.append(
        f'<text x="{zero}" y="{row_h * len(rows) + 16}" text-anchor="middle" font-size="11">'
        f"0 (challenger - champion; ±{span:.3g} at the edges)</text></svg>"
    )
    return "".join(parts)


def render_html(report: dict[str, Any]) -> str:
    """Render the evaluation report (the dict that is also logged as JSON)."""
    decision = report["decision"]
    evidence = report.get("evidence") or {}
    verdict = "pass" if decision["promote"] else "fail"
    model, version = escape(report["model"]), escape(str(report["challenger_version"]))
    champion = report.get("champion_version")
    against = f"v{escape(str(champion))}" if champion else "(none)"
    holdout = escape(str(report.get("holdout_key")))
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(report['model'])} "
        f"v{escape(str(report['challenger_version']))} evaluation</title>"
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{model}: challenger v{version} vs champion {against}</h1>",
        f"<p class='{verdict}'>Gate decision: {escape(decision['decision'])}</p>",
        f"<p>{escape(decision['reason'])}</p>",
        f"<p>Holdout: {holdout} ({escape(str(evidence.get('rows', '?')))} rows)</p>",
        "<h2>Rules</h2>",
        _table(
            ["rule", "kind", "outcome", "detail"],
            [
                [
                    r["rule"],
                    r.get("kind", ""),
                    _Html(
                        f"<span class='{'pass' if r['passed'] else 'fail'}'>"
                        f"{'pass' if r['passed'] else 'FAIL'}</span>"
                    ),
                    r["detail"],
                ]
                for r in decision["rules"]
            ],
        ),
        "<h2>Metrics</h2>",
    ]
    mine, theirs = report["challenger_metrics"], report.get("champion_metrics") or {}
    intervals = evidence.get("intervals") or {}
    out.append(
        _table(
            ["metric", "challenger", "champion", "difference", "CI low", "CI high"],
            [
                [
                    m,
                    mine.get(m),
                    theirs.get(m),
                    intervals.get(m, {}).get("difference"),
                    intervals.get(m, {}).get("lower"),
                    intervals.get(m, {}).get("upper"),
                ]
                for m in sorted(set(mine) | set(theirs))
            ],
        )
    )
    out.append(
        _forest([(m, i["difference"], i["lower"], i["upper"]) for m, i in intervals.items()])
    )
    if evidence.get("mcnemar"):
        mc = evidence["mcnemar"]
        out.append(
            f"<p>McNemar (exact): challenger alone right on {_num(mc['challenger_only'])} "
            f"rows, champion alone on {_num(mc['champion_only'])}; p = {mc['p_value']:.3g}</p>"
        )
    if evidence.get("slices"):
        out.append(f"<h2>Slices ({escape(str(evidence.get('slice_metric')))})</h2>")
        out.append(
            _table(
                ["column", "slice", "rows", "challenger", "champion", "gain", "note"],
                [
                    [
                        s["column"],
                        s["slice"],
                        s["rows"],
                        s.get("challenger"),
                        s.get("champion"),
                        s.get("gain"),
                        s.get("skipped", ""),
                    ]
                    for s in evidence["slices"]
                ],
            )
        )
        judged = [s for s in evidence["slices"] if s.get("gain") is not None]
        out.append(
            _forest(
                [(f"{s['column']}={s['slice']}", s["gain"], s["gain"], s["gain"]) for s in judged]
            )
        )
    if evidence.get("fairness"):
        out.append("<h2>Fairness</h2>")
        rows = []
        for who in ("challenger", "champion"):
            f = evidence["fairness"].get(who)
            if f:
                rows.append(
                    [
                        who,
                        f.get("attribute"),
                        f.get("reference_group"),
                        f.get("disparate_impact"),
                        f.get("equal_opportunity_difference"),
                    ]
                )
        out.append(
            _table(["model", "attribute", "reference", "disparate impact", "equal opp. diff"], rows)
        )
    latency = evidence.get("latency_ms_per_1k_rows") or {}
    size = evidence.get("model_size_mb") or {}
    out.append("<h2>Cost</h2>")
    out.append(
        _table(
            ["model", "latency ms / 1k rows", "size MB"],
            [[w, latency.get(w), size.get(w)] for w in ("challenger", "champion") if w in latency],
        )
    )
    out.append("</body></html>")
    return "\n".join(out)
