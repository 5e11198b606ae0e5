"""The SMTP provider's hook, refusing to send a password over an unencrypted connection.

``SmtpHook`` logs in over whatever its extras give: SMTPS unless ``disable_ssl``, STARTTLS
unless ``disable_tls`` (and it reads the extras as truthy, so ``disable_tls=false`` in a
connection URI disables TLS too). With both off the password crosses the network in the
clear. This hook logs in only over SSL or a STARTTLS that succeeded, unless the deployment
says ``alerts.smtp_allow_plaintext_login: true``; a relay without login is unaffected.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Any

from airflow.providers.smtp.hooks.smtp import SmtpHook

from retrainer.errors import RetrainerError

__all__ = ["PlaintextLoginRefused", "TlsLoginSmtpHook"]


class PlaintextLoginRefused(RetrainerError):
    """The SMTP connection would send its password unencrypted."""


class TlsLoginSmtpHook(SmtpHook):
    """``SmtpHook`` that refuses to log in without TLS unless ``allow_plaintext_login``."""

    def __init__(self, smtp_conn_id: str, *, allow_plaintext_login: bool = False) -> None:
        super().__init__(smtp_conn_id=smtp_conn_id)
        self.allow_plaintext_login = allow_plaintext_login

    def _refusal(self, why: str) -> PlaintextLoginRefused:
        return PlaintextLoginRefused(
            f"connection {self.smtp_conn_id!r} would send its password to "
            f"{self.host}:{self.port} unencrypted ({why}): not logging in. Use SMTPS or "
            "STARTTLS (leave disable_ssl/disable_tls out of its extras), or set "
            "alerts.smtp_allow_plaintext_login: true in retrainer.yaml for a trusted network"
        )

    def get_conn(self) -> SmtpHook:
        # Refuse before connecting when the extras already rule TLS out.
        if not self.allow_plaintext_login and self._smtp_client is None:
            self.smtp_connection = self.get_connection(self.smtp_conn_id)
            if self.smtp_user and self.smtp_password and not (self.use_ssl or self.smtp_starttls):
                raise self._refusal("its extras disable both SSL and STARTTLS")
        return super().get_conn()

    def _build_client(self) -> smtplib.SMTP_SSL | smtplib.SMTP:
        client = super()._build_client()
        if self.allow_plaintext_login:
            return client
        login = client.login

        # Checked at the moment of login, on the socket itself: whatever the extras or a
        # future provider decide about STARTTLS, no password goes out on a plain socket.
        def login_over_tls(user: str, password: str, **kwargs: Any) -> Any:
            if not isinstance(client.sock, ssl.SSLSocket):
                raise self._refusal("the connection is not encrypted")
            return login(user, password, **kwargs)

        client.login = login_over_tls  # type: ignore[method-assign]
        return client
