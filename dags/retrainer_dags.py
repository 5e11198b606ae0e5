"""Airflow DAGs for every model in config/models/ (three per model: monitor, retrain, rollback).

This file only wires: all logic lives in the retrainer package.
"""

from __future__ import annotations

from pathlib import Path

from retrainer.orchestration.dag_factory import build_dags

globals().update(build_dags(Path(__file__).resolve().parent.parent / "config"))
