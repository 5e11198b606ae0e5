"""Local services for the alert and metrics tests: an HTTP receiver, SMTP, a Pushgateway.

Import the fixtures where they are used (``from tests.integration.services_ops import
...``). Every service listens on a free loopback port and is stopped at teardown.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from retrainer.dev.local_stack import free_port
from tests.conftest import stop_process

PUSHGATEWAY = Path("/usr/bin/prometheus-pushgateway")


@dataclass
class Receiver:
    """An HTTP server that records every POST; ``status`` is what it answers."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.requests)


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(body) if body else None,
                }
            )
            self.send_response(receiver.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


@contextmanager
def _smtp(**controller_options: Any) -> Iterator[Mailbox]:
    """aiosmtpd on a free port; accepts AUTH LOGIN/PLAIN as ``alerts``/``secret``."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    port = free_port()
    mailbox = Mailbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            parsed: Message = message_from_bytes(envelope.original_content or envelope.content)
            mailbox.messages.append(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "subject": parsed["Subject"],
                    "from": parsed["From"],
                    "to": parsed["To"],
                    # The first text part: the SMTP hook sends a multipart message.
                    "body": next(p for p in parsed.walk() if p.get_content_maintype() == "text")
                    .get_payload(decode=True)
                    .decode("utf-8"),
                    # Whether this connection is encrypted (STARTTLS or SMTPS).
                    "tls": server.transport.get_extra_info("ssl_object") is not None,
                }
            )
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        ok = auth.login == b"alerts" and auth.password == b"secret"
        if ok:
            mailbox.logins.append(auth.login.decode())
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        **controller_options,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """Plain SMTP; AUTH allowed without TLS (loopback test server)."""
    with _smtp(auth_require_tls=False) as mailbox:
        yield mailbox


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1 (clients trust it via ``SSL_CERT_FILE``)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture
def smtp_starttls_server(tls_files: TlsFiles) -> Iterator[Mailbox]:
    """SMTP that requires STARTTLS before anything else (AUTH only over TLS)."""
    with _smtp(tls_context=tls_files.server_context(), require_starttls=True) as mailbox:
        yield mailbox


@pytest.fixture
def smtps_server(tls_files: TlsFiles) -> Iterator[Mailbox]:
    """SMTP over TLS from the first byte (SMTPS)."""
    # aiosmtpd only counts STARTTLS as TLS for AUTH; this connection is TLS from the start.
    with _smtp(ssl_context=tls_files.server_context(), auth_require_tls=False) as mailbox:
        yield mailbox


@dataclass(frozen=True)
class Pushgateway:
    url: str

    def families(self) -> dict[str, Any]:
        """Everything the Pushgateway exposes, parsed: name -> metric family."""
        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as response:
            text = response.read().decode("utf-8")
        return {family.name: family for family in text_string_to_metric_families(text)}

    def samples(self, name: str, **labels: str) -> list[Any]:
        family = self.families().get(name)
        if family is None:
            return []
        return [
            s
            for s in family.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float:
        found = self.samples(name, **labels)
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
        return float(found[0].value)


@pytest.fixture(scope="module")
def pushgateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushgateway]:
    """Debian's prometheus-pushgateway on a free loopback port, in memory only."""
    if not PUSHGATEWAY.exists():
        reason = f"{PUSHGATEWAY} is missing: run scripts/system-deps.sh (make system-deps)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("pushgateway") / "pushgateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(PUSHGATEWAY),
                f"--web.listen-address=127.0.0.1:{port}",
                # Debian's build persists to /var/lib/prometheus/pushgateway.data by default:
                # every run (and every other user) would see earlier runs' groups.
                "--persistence.file=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
                break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"pushgateway on {url} did not start; log:\n"
                        + log_path.read_text(errors="replace")[-2000:]
                    )
                time.sleep(0.05)
        yield Pushgateway(url)
    finally:
        stop_process(process, 10)
