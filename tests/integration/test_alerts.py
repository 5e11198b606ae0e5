"""Alerts reach a real HTTP receiver and a real SMTP server through Airflow connections.

Connections come from ``AIRFLOW_CONN_<ID>`` (how Airflow sees them from outside the
metadata database) in the forms the Slack-webhook and SMTP providers read; nothing is
mocked.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path

import pytest

from tests.conftest import make_config_dir
from tests.integration.services_ops import (
    Mailbox,
    Receiver,
    TlsFiles,
    smtp_server,
    smtp_starttls_server,
    smtps_server,
    tls_files,
    webhook_receiver,
)

pytestmark = pytest.mark.integration
__all__ = [
    "smtp_server",
    "smtp_starttls_server",
    "smtps_server",
    "tls_files",
    "webhook_receiver",
]  # fixtures, imported to be used here


def _url_connection(url: str) -> str:
    """A ``slackwebhook`` connection with the whole URL in its password, as JSON."""
    return json.dumps({"conn_type": "slackwebhook", "password": url})


def _settings(tmp_path: Path, **alerts: object):  # type: ignore[no-untyped-def]
    from retrainer.settings import load_settings

    return load_settings(make_config_dir(tmp_path, settings={"alerts": alerts}))


def test_webhook_alert_is_slack_json_from_a_slackwebhook_connection(
    tmp_path: Path, webhook_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrainer.orchestration.notifiers import send_alert

    # The endpoint in the host, the token (the URL's path) in the password, as for Slack.
    monkeypatch.setenv(
        "AIRFLOW_CONN_RETRAINER_WEBHOOK",
        json.dumps(
            {
                "conn_type": "slackwebhook",
                "host": webhook_receiver.url,
                "password": "services/T1/B2",
            }
        ),
    )
    settings = _settings(tmp_path, channels=["webhook"])
    details = {"batch_id": "p7", "drift_score": 0.62, "evidence": [{"feature": "dew_point"}]}
    assert send_alert(
        settings, "rainfall: drift", "3 of 5 features drifted", details, event="drift"
    )

    (request,) = webhook_receiver.wait_for(1)
    assert request["path"] == "/services/T1/B2"
    assert request["headers"]["Content-Type"].startswith("application/json")
    payload = request["json"]
    assert payload["text"] == "*rainfall: drift*\n3 of 5 features drifted"
    header, section, fields, context = payload["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "rainfall: drift"}}
    assert section["text"] == {"type": "mrkdwn", "text": "3 of 5 features drifted"}
    assert {"type": "mrkdwn", "text": "*batch_id*\np7"} in fields["fields"]
    assert {"type": "mrkdwn", "text": "*drift_score*\n0.62"} in fields["fields"]
    assert context["type"] == "context" and "`drift`" in context["elements"][0]["text"]
    assert payload["retrainer"] == {"event": "drift", "details": details}


def test_webhook_url_in_the_password_of_a_json_connection_and_event_filter(
    tmp_path: Path, webhook_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrainer.orchestration.notifiers import send_alert

    # JSON form, the URL (a secret for Slack) in the password, which Airflow masks.
    monkeypatch.setenv(
        "AIRFLOW_CONN_TEAM_HOOK",
        json.dumps(
            {
                "conn_type": "slackwebhook",
                "password": f"{webhook_receiver.url}/hook",
                "extra": {"headers": {"X-Team": "ml"}},
            }
        ),
    )
    settings = _settings(
        tmp_path, channels=["webhook"], webhook_conn_id="team_hook", events=["promotion"]
    )
    assert not send_alert(settings, "rainfall: drift", "filtered out", event="drift")
    assert send_alert(settings, "rainfall: v2 promoted", "champion v1 -> v2", event="promotion")
    (request,) = webhook_receiver.wait_for(1)
    assert request["path"] == "/hook" and request["headers"]["X-Team"] == "ml"
    assert request["json"]["retrainer"]["event"] == "promotion"


@pytest.mark.parametrize(
    "extras",
    [
        "disable_ssl=true&disable_tls=true",
        # The provider reads extras as truthy: the string "false" disables STARTTLS too.
        "disable_ssl=true&disable_tls=false",
        # STARTTLS left on, but this server offers none: the provider stops before login.
        "disable_ssl=true",
    ],
)
def test_a_password_never_goes_over_plain_smtp_by_default(
    extras: str,
    tmp_path: Path,
    smtp_server: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from retrainer.orchestration.notifiers import send_alert

    monkeypatch.setenv(
        "AIRFLOW_CONN_RETRAINER_SMTP",
        f"smtp://alerts:secret@{smtp_server.host}:{smtp_server.port}?{extras}",
    )
    settings = _settings(tmp_path, channels=["email"], email_to=["ops@example.org"])
    with caplog.at_level(logging.DEBUG):
        assert not send_alert(settings, "rainfall: v2 promoted", "x", event="promotion")
    assert smtp_server.logins == [] and smtp_server.messages == []
    printed = capsys.readouterr()
    logged = [r.getMessage() for r in caplog.records] + [printed.out, printed.err]
    errors = [m for m in logged if "not delivered" in m]
    assert errors, logged
    if "disable_tls" in extras:  # refused by retrainer, saying what to change
        assert any(
            "'retrainer_smtp'" in e and "alerts.smtp_allow_plaintext_login" in e for e in errors
        ), errors
    assert not [m for m in logged if "secret" in m]  # the password


def test_plaintext_smtp_login_is_refused_on_the_socket_itself(
    smtp_server: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the extras say, login on a socket without TLS raises before AUTH is sent."""
    from retrainer.orchestration.smtp_login import PlaintextLoginRefused, TlsLoginSmtpHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_GUARD_SMTP",
        f"smtp://alerts:secret@{smtp_server.host}:{smtp_server.port}?disable_ssl=true",
    )
    hook = TlsLoginSmtpHook("guard_smtp")
    hook.smtp_connection = hook.get_connection("guard_smtp")
    client = hook._build_client()  # the provider's own client, before its STARTTLS
    with pytest.raises(PlaintextLoginRefused, match="'guard_smtp'") as refused:
        client.login("alerts", "secret")
    client.close()
    assert "secret" not in str(refused.value) and smtp_server.logins == []


def test_email_alert_over_plain_smtp_with_login_when_allowed(
    tmp_path: Path, smtp_server: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrainer.orchestration.notifiers import send_alert

    monkeypatch.setenv(
        "AIRFLOW_CONN_RETRAINER_SMTP",
        f"smtp://alerts:secret@{smtp_server.host}:{smtp_server.port}"
        "?from_email=retrainer%40example.org&disable_ssl=true&disable_tls=true",
    )
    settings = _settings(
        tmp_path,
        channels=["email"],
        email_to=["ops@example.org", "ds@example.org"],
        smtp_allow_plaintext_login=True,
    )
    assert send_alert(
        settings,
        "rainfall: rolled back to v1",
        "champion v2 -> v1: bad week",
        {"version": "1", "previous_version": "2"},
        event="rollback",
    )
    (mail,) = smtp_server.wait_for(1)
    assert smtp_server.logins == ["alerts"]
    assert mail["mail_from"] == "retrainer@example.org"
    assert mail["rcpt_tos"] == ["ops@example.org", "ds@example.org"]
    assert mail["subject"] == "[retrainer] rollback: rainfall: rolled back to v1"
    assert mail["to"] == "ops@example.org, ds@example.org"
    body = html.unescape(mail["body"])  # the SMTP hook sends an HTML part: our text in <pre>
    assert body.startswith("<pre>") and "champion v2 -> v1: bad week" in body
    assert '"previous_version": "2"' in body


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_email_alert_over_tls(  # type: ignore[no-untyped-def]
    mode: str,
    tmp_path: Path,
    tls_files: TlsFiles,
    request,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from retrainer.orchestration.notifiers import send_alert

    server: Mailbox = request.getfixturevalue(
        "smtp_starttls_server" if mode == "starttls" else "smtps_server"
    )
    # The certificate is verified (host name and chain): the test trusts its own CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.cert))
    # The SMTP provider's extras: SSL unless disable_ssl, STARTTLS unless disable_tls.
    query = "disable_ssl=true" if mode == "starttls" else "disable_tls=true"
    monkeypatch.setenv(
        "AIRFLOW_CONN_RETRAINER_SMTP", f"smtp://alerts:secret@{server.host}:{server.port}?{query}"
    )
    settings = _settings(tmp_path, channels=["email"], email_to=["ops@example.org"])
    assert send_alert(settings, "rainfall: v3 promoted", "champion v2 -> v3", event="promotion")
    (mail,) = server.wait_for(1)
    assert mail["tls"] and server.logins == ["alerts"]
    assert mail["subject"] == "[retrainer] promotion: rainfall: v3 promoted"


def test_both_channels_and_env_overrides(
    tmp_path: Path,
    webhook_receiver: Receiver,
    smtp_server: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from retrainer.orchestration.notifiers import send_alert

    monkeypatch.setenv(
        "AIRFLOW_CONN_RETRAINER_WEBHOOK", _url_connection(f"{webhook_receiver.url}/x")
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_OPS_SMTP",
        f"smtp://{smtp_server.host}:{smtp_server.port}?disable_ssl=true&disable_tls=true",
    )
    monkeypatch.setenv("RETRAINER_ALERT_CHANNELS", "webhook, email")
    monkeypatch.setenv("RETRAINER_ALERT_SMTP_CONN_ID", "ops_smtp")
    monkeypatch.setenv("RETRAINER_ALERT_EMAIL_TO", "oncall@example.org")
    settings = _settings(tmp_path)
    assert send_alert(settings, "rainfall: performance decay", "roc_auc 0.61 < 0.70", event="decay")
    assert webhook_receiver.wait_for(1)[0]["json"]["retrainer"]["event"] == "decay"
    assert smtp_server.wait_for(1)[0]["rcpt_tos"] == ["oncall@example.org"]


def test_a_huge_alert_with_slack_markup_arrives_bounded_and_escaped(
    tmp_path: Path,
    webhook_receiver: Receiver,
    smtp_server: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from retrainer.orchestration.notifiers import send_alert

    monkeypatch.setenv("AIRFLOW_CONN_RETRAINER_WEBHOOK", _url_connection(webhook_receiver.url))
    monkeypatch.setenv(
        "AIRFLOW_CONN_RETRAINER_SMTP",
        f"smtp://{smtp_server.host}:{smtp_server.port}?disable_ssl=true&disable_tls=true",
    )
    settings = _settings(tmp_path, channels=["webhook", "email"], email_to=["a@example.org"])
    columns = ["<!channel>", "<https://evil.example|click here>"] + [
        f"column_{i:05d}" for i in range(10_000)
    ]
    text = f"batch p7 blocked: unexpected {columns}"
    assert send_alert(settings, "rainfall: p7 blocked", text, {"columns": columns})

    (request,) = webhook_receiver.wait_for(1)
    assert int(request["headers"]["Content-Length"]) <= 20_000
    rendered = json.dumps([request["json"]["text"], request["json"]["blocks"]])
    assert "<!channel>" not in rendered and "<http" not in rendered
    assert "&lt;!channel&gt;" in rendered
    assert "… 9,982 more items" in request["json"]["retrainer"]["details"]["columns"]
    (mail,) = smtp_server.wait_for(1)
    body = html.unescape(mail["body"])
    assert len(body) <= 20_100 and "more characters" in body and "9,982 more items" in body


def test_failed_delivery_is_logged_never_raised(
    tmp_path: Path,
    webhook_receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from retrainer.dev.local_stack import free_port
    from retrainer.orchestration.notifiers import send_alert

    webhook_receiver.status = 500
    url = f"{webhook_receiver.url}/x"
    monkeypatch.setenv("AIRFLOW_CONN_RETRAINER_WEBHOOK", _url_connection(url))
    monkeypatch.setenv(
        "AIRFLOW_CONN_RETRAINER_SMTP", f"smtp://127.0.0.1:{free_port()}?disable_ssl=true"
    )
    settings = _settings(tmp_path, channels=["webhook", "email"], email_to=["a@example.org"])
    with caplog.at_level(logging.ERROR, logger="retrainer.orchestration.notifiers"):
        assert not send_alert(settings, "rainfall: v2 promoted", "x", event="promotion")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("webhook answered HTTP 500" in e for e in errors), errors
    assert any("e-mail via 127.0.0.1" in e for e in errors), errors
    assert not any(url in e for e in errors), errors  # the webhook URL is a secret

    caplog.clear()
    monkeypatch.delenv("AIRFLOW_CONN_RETRAINER_WEBHOOK")
    settings = _settings(tmp_path, channels=["webhook"])
    with caplog.at_level(logging.ERROR, logger="retrainer.orchestration.notifiers"):
        assert not send_alert(settings, "rainfall: drift", "x", event="drift")
    assert any("'retrainer_webhook'" in r.getMessage() for r in caplog.records), caplog.text


def test_email_channel_needs_recipients(tmp_path: Path) -> None:
    from retrainer.errors import ConfigError

    with pytest.raises(ConfigError, match=r"alerts\.email_to"):
        _settings(tmp_path, channels=["email"])
    with pytest.raises(ConfigError, match=r"alerts\.events"):
        _settings(tmp_path, events=["drfit"])


@pytest.mark.parametrize(
    "url", ["hooks.example.org/services/T0/B0/SECRET123", "htp:/hooks.example.org/SECRET123"]
)
@pytest.mark.parametrize("where", ["settings", "connection"])
def test_a_malformed_webhook_url_is_never_logged(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    url: str,
    where: str,
) -> None:
    from retrainer.orchestration.notifiers import send_alert

    if where == "settings":
        monkeypatch.setenv("RETRAINER_ALERT_WEBHOOK_URL", url)
    else:
        monkeypatch.setenv("AIRFLOW_CONN_RETRAINER_WEBHOOK", _url_connection(url))
    settings = _settings(tmp_path, channels=["webhook"])
    with (
        caplog.at_level(logging.DEBUG),
        caplog.at_level(logging.DEBUG, logger="retrainer.orchestration.notifiers"),
    ):
        assert not send_alert(settings, "rainfall: drift", "x", event="drift")
    # Airflow's first import may route logging to stdout (structlog): read both.
    printed = capsys.readouterr()
    logged = [r.getMessage() for r in caplog.records] + [printed.out, printed.err]
    assert any("not delivered" in m for m in logged), logged
    assert not [m for m in logged if "SECRET123" in m]  # the URL is the webhook's secret
