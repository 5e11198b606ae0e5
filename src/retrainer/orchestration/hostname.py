"""The hostname a task reports to Airflow: ``$RETRAINER_HOSTNAME`` or the machine's FQDN.

Airflow records it on every task instance (``hostname`` in the UI and REST API) and uses it
to fetch logs from a worker's log server. Containers have distinct hostnames and need
nothing; several Celery workers on one machine (the production-topology test) do: point
``AIRFLOW__CORE__HOSTNAME_CALLABLE`` at :func:`task_hostname` and give each worker its own
``RETRAINER_HOSTNAME``, so a task instance says which worker ran it.
"""

from __future__ import annotations

import os
import socket

__all__ = ["task_hostname"]


def task_hostname() -> str:
    """``$RETRAINER_HOSTNAME`` if set, else the fully qualified name of this machine."""
    return os.environ.get("RETRAINER_HOSTNAME") or socket.getfqdn()
