"""What an alert says, formatted for each channel: Slack-compatible JSON and e-mail text.

Formatting is pure (no network), so it is the same for the webhook, the e-mail and the
task log, and tests can pin it.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from retrainer.notify.limits import bounded_json, shorten

__all__ = ["Alert", "AlertSink", "email_html", "email_text", "slack_payload"]

# Slack's limits: a section text 3000 characters, a header 150, a field 2000, 10 fields
# per section, and it cuts the fallback `text` (notifications) at 40,000. The `retrainer`
# key and an e-mail have no hard limit; theirs keep a message readable.
_SECTION_LIMIT = 3000
_HEADER_LIMIT = 150
_FIELDS_LIMIT = 10
_FIELD_KEY_LIMIT = 100
_FIELD_VALUE_LIMIT = 200  # longer values are left to the text and the `retrainer` key
_FIELD_VALUE_SHOWN = 5 * _FIELD_VALUE_LIMIT  # room for such a value escaped (`&` is 5)
_FALLBACK_LIMIT = 3000
_SLACK_DETAILS_LIMIT = 10_000
_SUBJECT_LIMIT = 200
_EMAIL_LIMIT = 20_000
_EMAIL_TEXT_LIMIT = 10_000
_EMAIL_DETAILS_LIMIT = 8_000


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
        """One line (a newline in a header would start another header), cut to a size."""
        line = " ".join(f"[retrainer] {self.event}: {self.title}".split())
        return shorten(line, _SUBJECT_LIMIT)


# Slack parses ``<!channel>``, ``<@U123>`` and ``<https://x|label>`` in text objects and
# documents exactly these three replacements. Each character is replaced once, so nothing
# is escaped twice. ``*``, ``_``, ``~`` and backquotes have no escape in Slack: data can
# style its own text, but can neither reach anyone nor hide a link.
_SLACK_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _slack_text(value: Any, limit: int) -> str:
    """``value`` as text for a Slack text object: escaped, and cut to fit ``limit``."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return shorten(text, limit, escapes=_SLACK_ESCAPES)


def _scalars(details: dict[str, Any]) -> list[tuple[str, Any]]:
    """Details worth a field of their own: short scalars, in the caller's order."""
    return [
        (str(key), value)
        for key, value in details.items()
        if isinstance(value, str | int | float | bool) and len(str(value)) <= _FIELD_VALUE_LIMIT
    ]


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Slack-compatible webhook JSON: ``text`` (fallback, notifications) plus ``blocks``.

    Everything taken from the alert is escaped (:data:`_SLACK_ESCAPES`) and cut to Slack's
    limits here, once; the bold keys and the code-styled event are the formatter's own.
    ``retrainer`` carries the details, bounded, for receivers that are not Slack (Slack
    ignores unknown keys).
    """
    fields = [
        {
            "type": "mrkdwn",
            "text": f"*{_slack_text(key, _FIELD_KEY_LIMIT)}*\n"
            + _slack_text(value, _FIELD_VALUE_SHOWN),
        }
        for key, value in _scalars(alert.details)[:_FIELDS_LIMIT]
    ]
    title = _slack_text(alert.title, _HEADER_LIMIT)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _slack_text(alert.text, _SECTION_LIMIT)},
        },
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    event = _slack_text(alert.event, _FIELD_KEY_LIMIT)
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"retrainer · `{event}`"}]}
    )
    fallback_text = _slack_text(alert.text, _FALLBACK_LIMIT - len(title) - 3)
    return {
        "text": f"*{title}*\n{fallback_text}",
        "blocks": blocks,
        "retrainer": {
            "event": alert.event,
            "details": bounded_json(alert.details, _SLACK_DETAILS_LIMIT),
        },
    }


def email_text(alert: Alert) -> str:
    """The e-mail body: the title, the text, then the details as indented JSON, bounded."""
    body = f"{shorten(alert.title, _SUBJECT_LIMIT)}\n\n{shorten(alert.text, _EMAIL_TEXT_LIMIT)}\n"
    if alert.details:
        details = bounded_json(alert.details, _EMAIL_DETAILS_LIMIT, indent=2)
        text = json.dumps(details, indent=2, ensure_ascii=False, default=str)
        body += "\nDetails:\n" + text + "\n"
    return shorten(body, _EMAIL_LIMIT)


def email_html(alert: Alert) -> str:
    """:func:`email_text` as the HTML part the SMTP hook sends, its layout kept by ``<pre>``."""
    return f"<pre>{html.escape(email_text(alert), quote=False)}</pre>\n"
