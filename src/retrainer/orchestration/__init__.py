"""Airflow adapters: the only package that imports Airflow.

Model operators derive from ``base.ModelOperator``: ``__init__`` stores arguments;
``execute()`` opens the runtime, calls one domain function and returns the result's XCom
form, with retrainer's errors mapped to skip/fail by ``base.airflow_errors``. Heavy imports
happen inside ``execute()``; ``context`` reads the run's batches and trigger event.
"""

from __future__ import annotations
