"""Deliver retrainer alerts through Airflow's Slack-webhook and SMTP hooks.

``send_alert`` is the one entry point: it logs the alert, drops events that
``alerts.events`` leaves out, and hands the message (formatted by ``retrainer.notify``) to
each channel ``retrainer.yaml`` names. Credentials are Airflow connections, looked up the way
Airflow does (secrets backends, ``AIRFLOW_CONN_<ID>``, the connections in the UI):

- webhook (``alerts.webhook_conn_id``, conn type ``slackwebhook`` or ``http``): the full
  URL in the password (masked in the UI and logs), or the host plus the token in the
  password, as the Slack provider's ``SlackWebhookHook`` reads it; ``extra.headers`` adds
  HTTP headers.
  ``RETRAINER_ALERT_WEBHOOK_URL`` (a plain URL in the settings) takes precedence.
- email (``alerts.smtp_conn_id``, conn type ``smtp``): host, port, login, password and the
  SMTP provider's extras (``disable_ssl``, ``disable_tls``, ``from_email``, ``timeout``).
  The password goes out only over SSL or STARTTLS unless
  ``alerts.smtp_allow_plaintext_login`` (``retrainer.orchestration.smtp_login``).

A failed delivery never fails the caller: the step that raised the alert has its own
outcome recorded, so the failure is logged (without the webhook URL) instead.

``RetrainerNotifier`` is the Airflow-callback face of the same path: every retrainer task
has it as ``on_failure_callback`` (see ``dag_factory``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from retrainer.errors import RetrainerError
from retrainer.notify import Alert, email_html, slack_payload
from retrainer.notify.limits import shorten

if TYPE_CHECKING:
    from retrainer.settings import Settings

__all__ = ["DeliveryError", "RetrainerNotifier", "deliver", "send_alert"]

log = logging.getLogger(__name__)
# slack_sdk's client logs the webhook URL (a secret) in its own messages (DEBUG requests,
# INFO retries, ERROR "Invalid URL detected: <url>"): it gets a logger that stays silent.
# What failed is still logged, redacted, from the DeliveryError the caller catches.
_client_log = logging.getLogger("retrainer.notify.webhook")
_client_log.setLevel(logging.CRITICAL + 1)


class DeliveryError(RetrainerError):
    """A channel could not deliver an alert (unreachable, refused, bad credentials)."""


def _redacted(exc: Exception, *secrets: str | None) -> str:
    """The error as text, without the webhook URL: libraries quote a URL they refuse."""
    text = f"{type(exc).__name__}: {exc}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<webhook URL>")
    return text


def _post_webhook(settings: Settings, alert: Alert) -> None:
    from slack_sdk.webhook import WebhookClient

    timeout = max(1, round(settings.alerts.timeout_seconds))
    # slack_sdk serialises with plain json.dumps: make every detail JSON-safe first.
    body = json.loads(json.dumps(slack_payload(alert), default=str))
    headers: dict[str, str] = {}
    if settings.alert_webhook_url:
        client = WebhookClient(settings.alert_webhook_url, timeout=timeout, logger=_client_log)
    else:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        conn_id = settings.alerts.webhook_conn_id
        hook = SlackWebhookHook(slack_webhook_conn_id=conn_id, timeout=timeout, logger=_client_log)
        conn = None
        try:
            conn = hook.get_connection(conn_id)
            extra = conn.extra_dejson
            client = hook.client
        except Exception as exc:  # missing or unusable connection: cannot deliver
            secrets = (conn.password, conn.host) if conn is not None else ()
            raise DeliveryError(
                f"connection {conn_id!r} unusable: {_redacted(exc, *secrets)}"
            ) from exc
        headers = {str(k): str(v) for k, v in (extra.get("headers") or {}).items()}
    try:
        response = client.send_dict(body, headers=headers or None)
    except Exception as exc:  # refused, timed out, a malformed URL: all "not delivered"
        raise DeliveryError(f"webhook unreachable: {_redacted(exc, client.url)}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook answered HTTP {response.status_code}")


def _send_email(settings: Settings, alert: Alert) -> None:
    from retrainer.orchestration.smtp_login import TlsLoginSmtpHook

    alerts = settings.alerts
    hook = TlsLoginSmtpHook(
        alerts.smtp_conn_id, allow_plaintext_login=alerts.smtp_allow_plaintext_login
    )
    try:
        with hook:
            hook.send_email_smtp(
                to=list(alerts.email_to),
                subject=alert.subject,
                html_content=email_html(alert),
                from_email=hook.from_email or alerts.email_from or "retrainer@localhost",
            )
    except Exception as exc:  # refused, TLS, login, a missing connection: all "not delivered"
        conn = hook.smtp_connection
        where = f"{conn.host}:{conn.port}" if conn else f"connection {alerts.smtp_conn_id!r}"
        raise DeliveryError(f"e-mail via {where} failed: {type(exc).__name__}: {exc}") from exc


def deliver(settings: Settings, alert: Alert) -> bool:
    """Log the alert and send it to every configured channel; True if one accepted it."""
    # The task log is bounded like an e-mail: the full evidence is in the lake.
    log.warning(
        "ALERT [%s] %s: %s", alert.event, shorten(alert.title, 200), shorten(alert.text, 20_000)
    )
    # "other" (a caller that names no event) is never filtered: an unknown kind must not
    # go silent.
    if alert.event != "other" and alert.event not in settings.alerts.events:
        log.info("alert event %r is not in alerts.events: logged only", alert.event)
        return False
    channels = settings.alerts.channels or (("webhook",) if settings.alert_webhook_url else ())
    delivered = False
    for channel in channels:
        try:
            (_post_webhook if channel == "webhook" else _send_email)(settings, alert)
            delivered = True
        except DeliveryError as exc:
            log.error("alert %r not delivered: %s: %s", alert.title, channel, exc)
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


def _model_of(context: Any) -> str | None:
    task = context.get("task")
    model = getattr(task, "model", None)
    if model:
        return str(model)
    dag = context.get("dag")
    dag_id = str(getattr(dag, "dag_id", "") or "")
    return dag_id.rsplit("_", 1)[0] if "_" in dag_id else None


class RetrainerNotifier(BaseNotifier):
    """Send a retrainer alert from an Airflow callback (task failure by default).

    Args:
        event: the alert's event (``task_failure``, ``drift``, ... see ``ALERT_EVENTS``).
        title, text: templated; default to a description of the failed task.
        config_dir: the retrainer config folder; default the task's own ``config_dir``
            (every retrainer operator has one), else ``$RETRAINER_CONFIG_DIR``.
    """

    template_fields = ("title", "text")

    def __init__(
        self,
        *,
        event: str = "task_failure",
        title: str | None = None,
        text: str | None = None,
        config_dir: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.event = event
        self.title = title
        self.text = text
        self.config_dir = None if config_dir is None else str(config_dir)

    def alert_for(self, context: Any) -> Alert:
        ti = context.get("ti") or context.get("task_instance")
        dag_id = str(getattr(ti, "dag_id", "") or getattr(context.get("dag"), "dag_id", "?"))
        task_id = str(getattr(ti, "task_id", "?"))
        error = context.get("exception")
        details: dict[str, Any] = {
            "model": _model_of(context),
            "dag_id": dag_id,
            "task_id": task_id,
            "run_id": str(getattr(context.get("dag_run"), "run_id", "") or ""),
            "try_number": getattr(ti, "try_number", None),
            "log_url": getattr(ti, "log_url", None),
        }
        if error is not None:
            details["error"] = f"{type(error).__name__}: {error}"
        title = self.title or f"{dag_id}.{task_id} failed"
        text = self.text or (
            f"Task `{task_id}` of `{dag_id}` failed"
            + (f": {error}" if error is not None else "")
            + (f"\nLog: {details['log_url']}" if details["log_url"] else "")
        )
        return Alert(self.event, title, text, {k: v for k, v in details.items() if v is not None})

    def notify(self, context: Any) -> None:
        from retrainer.settings import load_settings

        try:
            config_dir = self.config_dir or getattr(context.get("task"), "config_dir", None)
            deliver(load_settings(config_dir), self.alert_for(context))
        except Exception:  # a callback that raises would hide the task's own failure
            log.exception("retrainer %s alert could not be sent", self.event)
