"""Tell an outage (a store that did not answer) from an answer (missing, refused, invalid).

An outage is retried; an answer is a verdict. The two must never be confused: a gate that
rejects a challenger because the champion's artifacts were unreachable for a few seconds
records a judgement nobody made, and a task that retries a refusal only delays the error.

Recognised by type (and MLflow's error codes, never the words of a message), anywhere in
the exception's chain, because MLflow and boto wrap the network error they met:

- the network: ``OSError`` and its kin (``requests`` and ``urllib3`` errors are OSErrors),
  botocore's connection and timeout errors; a missing file is an answer, not an outage;
- an HTTP 5xx (or S3's ``SlowDown``) from S3 or from an MLflow tracking server;
- MLflow's ``TEMPORARILY_UNAVAILABLE``.
"""

from __future__ import annotations

from collections.abc import Iterator

from retrainer.errors import RegistryUnavailable, Unavailable

__all__ = ["as_unavailable", "chain", "is_outage"]

# A path that does not exist is the store's answer, not its absence.
_ANSWERS = (FileNotFoundError, IsADirectoryError, NotADirectoryError)
_S3_BUSY = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then its causes and contexts (each once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _one(exc: BaseException) -> bool:
    if isinstance(exc, _ANSWERS):
        return False
    if isinstance(exc, OSError):
        return True
    try:
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as BotoConnectionError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        pass
    else:
        if isinstance(exc, BotoConnectionError | HTTPClientError):
            return True
        if isinstance(exc, ClientError):
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            code = str(exc.response.get("Error", {}).get("Code", ""))
            return status >= 500 or code in _S3_BUSY
    from mlflow.exceptions import MlflowException, RestException

    if isinstance(exc, MlflowException):
        if exc.error_code == "TEMPORARILY_UNAVAILABLE":
            return True
        # Only a server's own answer: a local MlflowException defaults to INTERNAL_ERROR.
        return isinstance(exc, RestException) and exc.get_http_status_code() >= 500
    return False


def is_outage(exc: BaseException) -> bool:
    """Did a store fail to answer (retry), rather than answer (a verdict)?"""
    return any(_one(e) for e in chain(exc))


def as_unavailable(exc: BaseException) -> Unavailable | None:
    """``exc`` as the named, retried error it is, when it is an outage not yet named."""
    if isinstance(exc, Unavailable) or not is_outage(exc):
        return None
    from mlflow.exceptions import MlflowException

    if any(isinstance(e, MlflowException) for e in chain(exc)):
        return RegistryUnavailable(f"MLflow did not answer (the task is retried): {exc}")
    return Unavailable(f"a store did not answer (the task is retried): {exc}")
