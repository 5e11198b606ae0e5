"""How much input one worker takes: the size and width limits of a landed file, and the
words that explain a refusal.

Landing (:mod:`retrainer.lake`) and validation (:mod:`retrainer.validation`) both refuse
what is over a limit, before they read it; they share the defaults and the messages here.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_COLUMNS",
    "describe_bytes",
    "size_excess",
    "width_excess",
]

# A worker reads a whole batch into memory (several times over while it validates it).
DEFAULT_MAX_BATCH_BYTES = 2 * 1024**3
# Wide enough for any real feature table; a 10,000-column file is an export gone wrong.
DEFAULT_MAX_COLUMNS = 2000

_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")


def describe_bytes(size: int) -> str:
    """``3,221,225,472 bytes (3.0 GiB)``: exact for the reader who compares, short for the rest."""
    value, unit = float(size), 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    exact = f"{size:,} byte{'' if size == 1 else 's'}"
    return exact if unit == 0 else f"{exact} ({value:.1f} {_UNITS[unit]})"


def size_excess(size: int, limit: int) -> str | None:
    """Why a file of ``size`` bytes is refused, or None when it is within ``limit``."""
    if size <= limit:
        return None
    return (
        f"{describe_bytes(size)}, over the limit validation.max_batch_bytes = "
        f"{describe_bytes(limit)}"
    )


def width_excess(columns: int, limit: int) -> str | None:
    """Why a table of ``columns`` columns is refused, or None when it is within ``limit``.

    Counts only: the names of thousands of columns would flood the log and the alert.
    """
    if columns <= limit:
        return None
    return f"{columns:,} columns, over the limit validation.max_columns = {limit:,}"
