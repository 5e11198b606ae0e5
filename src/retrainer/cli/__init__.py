"""The ``retrainer`` command line: ``commands`` defines it, ``render`` formats its output.

``retrainer.cli:app`` is the console script's entry point.
"""

from __future__ import annotations

from retrainer.cli.commands import app

__all__ = ["app"]
