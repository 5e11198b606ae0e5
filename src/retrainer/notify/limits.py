"""Fit what an alert carries into a size, saying how much was cut.

A batch with 10,000 columns can make a validation message of 100,000 characters; Slack
refuses a section over 3,000 and an inbox is no place for it either. The full evidence
stays in the lake (``validation_result.json``); an alert carries its start and a marker
("… 9,990 more items") that tells the reader how much is not shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["bounded", "bounded_json", "shorten"]

# Below this a marker would eat most of the room: a bare ellipsis is all that fits.
_MIN_MARKED = 40


def shorten(text: str, limit: int, *, escapes: Mapping[str, str] | None = None) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and what was cut.

    With ``escapes`` (character -> entity) the result is escaped and it is the escaped
    text that fits ``limit``: the cut falls between characters, never inside an entity,
    and the marker counts characters of ``text``.
    """
    table = escapes or {}
    rendered = "".join(table.get(ch, ch) for ch in text) if table else text
    if len(rendered) <= limit:
        return rendered
    # The marker for the whole length has at least as many digits as the real one, so
    # the result never exceeds the limit.
    marked = limit >= _MIN_MARKED
    room = limit - (len(_marker(len(text))) if marked else 1)
    if not table:
        kept = max(room, 0)
        return text[:kept] + (_marker(len(text) - kept) if marked else "…")
    pieces: list[str] = []
    size = 0
    for ch in text:
        piece = table.get(ch, ch)
        if size + len(piece) > room:
            break
        pieces.append(piece)
        size += len(piece)
    cut = len(text) - len(pieces)
    return "".join(pieces) + (_marker(cut) if marked else "…")


def _marker(cut: int) -> str:
    return f" … {cut:,} more characters"


def bounded(value: Any, *, items: int = 20, chars: int = 500, depth: int = 4) -> Any:
    """A JSON-safe copy of ``value`` with strings, lists and mappings cut to a size.

    Lists keep their first ``items`` entries and end with ``"… N more items"``; mappings
    keep their first ``items`` keys and gain ``"…": "N more keys"``; beyond ``depth``
    levels a value becomes its JSON text, shortened.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return shorten(value, chars)
    if depth <= 0:
        return shorten(json.dumps(value, default=str), chars)
    inner = {"items": items, "chars": chars, "depth": depth - 1}
    if isinstance(value, Mapping):
        entries = list(value.items())
        out = {shorten(str(k), 100): bounded(v, **inner) for k, v in entries[:items]}
        if len(entries) > items:
            out["…"] = f"{len(entries) - items:,} more keys"
        return out
    if isinstance(value, list | tuple | set | frozenset):
        seq = list(value)
        kept = [bounded(v, **inner) for v in seq[:items]]
        if len(seq) > items:
            kept.append(f"… {len(seq) - items:,} more items")
        return kept
    return shorten(str(value), chars)


def bounded_json(value: Any, limit: int, *, indent: int | None = None) -> Any:
    """:func:`bounded` tightened until its JSON has at most ``limit`` characters.

    Wide and deep details can still add up after each part is cut; the last resort is
    the start of the JSON text itself, which still says what was there.
    """
    for items, chars, depth in ((20, 500, 4), (10, 200, 2), (5, 100, 1)):
        fitted = bounded(value, items=items, chars=chars, depth=depth)
        if len(json.dumps(fitted, indent=indent, default=str)) <= limit:
            return fitted
    text = json.dumps(bounded(value, items=5, chars=100, depth=1), default=str)
    # json.dumps escapes quotes in a string: leave room for them.
    return shorten(text, limit // 2)
