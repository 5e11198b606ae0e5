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


_MENTION = "<!channel>"
_LINK = "<https://evil.example|click here>"


def _rendered(payload: dict) -> str:  # type: ignore[type-arg]
    """What Slack renders: the fallback text and the blocks (not the `retrainer` key)."""
    return json.dumps({"text": payload["text"], "blocks": payload["blocks"]})


def test_slack_text_from_data_can_neither_mention_nor_link() -> None:
    from retrainer.notify import Alert, slack_payload

    alert = Alert(
        "blocked_batch",
        f"rainfall: column {_MENTION} & co",
        f"unexpected columns ['{_MENTION}', '{_LINK}', '*bold*'] in batch p7",
        {_MENTION: _LINK, "batch_id": "p7", "column": "*bold* & <b>"},
    )
    payload = slack_payload(alert)
    rendered = _rendered(payload)
    assert _MENTION not in rendered and "<http" not in rendered and "<!" not in rendered
    assert "&amp;lt;" not in rendered and "&amp;amp;" not in rendered  # escaped once
    header, section, fields, _context = payload["blocks"]
    assert header["text"]["text"] == "rainfall: column &lt;!channel&gt; &amp; co"
    assert "'&lt;https://evil.example|click here&gt;'" in section["text"]["text"]
    assert payload["text"].startswith("*rainfall: column &lt;!channel&gt; &amp; co*\n")
    texts = [f["text"] for f in fields["fields"]]
    # The formatter's own bold keys still format; the data inside them is escaped.
    assert "*batch_id*\np7" in texts
    assert "*&lt;!channel&gt;*\n&lt;https://evil.example|click here&gt;" in texts
    assert "*column*\n*bold* &amp; &lt;b&gt;" in texts
    # Receivers that read JSON get the details as they were.
    assert payload["retrainer"]["details"][_MENTION] == _LINK


def test_a_cut_never_splits_an_entity() -> None:
    import re

    from retrainer.notify import Alert, slack_payload

    payload = slack_payload(Alert("drift", "<" * 400, "&" * 5000))
    header, section, _context = payload["blocks"]
    for text, limit in ((header["text"]["text"], 150), (section["text"]["text"], 3000)):
        assert len(text) <= limit
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", text), text[-40:]
    assert section["text"]["text"].endswith("more characters")


def test_a_10000_column_alert_fits_every_channel() -> None:
    from retrainer.notify import Alert, email_html, email_text, slack_payload

    columns = [f"unexpected_column_{i:05d}" for i in range(10_000)]
    text = f"batch 'p7' of 'rainfall' blocked: columns (unexpected {columns})"
    assert len(text) > 88_000  # the size a 10,000-column CSV made before
    details = {"batch_id": "p7", "columns": columns, "k" * 5000: "long key", "evidence": text}
    alert = Alert("blocked_batch", "rainfall: batch p7 blocked " + "x" * 500, text, details)

    payload = slack_payload(alert)
    header, section, fields, _context = payload["blocks"]
    assert len(header["text"]["text"]) <= 150
    assert len(section["text"]["text"]) <= 3000 and "more characters" in section["text"]["text"]
    assert len(fields["fields"]) <= 10 and all(len(f["text"]) <= 2000 for f in fields["fields"])
    assert len(payload["text"]) <= 3000
    assert len(json.dumps(payload["retrainer"])) <= 10_500
    assert "… 9,980 more items" in payload["retrainer"]["details"]["columns"]
    assert len(json.dumps(payload)) <= 20_000

    body = email_text(alert)
    assert len(body) <= 20_000
    assert "more characters" in body and "… 9,980 more items" in body
    assert len(email_html(alert)) <= 5 * 20_000
    assert "\n" not in alert.subject and len(alert.subject) <= 200


def test_wide_and_deep_details_are_bounded_as_a_whole() -> None:
    from retrainer.notify import Alert, email_text, slack_payload

    details = {f"k{i}": [{"a": ["x" * 1000] * 100}] * 100 for i in range(100)}
    payload = slack_payload(Alert("drift", "t", "x", details))
    assert len(json.dumps(payload["retrainer"])) <= 10_500
    assert len(email_text(Alert("drift", "t", "x", details))) <= 20_000


def test_a_subject_is_one_line() -> None:
    from retrainer.notify import Alert

    alert = Alert("drift", "rainfall\r\nBcc: someone@example.org", "x")
    assert alert.subject == "[retrainer] drift: rainfall Bcc: someone@example.org"


def test_plaintext_smtp_login_is_allowed_by_the_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrainer.settings import ENVIRONMENT_VARIABLES, load_settings

    (tmp_path / "retrainer.yaml").write_text("alerts: {}\n")
    monkeypatch.setenv("RETRAINER_ALERT_SMTP_ALLOW_PLAINTEXT_LOGIN", "true")
    assert load_settings(tmp_path).alerts.smtp_allow_plaintext_login is False
    assert "alerts.smtp_allow_plaintext_login" not in {v.field for v in ENVIRONMENT_VARIABLES}
    (tmp_path / "retrainer.yaml").write_text("alerts: {smtp_allow_plaintext_login: true}\n")
    assert load_settings(tmp_path).alerts.smtp_allow_plaintext_login is True
