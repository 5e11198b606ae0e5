"""What an alert says, formatted for each channel: Slack-compatible JSON and e-mail text.

Formatting is pure (no network), so it is the same for the webhook, the e-mail and the
task log, and tests can pin it.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Alert", "AlertSink", "email_html", "email_text", "slack_payload"]

# Slack rejects a section text over 3000 characters and a header over 150.
_SECTION_LIMIT = 2900
_HEADER_LIMIT = 150
_FIELDS_LIMIT = 10  # Slack allows at most 10 fields per section


class AlertSink(Protocol):
    """Where a domain step sends an alert; the orchestration layer delivers it.

    Domain code never imports Airflow, so it cannot deliver through Airflow's hooks itself:
    the caller injects this (``TaskRuntime.alert`` in a task, a recorder in a test).
    The signature is ``send_alert``'s without the settings.
    """

    def __call__(
        self, title: str, text: str, details: dict[str, Any] | None = None, *, event: str = "other"
    ) -> object: ...


@dataclass(frozen=True)
class Alert:
    """One alert: which event, a one-line title, a readable text and JSON-safe details."""

    event: str
    title: str
    text: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return f"[retrainer] {self.event}: {self.title}"


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scalars(details: dict[str, Any]) -> list[tuple[str, Any]]:
    """Details worth a field of their own: short scalars, in the caller's order."""
    return [
        (key, value)
        for key, value in details.items()
        if isinstance(value, str | int | float | bool) and len(str(value)) <= 200
    ]


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Slack-compatible webhook JSON: ``text`` (fallback, notifications) plus ``blocks``.

    ``retrainer`` carries the full details for receivers that are not Slack (Slack ignores
    unknown keys).
    """
    fields = [
        {"type": "mrkdwn", "text": f"*{key}*\n{_short(value)}"}
        for key, value in _scalars(alert.details)[:_FIELDS_LIMIT]
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _short(alert.title, _HEADER_LIMIT)},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _short(alert.text, _SECTION_LIMIT)}},
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"retrainer · `{alert.event}`"}],
        }
    )
    return {
        "text": f"*{alert.title}*\n{alert.text}",
        "blocks": blocks,
        "retrainer": {"event": alert.event, "details": alert.details},
    }


def email_text(alert: Alert) -> str:
    """The e-mail body: the title, the text, then every detail as indented JSON."""
    body = f"{alert.title}\n\n{alert.text}\n"
    if alert.details:
        body += "\nDetails:\n" + json.dumps(alert.details, indent=2, default=str) + "\n"
    return body


def email_html(alert: Alert) -> str:
    """:func:`email_text` as the HTML part the SMTP hook sends, its layout kept by ``<pre>``."""
    return f"<pre>{html.escape(email_text(alert), quote=False)}</pre>\n"
