"""Refuse to start a deployment whose secrets are empty, known or weak.

``docker compose`` already refuses an empty secret (``${VAR:?}``), but it cannot tell a
real password from one copied out of a README or an old ``.env.example``. The compose
file's ``preflight`` service runs this before anything else starts; it names the variable
and the rule it breaks, never the value.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["SECRETS", "main", "weak_secrets"]

# Every secret the compose file passes to a service (plain-text passwords and signing keys).
SECRETS = (
    "POSTGRES_PASSWORD",
    "MINIO_ROOT_PASSWORD",
    "AIRFLOW_ADMIN_PASSWORD",
    "AIRFLOW_SECRET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_FERNET_KEY",
    "MLFLOW_ADMIN_PASSWORD",
    "MLFLOW_SECRET_KEY",
    "PROMETHEUS_ADMIN_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
)
BCRYPT_SECRET = "PROMETHEUS_ADMIN_PASSWORD_BCRYPT"
MIN_LENGTH = 12
# Words that mark a placeholder rather than a chosen secret.
_PLACEHOLDERS = ("change-me", "changeme", "example", "password")
# Hashes that were published in earlier versions of .env.example: anybody can log in with them.
_PUBLISHED_HASHES = frozenset({"$2b$10$5/XfZzIj5Uux1s4tA63gA.XniK1emQOvYgXaLkLYiTWBDRWJRFHxq"})


def _problem(value: str) -> str | None:
    if not value:
        return "is empty"
    lowered = value.lower()
    for word in _PLACEHOLDERS:
        if word in lowered:
            return f"contains the placeholder word {word!r}"
    if len(value) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    return None


def weak_secrets(env: Mapping[str, str]) -> list[str]:
    """One line per secret in ``env`` that must not be used, naming the variable and why."""
    problems = []
    for name in SECRETS:
        problem = _problem(env.get(name, ""))
        if problem:
            problems.append(f"{name} {problem}")
    digest = env.get(BCRYPT_SECRET, "")
    if not digest.startswith("$2"):
        problems.append(f"{BCRYPT_SECRET} is not a bcrypt hash (make one with htpasswd -nbBC 10)")
    elif digest in _PUBLISHED_HASHES:
        problems.append(f"{BCRYPT_SECRET} is the published example hash")
    return problems


def main() -> int:
    problems = weak_secrets(os.environ)
    for line in problems:
        print(f"refusing to start: {line}; set a real value in .env", file=sys.stderr)
    if not problems:
        print(f"preflight: {len(SECRETS) + 1} secrets set and not known placeholders")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
