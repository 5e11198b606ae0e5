"""A self-contained HTML drift report: verdict, a table sorted by effect, and a plot of
reference vs current bin proportions for every drifted feature and the model's output
(inline SVG, no scripts, no external URLs, so it opens anywhere, including from an MLflow
artifact view)."""

from __future__ import annotations

import itertools
from html import escape
from typing import TYPE_CHECKING

from retrainer.drift.profile import CategoricalProfile, NumericProfile

if TYPE_CHECKING:
    from retrainer.drift.profile import FeatureProfile, Profile
    from retrainer.drift.result import DriftResult, FeatureDrift

__all__ = ["render_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}
.drift{color:#b00020;font-weight:600}.ok{color:#1b5e20;font-weight:600}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
"""


def _edge_texts(edges: tuple[float, ...]) -> list[str]:
    # The fewest significant digits that still tell neighbouring edges apart (1013.2 vs
    # 1013.7 must not both print as 1e+03).
    for digits in range(2, 10):
        texts = [f"{e:.{digits}g}" for e in edges]
        if len(set(texts)) == len(texts):
            return texts
    return [repr(e) for e in edges]


def _labels(profile: NumericProfile | CategoricalProfile, keys: list[str]) -> list[str]:
    if isinstance(profile, NumericProfile):
        if not profile.edges:
            return ["all", "missing"]
        edges = _edge_texts(profile.edges)
        labels = [f"≤{edges[0]}"]
        labels += [f"{a}…{b}" for a, b in itertools.pairwise(edges)]
        labels.append(f">{edges[-1]}")
        return [*labels, "missing"]
    return [*keys, "missing"]


def _shares(profile: NumericProfile | CategoricalProfile, keys: list[str]) -> list[float]:
    if isinstance(profile, NumericProfile):
        counts = [*profile.counts, profile.missing]
    else:
        counts = [*(profile.counts.get(k, 0) for k in keys), profile.missing]
    total = sum(counts) or 1
    return [c / total for c in counts]


def _svg(labels: list[str], ref: list[float], cur: list[float]) -> str:
    # Labels are slanted under their bars so that ten or more bins stay readable.
    width, height, pad, axis = 700, 240, 30, 60
    n = len(labels)
    slot = (width - pad) / n
    top = max([*ref, *cur, 1e-9])
    base = height - axis
    bars = []
    for i, (label, a, b) in enumerate(zip(labels, ref, cur, strict=True)):
        x = pad + i * slot
        for j, (value, colour) in enumerate(((a, "#90a4ae"), (b, "#e53935"))):
            h = (base - 10) * value / top
            bars.append(
                f'<rect x="{x + 2 + j * (slot - 4) / 2:.1f}" y="{base - h:.1f}" '
                f'width="{(slot - 4) / 2:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {value:.1%}</title></rect>"
            )
        cx = x + slot / 2
        bars.append(
            f'<text x="{cx:.1f}" y="{base + 12}" font-size="10" text-anchor="end" '
            f'transform="rotate(-35 {cx:.1f} {base + 12})">{escape(label[:18])}</text>'
        )
    return (
        # Inline SVG in HTML needs no xmlns: the page holds no URL at all.
        f'<svg width="{width}" height="{height}" role="img">{"".join(bars)}</svg>'
    )


def _plot(f: FeatureDrift, ref: FeatureProfile, cur: FeatureProfile) -> str:
    keys: list[str] = []
    if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        keys = sorted(set(ref.counts) | set(cur.counts))
    return (
        f"<h3>{escape(f.feature)}: {escape(_label(f.statistic))} {f.value:.3f}"
        f" ({escape('; '.join(f.reasons))})</h3>"
        + _svg(_labels(ref, keys), _shares(ref, keys), _shares(cur, keys))
    )


def _label(statistic: str) -> str:
    from retrainer.drift.registry import STATISTICS

    known = STATISTICS.get(statistic)
    return statistic.upper() if known is None else known.label


def render_html(result: DriftResult, reference: Profile, current: Profile, *, title: str) -> str:
    """Render the drift report of one batch as a self-contained HTML page.

    The verdict and its explanation come first, then every feature sorted by how far its
    effect passes its threshold, then a bar chart of reference vs batch bin proportions
    for each drifted feature and for the model's predictions (inline SVG: no scripts, no
    external resources).
    """
    verdict = (
        '<span class="drift">DRIFT</span>' if result.drift else '<span class="ok">no drift</span>'
    )
    rows = "".join(
        f"<tr><td>{escape(f.feature)}</td><td>{escape(f.kind)}</td><td>{escape(_label(f.statistic))}"
        f"</td><td>{f.value:.3f}</td><td>{f.threshold:.3f}</td><td>{f.p_adjusted:.2g}</td>"
        f'<td class="{"drift" if f.drifted else "ok"}">{"yes" if f.drifted else "no"}</td>'
        f"<td>{f.importance:.3f}</td><td>{f.reference_missing_rate:.1%}</td>"
        f"<td>{f.current_missing_rate:.1%}</td><td>{escape('; '.join(f.reasons))}</td></tr>"
        for f in result.features
    )
    plots = [
        _plot(f, reference.features[f.feature], current.features[f.feature])
        for f in result.drifted_features
    ]
    prediction = ""
    p = result.prediction
    if p is not None and reference.prediction is not None and current.prediction is not None:
        state = "drifted" if p.drifted else "stable"
        prediction = (
            f"<h2>Model output: {state}</h2><p>{escape(_label(p.statistic))} {p.value:.3f} "
            f"(threshold {p.threshold:.3f}, p {p.p_value:.2g}); evidence only, not part "
            "of the verdict.</p>" + _plot(p, reference.prediction, current.prediction)
        )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{escape(title)}</h1>
<p>Verdict: {verdict}. {escape(result.explanation)}</p>
<p>{result.row_count:,} rows; importance-weighted drifted share {result.drift_score:.2f}
(threshold {result.threshold_share:.2f}). A feature drifts when its effect passes its
threshold and its bin counts differ significantly (chi-square, Benjamini-Hochberg adjusted
p &le; {result.alpha:g}).</p>
<table><tr><th>feature</th><th>kind</th><th>statistic</th><th>value</th><th>threshold</th>
<th>adjusted p</th><th>drifted</th><th>importance weight</th><th>missing (reference)</th>
<th>missing (batch)</th><th>why</th></tr>{rows}</table>
<div class="legend"><span style="background:#90a4ae"></span>reference (training data)
<span style="background:#e53935"></span>this batch</div>
{"".join(plots) or "<p>No feature drifted.</p>"}
{prediction}
</body></html>"""
