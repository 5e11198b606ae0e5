"""The checks made before a batch is parsed: its size, from the storage's metadata, and
its width, from its header.

What is over a limit is blocked without being loaded: a worker would need many times
the file's size in memory to parse and validate it, and GX would list every unexpected
column of a 10,000-column file in its evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrainer.limits import size_excess, width_excess
from retrainer.tables import column_names
from retrainer.validation.runner import FailedCheck

if TYPE_CHECKING:
    from retrainer.config import ValidationConfig

__all__ = ["size_check", "width_check"]


def size_check(size: int, limits: ValidationConfig) -> FailedCheck | None:
    """A ``batch_size`` failure when a file of ``size`` bytes is over the limit."""
    excess = size_excess(size, limits.max_batch_bytes)
    if excess is None:
        return None
    return FailedCheck("batch_size", None, f"{excess}; not read")


def width_check(data: bytes, name: str, limits: ValidationConfig) -> FailedCheck | None:
    """A ``column_count`` failure when the header of file ``name`` has too many columns.

    Raises:
        InputDataError: the header cannot be read (the batch is unreadable).
    """
    excess = width_excess(len(column_names(data, name)), limits.max_columns)
    if excess is None:
        return None
    return FailedCheck("column_count", None, f"{excess}; rows not read")
