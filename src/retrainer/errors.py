"""Exceptions raised by retrainer.

Every error a user can cause names the thing that is wrong (a file, a field, a batch,
a model version) so the message alone says what to fix.

    RetrainerError
    ├── ConfigError            a YAML file or setting is invalid (names file + field path)
    ├── StorageError           the lake cannot be read or written
    │   ├── ObjectNotFound     a key does not exist
    │   ├── BucketNotFound     the S3 bucket of the storage root does not exist
    │   └── LakeConflict       a key the lake keeps once holds other content already
    ├── InputDataError         a data file cannot be read as a table (corrupt, empty, wrong format)
    ├── ValidationFailed       a batch was blocked by its expectation suite (carries the evidence)
    ├── RegistryError          the MLflow registry is not in the state an action needs
    │   ├── NoChampion         the model has no `champion` alias yet
    │   ├── ChampionMoved      the champion changed while a move was under way (it lost)
    │   ├── StaleClaim         an empty or malformed champion claim blocks its epoch
    │   ├── UnsafeModelError   a version would run code when loaded (pickle, untrusted type)
    │   └── ApprovalError      an approval request is missing or has an unexpected answer
    ├── GateError              the champion/challenger gate could not decide (fails closed)
    ├── Unavailable            a store did not answer (a fault of infrastructure): retried
    │   ├── RegistryUnavailable  MLflow (tracking server, database, artifact store)
    │   └── LakeUnavailable      the lake (an S3 endpoint, a file system); also a StorageError
    └── NothingToDo            a step has no work this time (no batch, gate rejected, ...)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApprovalError",
    "BucketNotFound",
    "ChampionMoved",
    "ConfigError",
    "GateError",
    "InputDataError",
    "LakeConflict",
    "LakeUnavailable",
    "NoChampion",
    "NothingToDo",
    "ObjectNotFound",
    "RegistryError",
    "RegistryUnavailable",
    "RetrainerError",
    "StaleClaim",
    "StorageError",
    "Unavailable",
    "UnsafeModelError",
    "ValidationFailed",
]


class RetrainerError(Exception):
    """Base class of every error retrainer raises on purpose."""


class ConfigError(RetrainerError):
    """A configuration file or setting is invalid."""


class StorageError(RetrainerError):
    """The data lake could not be read or written."""


class ObjectNotFound(StorageError):
    """A key does not exist in the lake."""


class BucketNotFound(StorageError):
    """The S3 bucket named by the storage root does not exist."""


class LakeConflict(StorageError):
    """A key the lake keeps once (an original, accepted rows) already holds other content."""


class InputDataError(RetrainerError):
    """A data file could not be read as a table."""


class ValidationFailed(RetrainerError):
    """A batch failed validation and was quarantined.

    Attributes:
        batch_id: the batch that was blocked.
        failed_checks: short descriptions of every failed expectation.
        report_key: where the full validation result lives in the lake.
    """

    def __init__(
        self,
        message: str,
        *,
        batch_id: str,
        failed_checks: list[str],
        report_key: str | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.batch_id = batch_id
        self.failed_checks = failed_checks
        self.report_key = report_key
        self.evidence = evidence or {}


class RegistryError(RetrainerError):
    """The MLflow model registry is not in the state an action needs."""


class NoChampion(RegistryError):
    """The registered model has no `champion` alias."""


class ChampionMoved(RegistryError):
    """The champion moved between a move's snapshot and its claim: another move won."""


class StaleClaim(RegistryError):
    """A champion claim in the lake is empty or malformed; ``retrainer doctor`` clears it.

    Attributes:
        key: the claim's lake key.
    """

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class UnsafeModelError(RegistryError):
    """A model version cannot be loaded without running code it carries; it is never loaded.

    Attributes:
        model: the registered model.
        version: the refused version.
        found: what made it unsafe (its serialization format, or the untrusted types).
    """

    def __init__(self, message: str, *, model: str, version: str, found: str) -> None:
        super().__init__(message)
        self.model = model
        self.version = version
        self.found = found


class ApprovalError(RegistryError):
    """An approval request is missing, or its tag holds an unexpected value."""


class GateError(RetrainerError):
    """The champion/challenger gate could not reach a decision."""


class Unavailable(RetrainerError):
    """A store retrainer depends on did not answer: not a verdict on the data or a model.

    Never caught to decide anything (a gate never rejects on it): the task fails and
    Airflow retries it with its ``retries``. The message names the store and the operation.
    """


class RegistryUnavailable(Unavailable):
    """MLflow's tracking server, database or artifact store did not answer.

    Deliberately not a :class:`RegistryError`: those are refusals no retry can fix.
    """


class LakeUnavailable(Unavailable, StorageError):
    """The lake's S3 endpoint or file system did not answer (or answered with a 5xx)."""


class NothingToDo(RetrainerError):
    """A step found no work this time: not a fault, the orchestrator skips the step."""
