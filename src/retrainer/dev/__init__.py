"""Not domain code: the embedded local stack, the demo and a REST client for Airflow.

``local_stack`` runs Airflow and the MLflow server as child processes (``retrainer up``,
``make demo``, the end-to-end tests); ``airflow_api`` talks to Airflow's REST API over HTTP
(``retrainer land``, the demo, tests); ``demo`` drives the NOAA rainfall timeline.
"""

from __future__ import annotations
