"""The data lake behind one small interface: a local folder or ``s3://bucket/prefix``.

Keys are POSIX-style relative paths (``batches/rainfall/p03/data.parquet``). Writing a key
that exists replaces it, so a rerun overwrites instead of duplicating; ``create_new``
writes a key only once (what the lake keeps for good goes through it). S3 goes through
boto3 with in-memory buffers (s3fs would pin an older botocore).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname

from retrainer.errors import BucketNotFound, LakeUnavailable, ObjectNotFound, StorageError

if TYPE_CHECKING:
    from collections.abc import Collection

    import pandas as pd

__all__ = ["LocalStorage", "S3Storage", "Storage", "open_storage"]


def _clean_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    # An empty key, "." or "./" would name the lake root itself, not an object.
    if not parts or key.startswith("/") or ".." in parts:
        raise StorageError(f"invalid lake key {key!r}: keys are relative and may not contain '..'")
    return str(PurePosixPath(*parts))


def _clean_prefix(prefix: str) -> str:
    """A listing prefix: "" (everything) or a clean key, keeping a trailing "/"."""
    if not prefix:
        return ""
    cleaned = _clean_key(prefix)
    return f"{cleaned}/" if prefix.endswith("/") else cleaned


def _new_file_mode() -> int:
    """rw for whoever the umask allows: tempfile.mkstemp would leave lake files at 0600."""
    try:  # Linux reports the umask without changing it (os.umask is process-wide).
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


class Storage(Protocol):
    """What the pipeline needs from the lake."""

    root: str

    def write_bytes(self, key: str, data: bytes) -> str: ...
    def read_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def modified(self, key: str) -> datetime: ...
    def list(self, prefix: str = "") -> list[str]: ...
    def uri(self, key: str) -> str: ...
    def write_json(self, key: str, payload: Any) -> str: ...
    def create_new(self, key: str, data: bytes) -> bool: ...
    def read_json(self, key: str) -> Any: ...
    def write_frame(self, key: str, frame: pd.DataFrame) -> str: ...
    def read_frame(self, key: str, columns: Collection[str] | None = None) -> pd.DataFrame: ...


class _FrameMixin:
    """Table and JSON helpers built on write_bytes/read_bytes."""

    def write_json(self: Any, key: str, payload: Any) -> str:
        data = json.dumps(payload, indent=2, sort_keys=True, default=str).encode("utf-8")
        return str(self.write_bytes(key, data))

    def read_json(self: Any, key: str) -> Any:
        return json.loads(self.read_bytes(key))

    def write_frame(self: Any, key: str, frame: pd.DataFrame) -> str:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return str(self.write_bytes(key, buffer.getvalue()))

    def read_frame(self: Any, key: str, columns: Collection[str] | None = None) -> pd.DataFrame:
        """Read a Parquet frame; with ``columns`` only those of them the file has."""
        import pandas as pd

        buffer = io.BytesIO(self.read_bytes(key))
        if columns is None:
            return pd.read_parquet(buffer)
        import pyarrow.parquet as pq

        # Parquet is columnar: the other columns are never decoded (a wide batch's
        # bookkeeping and unused columns cost no memory).
        present = set(pq.read_schema(buffer).names)
        buffer.seek(0)
        return pd.read_parquet(buffer, columns=[c for c in columns if c in present])


class LocalStorage(_FrameMixin):
    """The lake in a local folder (the embedded default)."""

    def __init__(self, root: str | Path) -> None:
        self.path = Path(root).expanduser().resolve()
        self.root = self.path.as_uri()
        self._file_mode = _new_file_mode()

    def _path(self, key: str) -> Path:
        return self.path / _clean_key(key)

    def write_bytes(self, key: str, data: bytes) -> str:
        try:
            return self._write(key, data)
        except OSError as exc:  # a full, read-only or unmounted disk: retried
            raise LakeUnavailable(f"cannot write {self.uri(key)} to the lake: {exc}") from exc

    def _write(self, key: str, data: bytes) -> str:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file and a rerun replaces it whole.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, self._file_mode)  # mkstemp makes 0600; others must read the lake
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.uri(key)

    def create_new(self, key: str, data: bytes) -> bool:
        """Write ``key`` only if it does not exist yet; return whether this call created it.

        The data goes to a temporary file first and is flushed to disk, then a hard link
        makes check and create one step: of two racing writers exactly one wins (the
        promotion claim, kept originals), and the key never exists without its content,
        even when the process is killed half-way. Where hard links are not supported,
        O_EXCL still gives the one winner, and a failed write removes the empty file.
        """
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, self._file_mode)
            try:
                os.link(tmp, target)
            except FileExistsError:
                return False
            except OSError:  # no hard links on this file system
                return self._create_exclusive(target, data)
            return True
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _create_exclusive(self, target: Path, data: bytes) -> bool:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self._file_mode)
        except FileExistsError:
            return False
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            # An empty claim would wedge every later promotion: never leave one behind.
            target.unlink(missing_ok=True)
            raise
        return True

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{self.uri(key)} does not exist") from exc
        except IsADirectoryError as exc:
            raise ObjectNotFound(f"{self.uri(key)} is a folder, not an object") from exc
        except OSError as exc:  # an unmounted or failing disk: retried, not a verdict
            raise LakeUnavailable(f"cannot read {self.uri(key)} from the lake: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        """The object's length in bytes, from the file system (nothing is read)."""
        path = self._path(key)
        if not path.is_file():
            what = "is a folder, not an object" if path.is_dir() else "does not exist"
            raise ObjectNotFound(f"{self.uri(key)} {what}")
        return path.stat().st_size

    def modified(self, key: str) -> datetime:
        """When ``key`` was last written (UTC): a landing's time, for order and age."""
        try:
            return datetime.fromtimestamp(self._path(key).stat().st_mtime, UTC)
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"{self.uri(key)} does not exist") from exc

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix`` as a plain string, as S3 lists them.

        ``"batches/"`` is everything under that folder; ``"batches"`` also matches
        ``batches2/...`` and a key named ``batches``.
        """
        prefix = _clean_prefix(prefix)
        folder, _, stem = prefix.rpartition("/")
        start = self.path / folder if folder else self.path
        if not start.is_dir():
            return []
        keys: list[str] = []
        for entry in start.iterdir():
            if not entry.name.startswith(stem):
                continue
            paths = entry.rglob("*") if entry.is_dir() else [entry]
            for path in paths:
                # Dot files are the half-written temporaries of write_bytes.
                if path.is_file() and not path.name.startswith("."):
                    keys.append(path.relative_to(self.path).as_posix())
        return sorted(keys)

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()


class S3Storage(_FrameMixin):
    """The lake under ``s3://bucket/prefix`` through boto3.

    Every failure names the operation, the object and the endpoint: an outage (no answer,
    a 5xx) is :class:`~retrainer.errors.LakeUnavailable`, which the task retries.
    """

    def __init__(
        self, bucket: str, prefix: str = "", *, client: Any = None, endpoint_url: str | None = None
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.root = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._bucket_checked = False

    def _key(self, key: str) -> str:
        key = _clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @property
    def endpoint(self) -> str:
        return str(getattr(getattr(self.client, "meta", None), "endpoint_url", None) or "AWS S3")

    def _failure(self, operation: str, target: str, exc: Exception) -> StorageError:
        """The error for ``operation`` on ``target`` (an s3:// URI) that raised ``exc``."""
        from botocore.exceptions import ClientError

        from retrainer.outages import is_outage

        where = f"S3 {operation} of {target} at endpoint {self.endpoint}"
        if not isinstance(exc, ClientError):  # no answer at all (connection, timeout)
            return LakeUnavailable(f"{where} failed, the endpoint did not answer: {exc}")
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        answer = f"{error.get('Code', '?')} (HTTP {status}): {error.get('Message', '')}".rstrip()
        if is_outage(exc):
            return LakeUnavailable(f"{where} failed, the endpoint is unavailable: {answer}")
        if str(error.get("Code")) in {"AccessDenied", "403", "InvalidAccessKeyId"}:
            return StorageError(
                f"{where} was refused: {answer}; check the credentials and the bucket policy"
            )
        return StorageError(f"{where} failed: {answer}")

    def _check_bucket(self) -> None:
        if self._bucket_checked:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchBucket", "NotFound"}:
                raise BucketNotFound(
                    f"S3 bucket {self.bucket!r} of storage root {self.root} does not exist "
                    f"at endpoint {self.endpoint}; create it first (compose creates it in "
                    "MinIO at start)"
                ) from exc
            raise self._failure("head_bucket", f"s3://{self.bucket}", exc) from exc
        except BotoCoreError as exc:
            raise self._failure("head_bucket", f"s3://{self.bucket}", exc) from exc
        self._bucket_checked = True

    def write_bytes(self, key: str, data: bytes) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        self._check_bucket()
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise self._failure("put_object", self.uri(key), exc) from exc
        return self.uri(key)

    def create_new(self, key: str, data: bytes) -> bool:
        """Write ``key`` only if it does not exist yet (S3 conditional write, If-None-Match)."""
        from botocore.exceptions import BotoCoreError, ClientError

        self._check_bucket()
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"PreconditionFailed", "412"}:
                return False
            raise self._failure("conditional put_object", self.uri(key), exc) from exc
        except BotoCoreError as exc:
            raise self._failure("conditional put_object", self.uri(key), exc) from exc
        return True

    def read_bytes(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        self._check_bucket()
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return bytes(response["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise ObjectNotFound(f"{self.uri(key)} does not exist") from exc
            raise self._failure("get_object", self.uri(key), exc) from exc
        except BotoCoreError as exc:
            raise self._failure("get_object", self.uri(key), exc) from exc

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except ObjectNotFound:
            return False
        return True

    def _head(self, key: str) -> dict[str, Any]:
        """The object's metadata from a HEAD request (the body is not fetched)."""
        from botocore.exceptions import BotoCoreError, ClientError

        self._check_bucket()
        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise ObjectNotFound(f"{self.uri(key)} does not exist") from exc
            raise self._failure("head_object", self.uri(key), exc) from exc
        except BotoCoreError as exc:
            raise self._failure("head_object", self.uri(key), exc) from exc

    def size(self, key: str) -> int:
        """The object's length in bytes."""
        return int(self._head(key)["ContentLength"])

    def modified(self, key: str) -> datetime:
        """When ``key`` was last written (UTC, S3's Last-Modified)."""
        modified: datetime = self._head(key)["LastModified"]  # botocore parses it
        return modified.astimezone(UTC)

    def list(self, prefix: str = "") -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        self._check_bucket()
        # _clean_prefix keeps a trailing "/", so "batches/" does not also list "batches2/...".
        prefix = _clean_prefix(prefix)
        base = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base + prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][len(base) :]
                    if key and not key.endswith("/"):  # skip folder markers other tools leave
                        keys.append(key)
        except (BotoCoreError, ClientError) as exc:
            target = f"s3://{self.bucket}/{base}{prefix}"
            raise self._failure("list_objects_v2", target, exc) from exc
        return sorted(keys)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"


def open_storage(root: str, *, endpoint_url: str | None = None) -> LocalStorage | S3Storage:
    """Open the lake at ``root``: a folder path, ``file://...`` or ``s3://bucket/prefix``."""
    parsed = urlparse(root)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise StorageError(f"storage root {root!r} names no bucket")
        return S3Storage(parsed.netloc, parsed.path, endpoint_url=endpoint_url)
    if parsed.scheme == "file":
        if parsed.netloc not in {"", "localhost"}:
            raise StorageError(
                f"storage root {root!r} names host {parsed.netloc!r}: "
                "a file:// root is a local absolute path (file:///path/to/lake)"
            )
        # LocalStorage.root is Path.as_uri(), which percent-encodes (a space is %20).
        return LocalStorage(url2pathname(parsed.path))
    if parsed.scheme in {"", None} or len(parsed.scheme) == 1:  # plain path (or C:\ style)
        return LocalStorage(root)
    raise StorageError(f"unsupported storage root {root!r}: use a folder, file:// or s3://")
