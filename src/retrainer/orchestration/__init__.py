"""Airflow adapters: the only package that imports Airflow.

Operators store arguments in ``__init__``; ``execute()`` builds clients, calls one domain
function and returns a small JSON-safe summary. Heavy imports happen inside ``execute()``.
"""

from __future__ import annotations
