"""Alerts and metrics: messages, channels (webhook/Slack, e-mail) and Prometheus pushes.

Domain code: no Airflow here. ``retrainer.orchestration.alerts`` registers how Airflow
connections become channel credentials and provides the Airflow notifier.
"""

from __future__ import annotations

from retrainer.notify.alerts import (
    deliver,
    open_channels,
    register_credentials_resolver,
    send_alert,
)
from retrainer.notify.channels import (
    DeliveryError,
    EmailChannel,
    SmtpCredentials,
    WebhookChannel,
    WebhookCredentials,
)
from retrainer.notify.messages import Alert, email_message, slack_payload

__all__ = [
    "Alert",
    "DeliveryError",
    "EmailChannel",
    "SmtpCredentials",
    "WebhookChannel",
    "WebhookCredentials",
    "deliver",
    "email_message",
    "open_channels",
    "register_credentials_resolver",
    "send_alert",
    "slack_payload",
]
