"""Alerts: always logged; also posted to a Slack-compatible webhook when one is configured."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrainer.settings import Settings

__all__ = ["send_alert"]

log = logging.getLogger(__name__)


def send_alert(
    settings: Settings, title: str, text: str, details: dict[str, Any] | None = None
) -> bool:
    """Send one alert. Returns whether a channel accepted it; never raises on delivery.

    A failed delivery must not fail the pipeline step that raised the alert (the step's
    own outcome is already recorded), so it is logged as an error instead.
    """
    log.warning("ALERT %s: %s", title, text)
    if not settings.alert_webhook_url:
        return False
    body = json.dumps({"text": f"*{title}*\n{text}", "retrainer": details or {}}, default=str)
    request = urllib.request.Request(
        settings.alert_webhook_url,
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return 200 <= response.status < 300
    except OSError as exc:
        log.error("alert %r could not be delivered to the webhook: %s", title, exc)
        return False
