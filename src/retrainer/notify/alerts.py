"""Send an alert to the channels ``retrainer.yaml`` chooses; never fail the caller.

Credentials are not settings: they live in Airflow connections (``alerts.webhook_conn_id``,
``alerts.smtp_conn_id``). This module must not import Airflow, so the orchestration layer
registers a resolver (:func:`register_credentials_resolver`) that looks a connection up the
way Airflow does (secrets backends, ``AIRFLOW_CONN_<ID>``, the metadata database through the
API server). Outside Airflow (CLI, a notebook) nothing is registered and only
``alert_webhook_url`` (a plain URL in the settings) can deliver.

Raise a decay alert (the trigger policy does) with::

    send_alert(settings, f"{model}: performance decay", explanation, record, event="decay")
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from retrainer.notify.channels import (
    DeliveryError,
    EmailChannel,
    SmtpCredentials,
    WebhookChannel,
    WebhookCredentials,
)
from retrainer.notify.messages import Alert

if TYPE_CHECKING:
    from retrainer.settings import Settings

__all__ = [
    "Channel",
    "CredentialsResolver",
    "deliver",
    "open_channels",
    "register_credentials_resolver",
    "send_alert",
]

log = logging.getLogger(__name__)

Channel = WebhookChannel | EmailChannel
# (kind, conn_id) -> credentials; raises when the connection is missing or unusable.
CredentialsResolver = Callable[
    [Literal["webhook", "email"], str], WebhookCredentials | SmtpCredentials
]
_resolver: CredentialsResolver | None = None


def register_credentials_resolver(resolver: CredentialsResolver | None) -> None:
    """Install the function that turns a connection id into channel credentials."""
    global _resolver
    _resolver = resolver


def _resolve(kind: Literal["webhook", "email"], conn_id: str) -> Any:
    if _resolver is None:
        raise DeliveryError(
            f"no connection resolver registered for the {kind} channel (connection "
            f"{conn_id!r}): alerts resolve credentials inside Airflow tasks only"
        )
    try:
        return _resolver(kind, conn_id)
    except DeliveryError:
        raise
    except Exception as exc:  # any lookup failure means "cannot deliver"
        raise DeliveryError(
            f"{kind} channel: connection {conn_id!r} unusable: {type(exc).__name__}: {exc}"
        ) from exc


def open_channels(settings: Settings) -> tuple[list[Channel], list[str]]:
    """The configured channels with their credentials, and one error per channel that failed."""
    alerts = settings.alerts
    names = alerts.channels or (("webhook",) if settings.alert_webhook_url else ())
    channels: list[Channel] = []
    errors: list[str] = []
    for name in names:
        try:
            if name == "webhook":
                creds = (
                    WebhookCredentials(settings.alert_webhook_url)
                    if settings.alert_webhook_url
                    else _resolve("webhook", alerts.webhook_conn_id)
                )
                channels.append(WebhookChannel(creds, timeout=alerts.timeout_seconds))
            else:
                smtp = _resolve("email", alerts.smtp_conn_id)
                channels.append(
                    EmailChannel(
                        smtp,
                        alerts.email_to,
                        sender=alerts.email_from or smtp.sender or "retrainer@localhost",
                        timeout=alerts.timeout_seconds,
                    )
                )
        except DeliveryError as exc:
            errors.append(f"{name}: {exc}")
    return channels, errors


def deliver(settings: Settings, alert: Alert) -> bool:
    """Log the alert and send it to every configured channel; True if one accepted it.

    A failed delivery must not fail the pipeline step that raised the alert (its own
    outcome is already recorded), so it is logged as an error instead.
    """
    log.warning("ALERT [%s] %s: %s", alert.event, alert.title, alert.text)
    # "other" (a caller that names no event) is never filtered: an unknown kind must not
    # go silent.
    if alert.event != "other" and alert.event not in settings.alerts.events:
        log.info("alert event %r is not in alerts.events: logged only", alert.event)
        return False
    channels, errors = open_channels(settings)
    delivered = False
    for channel in channels:
        try:
            channel.send(alert)
            delivered = True
        except DeliveryError as exc:
            errors.append(f"{channel.name}: {exc}")
    for error in errors:
        log.error("alert %r not delivered: %s", alert.title, error)
    return delivered


def send_alert(
    settings: Settings,
    title: str,
    text: str,
    details: dict[str, Any] | None = None,
    *,
    event: str = "other",
) -> bool:
    """Send one alert about ``event`` (one of ``ALERT_EVENTS``). Never raises on delivery.

    ``event="other"`` (callers that name none) always passes the ``alerts.events`` filter.
    Returns whether at least one channel accepted it.
    """
    return deliver(settings, Alert(event, title, text, dict(details or {})))
