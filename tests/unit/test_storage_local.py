"""The lake on a local folder."""

from __future__ import annotations

import pandas as pd
import pytest

from retrainer.errors import ObjectNotFound, StorageError
from retrainer.storage import LocalStorage, S3Storage, open_storage

pytestmark = pytest.mark.unit


def test_write_read_list_exists(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lake = LocalStorage(tmp_path)
    uri = lake.write_bytes("incoming/m/b1.csv", b"a,b\n1,2\n")
    assert uri == (tmp_path / "incoming/m/b1.csv").as_uri()
    assert lake.read_bytes("incoming/m/b1.csv") == b"a,b\n1,2\n"
    assert lake.exists("incoming/m/b1.csv") and not lake.exists("incoming/m/b2.csv")
    lake.write_bytes("incoming/m/b2.csv", b"x")
    lake.write_bytes("batches/m/b1/data.parquet", b"y")
    assert lake.list("incoming/m/") == ["incoming/m/b1.csv", "incoming/m/b2.csv"]
    assert lake.list() == ["batches/m/b1/data.parquet", "incoming/m/b1.csv", "incoming/m/b2.csv"]
    assert lake.list("nothing/") == []


def test_rerun_overwrites_instead_of_duplicating(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lake = LocalStorage(tmp_path)
    lake.write_json("reports/m/b1/drift.json", {"run": 1})
    lake.write_json("reports/m/b1/drift.json", {"run": 2})
    assert lake.list("reports/") == ["reports/m/b1/drift.json"]
    assert lake.read_json("reports/m/b1/drift.json") == {"run": 2}


def test_frames_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lake = LocalStorage(tmp_path)
    frame = pd.DataFrame({"x": [1.5, 2.5], "s": ["a", "b"]})
    lake.write_frame("batches/m/b/data.parquet", frame)
    pd.testing.assert_frame_equal(lake.read_frame("batches/m/b/data.parquet"), frame)


def test_missing_key_names_uri(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ObjectNotFound, match=r"incoming/m/none\.csv"):
        LocalStorage(tmp_path).read_bytes("incoming/m/none.csv")


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "a/../../b", ""])
def test_keys_cannot_escape_the_lake(tmp_path, key: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StorageError, match="invalid lake key"):
        LocalStorage(tmp_path).write_bytes(key, b"x")


def test_open_storage_by_root(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(open_storage(str(tmp_path)), LocalStorage)
    assert isinstance(open_storage(tmp_path.as_uri()), LocalStorage)
    assert isinstance(
        open_storage("s3://bucket/prefix", endpoint_url="http://127.0.0.1:1"), S3Storage
    )
    with pytest.raises(StorageError, match="unsupported storage root"):
        open_storage("ftp://host/x")
    with pytest.raises(StorageError, match="names no bucket"):
        open_storage("s3:///x")
