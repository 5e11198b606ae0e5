"""The lake on a local folder, and how a storage root string is opened."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from retrainer.errors import ObjectNotFound, StorageError
from retrainer.storage import LocalStorage, S3Storage, open_storage

pytestmark = pytest.mark.unit


def test_write_read_exists(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path)
    assert lake.root == tmp_path.resolve().as_uri()
    uri = lake.write_bytes("incoming/m/b1.csv", b"a,b\n1,2\n")
    assert uri == (tmp_path / "incoming/m/b1.csv").resolve().as_uri()
    assert uri == lake.uri("incoming/m/b1.csv")
    assert (tmp_path / "incoming/m/b1.csv").read_bytes() == b"a,b\n1,2\n"
    assert lake.read_bytes("incoming/m/b1.csv") == b"a,b\n1,2\n"
    assert lake.exists("incoming/m/b1.csv")
    assert not lake.exists("incoming/m/b2.csv")
    assert not lake.exists("incoming/m")  # a folder is not an object


def test_written_files_are_readable_by_others_under_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        lake = LocalStorage(tmp_path)
        lake.write_bytes("reports/m/b/drift.json", b"{}")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "reports/m/b/drift.json").stat().st_mode)
    assert mode == 0o644


def test_rerun_overwrites_instead_of_duplicating(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path)
    lake.write_json("reports/m/b1/drift.json", {"run": 1})
    lake.write_json("reports/m/b1/drift.json", {"run": 2})
    assert lake.list() == ["reports/m/b1/drift.json"]
    assert lake.read_json("reports/m/b1/drift.json") == {"run": 2}
    # Nothing left behind by the write-then-rename either.
    assert sorted(p.name for p in (tmp_path / "reports/m/b1").iterdir()) == ["drift.json"]


def test_list_by_prefix(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path)
    for key in (
        "incoming/m/b1.csv",
        "incoming/m/b2.csv",
        "incoming/m2/b1.csv",
        "batches/m/b1/data.parquet",
    ):
        lake.write_bytes(key, b"x")
    assert lake.list() == [
        "batches/m/b1/data.parquet",
        "incoming/m/b1.csv",
        "incoming/m/b2.csv",
        "incoming/m2/b1.csv",
    ]
    # A trailing "/" is that folder; without it the prefix is a plain string, as on S3.
    assert lake.list("incoming/m/") == ["incoming/m/b1.csv", "incoming/m/b2.csv"]
    assert lake.list("incoming/m") == [
        "incoming/m/b1.csv",
        "incoming/m/b2.csv",
        "incoming/m2/b1.csv",
    ]
    assert lake.list("incoming/m/b2") == ["incoming/m/b2.csv"]
    assert lake.list("incoming/m/b1.csv") == ["incoming/m/b1.csv"]
    assert lake.list("batches/") == ["batches/m/b1/data.parquet"]
    assert lake.list("nothing/") == []
    assert lake.list("nothing/deeper/") == []


def test_list_of_an_empty_or_missing_lake(tmp_path: Path) -> None:
    assert LocalStorage(tmp_path).list() == []
    assert LocalStorage(tmp_path / "not-created-yet").list() == []


def test_frames_round_trip(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path)
    frame = pd.DataFrame({"x": [1.5, 2.5, None], "n": [1, 2, 3], "s": ["a", "b", None]})
    uri = lake.write_frame("batches/m/b/data.parquet", frame)
    assert uri == lake.uri("batches/m/b/data.parquet")
    pd.testing.assert_frame_equal(lake.read_frame("batches/m/b/data.parquet"), frame)
    # It is real Parquet, readable without the lake.
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "batches/m/b/data.parquet"), frame)


def test_json_round_trip(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path)
    payload = {"model": "m", "psi": {"x": 0.12}, "columns": ["x", "n"], "ok": True, "none": None}
    lake.write_json("ledger/m/20260101T000000-promote.json", payload)
    assert lake.read_json("ledger/m/20260101T000000-promote.json") == payload


def test_missing_key_raises_object_not_found_with_uri(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path)
    uri = lake.uri("incoming/m/none.csv")
    with pytest.raises(ObjectNotFound, match="does not exist") as info:
        lake.read_bytes("incoming/m/none.csv")
    assert uri in str(info.value)
    assert isinstance(info.value, StorageError)
    with pytest.raises(ObjectNotFound):
        lake.read_frame("batches/m/none/data.parquet")
    lake.write_bytes("incoming/m/real.csv", b"x")
    with pytest.raises(ObjectNotFound, match="is a folder"):
        lake.read_bytes("incoming/m")


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "a/../../b", "a/..", "", ".", "./"])
def test_keys_cannot_escape_the_lake(tmp_path: Path, key: str) -> None:
    lake = LocalStorage(tmp_path / "lake")
    with pytest.raises(StorageError, match="invalid lake key"):
        lake.write_bytes(key, b"x")
    with pytest.raises(StorageError, match="invalid lake key"):
        lake.read_bytes(key)
    with pytest.raises(StorageError, match="invalid lake key"):
        lake.exists(key)
    assert not any(tmp_path.rglob("*.*")) and not (tmp_path / "escape").exists()


@pytest.mark.parametrize("prefix", ["../", "/etc/", "a/../../b"])
def test_list_prefix_cannot_escape_the_lake(tmp_path: Path, prefix: str) -> None:
    (tmp_path / "outside.txt").write_bytes(b"x")
    lake = LocalStorage(tmp_path / "lake")
    lake.write_bytes("k", b"x")
    with pytest.raises(StorageError, match="invalid lake key"):
        lake.list(prefix)


def test_keys_are_normalised(tmp_path: Path) -> None:
    lake = LocalStorage(tmp_path)
    lake.write_bytes("./incoming//m/./b.csv", b"x")
    assert lake.list() == ["incoming/m/b.csv"]
    assert lake.read_bytes("incoming/m/b.csv") == b"x"


def test_open_storage_plain_path(tmp_path: Path) -> None:
    lake = open_storage(str(tmp_path))
    assert isinstance(lake, LocalStorage)
    assert lake.path == tmp_path.resolve()


def test_open_storage_file_uri_round_trips_root(tmp_path: Path) -> None:
    folder = tmp_path / "my lake"  # as_uri() percent-encodes the space
    first = LocalStorage(folder)
    first.write_bytes("incoming/m/b.csv", b"x")
    again = open_storage(first.root)
    assert isinstance(again, LocalStorage)
    assert again.path == folder.resolve()
    assert again.read_bytes("incoming/m/b.csv") == b"x"
    assert isinstance(open_storage(f"file://localhost{folder}"), LocalStorage)


def test_open_storage_s3_root_is_s3_storage() -> None:
    lake = open_storage("s3://bucket/some/prefix", endpoint_url="http://127.0.0.1:1")
    assert isinstance(lake, S3Storage)
    assert (lake.bucket, lake.prefix, lake.root) == (
        "bucket",
        "some/prefix",
        "s3://bucket/some/prefix",
    )
    assert lake.uri("a/b.json") == "s3://bucket/some/prefix/a/b.json"


@pytest.mark.parametrize(
    ("root", "message"),
    [
        ("ftp://host/x", "unsupported storage root 'ftp://host/x'"),
        ("gs://bucket/x", "unsupported storage root"),
        ("s3:///x", "names no bucket"),
        ("file://otherhost/x", "names host 'otherhost'"),
    ],
)
def test_open_storage_refuses_roots_it_cannot_open(root: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        open_storage(root)
