"""Alerts in Airflow: a hook from connections to channel credentials, and a notifier.

``AlertConnectionHook`` turns an Airflow Connection into the plain credentials the
``retrainer.notify`` channels take. Importing this module registers it as the resolver
``send_alert`` uses, so an operator's ``send_alert(...)`` reaches the channels configured in
``retrainer.yaml`` with credentials from Airflow (secrets backends, ``AIRFLOW_CONN_<ID>``,
the connections in the UI).

``RetrainerNotifier`` is the Airflow face of the same delivery path: every retrainer task
has it as ``on_failure_callback`` (see ``dag_factory``), and it can be given an event and a
templated title/text for any other callback.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk import BaseHook, BaseNotifier

from retrainer.notify import (
    Alert,
    SmtpCredentials,
    WebhookCredentials,
    deliver,
    register_credentials_resolver,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection

__all__ = ["AlertConnectionHook", "RetrainerNotifier", "resolve_credentials"]

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}


def _flag(value: Any) -> bool:
    """Extras from a connection URI are strings: ``?starttls=true``."""
    return value is True or str(value).strip().lower() in _TRUE


class AlertConnectionHook(BaseHook):
    """Read a webhook or SMTP connection into channel credentials.

    Webhook (conn type ``http``): the full URL in ``extra.webhook_url``, or in the password
    (masked in the UI and logs: the place for a Slack URL, which is a secret), or in the host;
    or host + port with the path in ``extra.endpoint``. ``extra.headers`` adds HTTP headers.
    SMTP (conn type ``smtp``/``smtps``): host, port, login, password; ``extra.ssl`` (SMTPS),
    ``extra.starttls``, ``extra.from_email``.
    """

    conn_name_attr = "conn_id"
    hook_name = "retrainer alerts"

    def __init__(self, conn_id: str) -> None:
        super().__init__()
        self.conn_id = conn_id

    def _connection(self) -> Connection:
        return self.get_connection(self.conn_id)

    def webhook_credentials(self) -> WebhookCredentials:
        conn = self._connection()
        extra = conn.extra_dejson
        headers = {str(k): str(v) for k, v in (extra.get("headers") or {}).items()}
        if extra.get("webhook_url"):
            return WebhookCredentials(str(extra["webhook_url"]), headers)
        if conn.password and "://" in conn.password:
            return WebhookCredentials(conn.password, headers)
        host = conn.host or ""
        if not host:
            raise ValueError(
                f"connection {self.conn_id!r} has no webhook URL: set its host, its password "
                "or extra.webhook_url to the URL"
            )
        if "://" in host:
            return WebhookCredentials(host, headers)
        # A URI connection (http://host:port/path) puts the path into `schema`.
        scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
        port = f":{conn.port}" if conn.port else ""
        path = str(extra.get("endpoint") or conn.schema or "").lstrip("/")
        return WebhookCredentials(f"{scheme}://{host}{port}/{path}", headers)

    def smtp_credentials(self) -> SmtpCredentials:
        conn = self._connection()
        if not conn.host:
            raise ValueError(f"connection {self.conn_id!r} has no SMTP host")
        extra = conn.extra_dejson
        use_ssl = conn.conn_type == "smtps" or _flag(extra.get("ssl", False))
        starttls = _flag(extra.get("starttls", False))
        default_port = 465 if use_ssl else (587 if starttls else 25)
        return SmtpCredentials(
            host=conn.host,
            port=int(conn.port or default_port),
            login=conn.login or None,
            password=conn.password or None,
            ssl=use_ssl,
            starttls=starttls,
            sender=extra.get("from_email") or None,
        )


def resolve_credentials(
    kind: Literal["webhook", "email"], conn_id: str
) -> WebhookCredentials | SmtpCredentials:
    """The resolver ``retrainer.notify`` calls: Airflow's own connection lookup."""
    hook = AlertConnectionHook(conn_id)
    return hook.webhook_credentials() if kind == "webhook" else hook.smtp_credentials()


register_credentials_resolver(resolve_credentials)


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
