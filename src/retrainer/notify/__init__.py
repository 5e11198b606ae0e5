"""Alerts and metrics: what an alert says (Slack JSON, e-mail text), Prometheus pushes.

Domain code: no Airflow here. Delivery (Airflow's Slack-webhook and SMTP hooks) lives in
``retrainer.orchestration.notifiers``.
"""

from __future__ import annotations

from retrainer.notify.messages import Alert, AlertSink, email_html, email_text, slack_payload

__all__ = ["Alert", "AlertSink", "email_html", "email_text", "slack_payload"]
