"""Alert formatting, alert settings and the metric inventory's documentation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_slack_payload_fits_slack_limits() -> None:
    from retrainer.notify import Alert, slack_payload

    details = {f"k{i}": i for i in range(15)} | {"nested": {"a": 1}, "long": "x" * 500}
    payload = slack_payload(Alert("drift", "t" * 300, "y" * 5000, details))
    header, section, fields, context = payload["blocks"]
    assert len(header["text"]["text"]) <= 150
    assert len(section["text"]["text"]) <= 3000
    assert len(fields["fields"]) == 10  # Slack's maximum; nested and long values left out
    assert context["elements"][0]["text"].endswith("`drift`")
    assert payload["retrainer"]["details"] == details  # everything, for non-Slack receivers


def test_email_text_has_title_text_and_details_and_its_html_keeps_them() -> None:
    from retrainer.notify import Alert, email_html, email_text

    alert = Alert("rollback", "m: rolled back", "v2 -> v1 <now>", {"version": "1"})
    assert alert.subject == "[retrainer] rollback: m: rolled back"
    text = email_text(alert)
    assert text.startswith("m: rolled back\n\nv2 -> v1 <now>\n")
    assert '"version": "1"' in text
    html = email_html(alert)
    assert html.startswith("<pre>") and "v2 -&gt; v1 &lt;now&gt;" in html
    assert '"version": "1"' in html


def test_alert_settings_are_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from retrainer.errors import ConfigError
    from retrainer.settings import ALERT_EVENTS, load_settings

    (tmp_path / "retrainer.yaml").write_text("alerts: {channels: [webhook], email_to: [a@b]}\n")
    monkeypatch.setenv("RETRAINER_ALERT_EVENTS", "drift, decay")
    monkeypatch.setenv("RETRAINER_PUSHGATEWAY_URL", "http://pushgateway:9091/")
    settings = load_settings(tmp_path)
    assert settings.alerts.channels == ("webhook",) and settings.alerts.email_to == ("a@b",)
    assert settings.alerts.events == ("drift", "decay")
    assert settings.pushgateway_url == "http://pushgateway:9091"
    assert "decay" in ALERT_EVENTS
    (tmp_path / "retrainer.yaml").write_text("alerts: {chanels: [webhook]}\n")
    with pytest.raises(ConfigError, match=r"alerts\.chanels"):
        load_settings(tmp_path)


def test_every_metric_is_documented_and_on_the_dashboard(repo_root: Path) -> None:
    from retrainer.notify.prometheus import METRICS

    readme = (repo_root / "README.md").read_text()
    dashboard = json.loads(
        (repo_root / "config" / "grafana" / "retrainer-dashboard.json").read_text()
    )
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for name in METRICS:
        assert f"| `{name}` |" in readme, name
        assert name in exprs, name
