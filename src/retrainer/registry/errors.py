"""Recognise MLflow's answers by their error code, never by the words of the message.

Codes are the names of ``mlflow.protos.databricks_pb2.ErrorCode``; a local (SQLite) store
raises ``MlflowException`` with them and a tracking server sends them back in its JSON
error, which the REST store raises as ``RestException`` (a subclass) with the same code.
"""

from __future__ import annotations

__all__ = ["alias_unset", "already_exists", "is_missing"]


def _code(exc: BaseException) -> str | None:
    from mlflow.exceptions import MlflowException

    return exc.error_code if isinstance(exc, MlflowException) else None


def is_missing(exc: BaseException) -> bool:
    """The named model, version, run, experiment or artifact does not exist."""
    return _code(exc) == "RESOURCE_DOES_NOT_EXIST"


def already_exists(exc: BaseException) -> bool:
    """The registered model or experiment to create exists already."""
    return _code(exc) == "RESOURCE_ALREADY_EXISTS"


def alias_unset(exc: BaseException) -> bool:
    """A look-up by alias found nothing: the model does not exist or the alias is not set.

    MLflow reports an alias that is not set as ``INVALID_PARAMETER_VALUE`` (see
    ``SqlAlchemyStore.get_model_version_by_alias``), not as a missing resource.
    """
    return is_missing(exc) or _code(exc) == "INVALID_PARAMETER_VALUE"
