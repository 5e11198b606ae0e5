"""Alert channels: a Slack-compatible webhook and SMTP e-mail, given plain credentials.

The credentials come from wherever the caller keeps them (Airflow connections in the
pipeline); a channel only knows how to deliver. ``send`` raises :class:`DeliveryError`
with the channel and the cause; the dispatcher decides that a failure is only logged.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from retrainer.errors import RetrainerError
from retrainer.notify.messages import Alert, email_message, slack_payload

__all__ = [
    "DeliveryError",
    "EmailChannel",
    "SmtpCredentials",
    "WebhookChannel",
    "WebhookCredentials",
]


class DeliveryError(RetrainerError):
    """A channel could not deliver an alert (unreachable, refused, bad credentials)."""


@dataclass(frozen=True)
class WebhookCredentials:
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SmtpCredentials:
    host: str
    port: int = 25
    login: str | None = None
    password: str | None = None
    # ssl: TLS from the first byte (SMTPS, usually 465); starttls: upgrade after EHLO (587).
    ssl: bool = False
    starttls: bool = False
    sender: str | None = None


@dataclass(frozen=True)
class WebhookChannel:
    credentials: WebhookCredentials
    timeout: float = 10.0
    name: str = "webhook"

    def send(self, alert: Alert) -> None:
        body = json.dumps(slack_payload(alert), default=str).encode("utf-8")
        request = urllib.request.Request(
            self.credentials.url,
            data=body,
            headers={"Content-Type": "application/json", **self.credentials.headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook answered HTTP {exc.code} {exc.reason}") from exc
        except OSError as exc:
            raise DeliveryError(f"webhook unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook answered HTTP {status}")


@dataclass(frozen=True)
class EmailChannel:
    credentials: SmtpCredentials
    recipients: tuple[str, ...]
    sender: str = "retrainer@localhost"
    timeout: float = 10.0
    name: str = "email"

    def send(self, alert: Alert) -> None:
        creds = self.credentials
        sender = creds.sender or self.sender
        message = email_message(alert, sender, self.recipients)
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP = (
                smtplib.SMTP_SSL(creds.host, creds.port, timeout=self.timeout, context=context)
                if creds.ssl
                else smtplib.SMTP(creds.host, creds.port, timeout=self.timeout)
            )
            with smtp:
                if creds.starttls and not creds.ssl:
                    smtp.starttls(context=context)
                if creds.login:
                    smtp.login(creds.login, creds.password or "")
                smtp.send_message(message, from_addr=sender, to_addrs=list(self.recipients))
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"e-mail via {creds.host}:{creds.port} failed: {type(exc).__name__}: {exc}"
            ) from exc
