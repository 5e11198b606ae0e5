"""The lake on S3 through boto3, against moto's S3 server over real HTTP."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from retrainer.errors import BucketNotFound, ObjectNotFound, StorageError
from retrainer.storage import S3Storage, open_storage

if TYPE_CHECKING:  # the fixture's type only; pytest imports conftest itself
    from .conftest import S3Server

pytestmark = pytest.mark.integration


@pytest.fixture()
def bucket(moto_s3: S3Server) -> str:
    """A fresh, empty bucket per test (the server lives for the whole session)."""
    name = f"lake-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=name)
    return name


def _raw_keys(moto_s3: S3Server, bucket: str) -> list[str]:
    response = moto_s3.client().list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in response.get("Contents", []))


def test_write_read_list_exists(moto_s3: S3Server, bucket: str) -> None:
    lake = S3Storage(bucket, endpoint_url=moto_s3.endpoint_url)
    assert lake.root == f"s3://{bucket}"
    assert lake.write_bytes("incoming/m/b1.csv", b"a\n1\n") == f"s3://{bucket}/incoming/m/b1.csv"
    lake.write_bytes("incoming/m/b2.csv", b"a\n2\n")
    lake.write_bytes("incoming/m2/b1.csv", b"a\n3\n")

    assert lake.read_bytes("incoming/m/b1.csv") == b"a\n1\n"
    assert lake.exists("incoming/m/b2.csv")
    assert not lake.exists("incoming/m/b3.csv")
    assert not lake.exists("incoming/m")  # a "folder" is not an object

    assert lake.list() == ["incoming/m/b1.csv", "incoming/m/b2.csv", "incoming/m2/b1.csv"]
    # A trailing "/" limits the listing to that folder; without it the prefix is a string.
    assert lake.list("incoming/m/") == ["incoming/m/b1.csv", "incoming/m/b2.csv"]
    assert lake.list("incoming/m") == lake.list()
    assert lake.list("incoming/m/b2") == ["incoming/m/b2.csv"]
    assert lake.list("nothing/") == []


def test_rerun_overwrites_instead_of_duplicating(moto_s3: S3Server, bucket: str) -> None:
    lake = S3Storage(bucket, endpoint_url=moto_s3.endpoint_url)
    lake.write_json("reports/m/b/drift.json", {"run": 1})
    lake.write_json("reports/m/b/drift.json", {"run": 2})

    assert lake.list("reports/") == ["reports/m/b/drift.json"]
    assert lake.read_json("reports/m/b/drift.json") == {"run": 2}
    assert _raw_keys(moto_s3, bucket) == ["reports/m/b/drift.json"]


def test_frames_and_json_round_trip(moto_s3: S3Server, bucket: str) -> None:
    lake = S3Storage(bucket, endpoint_url=moto_s3.endpoint_url)
    frame = pd.DataFrame({"x": [1.0, 2.5, None], "n": [1, 2, 3], "s": ["a", "b", None]})
    lake.write_frame("batches/m/b/data.parquet", frame)
    pd.testing.assert_frame_equal(lake.read_frame("batches/m/b/data.parquet"), frame)

    payload = {"model": "m", "psi": {"x": 0.12}, "columns": ["x", "n"], "ok": True}
    lake.write_json("reports/m/b/drift.json", payload)
    assert lake.read_json("reports/m/b/drift.json") == payload


def test_prefix_keeps_keys_relative(moto_s3: S3Server, bucket: str) -> None:
    lake = S3Storage(bucket, "/some/prefix/", endpoint_url=moto_s3.endpoint_url)
    assert lake.root == f"s3://{bucket}/some/prefix"
    uri = lake.write_bytes("batches/m/b/data.parquet", b"x")
    assert uri == f"s3://{bucket}/some/prefix/batches/m/b/data.parquet"
    # An object beside the prefix (a sibling whose name merely starts the same) is not ours.
    moto_s3.client().put_object(Bucket=bucket, Key="some/prefix-other/k", Body=b"y")
    moto_s3.client().put_object(Bucket=bucket, Key="elsewhere/k", Body=b"z")

    assert lake.list() == ["batches/m/b/data.parquet"]
    assert lake.list("batches/") == ["batches/m/b/data.parquet"]
    assert lake.read_bytes("batches/m/b/data.parquet") == b"x"
    assert lake.exists("batches/m/b/data.parquet")
    assert not lake.exists("k")
    assert _raw_keys(moto_s3, bucket) == [
        "elsewhere/k",
        "some/prefix-other/k",
        "some/prefix/batches/m/b/data.parquet",
    ]


def test_missing_key_raises_object_not_found(moto_s3: S3Server, bucket: str) -> None:
    lake = S3Storage(bucket, "pre", endpoint_url=moto_s3.endpoint_url)
    with pytest.raises(ObjectNotFound, match=f"s3://{bucket}/pre/incoming/m/nope.csv"):
        lake.read_bytes("incoming/m/nope.csv")
    with pytest.raises(ObjectNotFound):
        lake.read_frame("batches/m/nope/data.parquet")


def test_missing_bucket_raises_bucket_not_found(moto_s3: S3Server) -> None:
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    lake = S3Storage(missing, "lake", endpoint_url=moto_s3.endpoint_url)
    for action in (
        lambda: lake.write_bytes("k", b"x"),
        lambda: lake.read_bytes("k"),
        lambda: lake.exists("k"),
        lambda: lake.list(),
    ):
        with pytest.raises(BucketNotFound, match=missing) as info:
            action()
        assert isinstance(info.value, StorageError)
    # Failing is all it does: no bucket is created on the way.
    names = [b["Name"] for b in moto_s3.client().list_buckets().get("Buckets", [])]
    assert missing not in names


def test_invalid_keys_are_refused_before_any_request(moto_s3: S3Server, bucket: str) -> None:
    lake = S3Storage(bucket, "lake", endpoint_url=moto_s3.endpoint_url)
    for key in ("../escape", "/abs", "a/../../b", ""):
        with pytest.raises(StorageError, match="invalid lake key"):
            lake.write_bytes(key, b"x")
    assert _raw_keys(moto_s3, bucket) == []


def test_open_storage_s3_root(moto_s3: S3Server, bucket: str) -> None:
    lake = open_storage(f"s3://{bucket}/team/lake", endpoint_url=moto_s3.endpoint_url)
    assert isinstance(lake, S3Storage)
    assert (lake.bucket, lake.prefix, lake.root) == (
        bucket,
        "team/lake",
        f"s3://{bucket}/team/lake",
    )

    frame = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    assert lake.write_frame("batches/m/b/data.parquet", frame) == (
        f"s3://{bucket}/team/lake/batches/m/b/data.parquet"
    )
    # A second handle on the same root sees the same objects.
    again = open_storage(f"s3://{bucket}/team/lake/", endpoint_url=moto_s3.endpoint_url)
    assert again.list() == ["batches/m/b/data.parquet"]
    pd.testing.assert_frame_equal(again.read_frame("batches/m/b/data.parquet"), frame)
    assert _raw_keys(moto_s3, bucket) == ["team/lake/batches/m/b/data.parquet"]


def test_landing_is_append_only_on_s3(moto_s3: S3Server, bucket: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from retrainer.errors import LakeConflict
    from retrainer.lake import keep_accepted, keys, land_file

    lake = S3Storage(bucket, "lake", endpoint_url=moto_s3.endpoint_url)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_bytes(b"a\n1\n")
    second.write_bytes(b"a\n2\n")
    assert land_file(lake, "m", first, "p0") == "incoming/m/p0.csv"
    assert land_file(lake, "m", first, "p0") == "incoming/m/p0.csv"  # same bytes: a no-op
    with pytest.raises(LakeConflict, match=r"incoming/m/p0\.csv"):
        land_file(lake, "m", second, "p0")
    assert lake.read_bytes("incoming/m/p0.csv") == b"a\n1\n"

    key = keys.batch_data("m", "p0")
    keep_accepted(lake, key, pd.DataFrame({"a": [1]}))
    keep_accepted(lake, key, pd.DataFrame({"a": [1]}))
    with pytest.raises(LakeConflict, match="never replaced"):
        keep_accepted(lake, key, pd.DataFrame({"a": [2]}))
    assert lake.read_frame(key)["a"].tolist() == [1]


def test_size_is_the_objects_content_length(moto_s3: S3Server, bucket: str) -> None:
    lake = S3Storage(bucket, "lake", endpoint_url=moto_s3.endpoint_url)
    lake.write_bytes("incoming/m/b.csv", b"x\n" * 5_000)
    assert lake.size("incoming/m/b.csv") == 10_000
    with pytest.raises(ObjectNotFound, match=f"s3://{bucket}/lake/incoming/m/none.csv"):
        lake.size("incoming/m/none.csv")


def test_size_limits_hold_on_s3(moto_s3: S3Server, bucket: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Land refuses a too-big file with nothing written; one put there anyway is blocked unread."""
    from retrainer.config import ModelConfig
    from retrainer.errors import InputDataError, ValidationFailed
    from retrainer.lake import land_file
    from retrainer.validation import spec_from_config, validate_batch

    lake = S3Storage(bucket, "lake", endpoint_url=moto_s3.endpoint_url)
    big = tmp_path / "big.csv"
    big.write_bytes(b"x,y\n" + b"1.0,0\n" * 400)
    with pytest.raises(InputDataError, match=r"validation\.max_batch_bytes"):
        land_file(lake, "m", big, "big", max_bytes=1024)
    assert _raw_keys(moto_s3, bucket) == []

    moto_s3.client().put_object(Bucket=bucket, Key="lake/incoming/m/big.csv", Body=big.read_bytes())
    config = ModelConfig.model_validate(
        {
            "name": "m",
            "numeric_features": ["x"],
            "target": {"column": "y"},
            "validation": {"max_batch_bytes": 1024},
        }
    )
    with pytest.raises(ValidationFailed, match="batch_size"):
        validate_batch(lake, config, "big", "incoming/m/big.csv", spec_from_config(config))
    assert _raw_keys(moto_s3, bucket) == [
        "lake/incoming/m/big.csv",
        "lake/quarantine/m/big/summary.txt",
        "lake/quarantine/m/big/validation_result.json",
    ]


def test_an_unreachable_endpoint_names_endpoint_bucket_key_and_operation(
    moto_s3: S3Server,
) -> None:
    import socket

    from retrainer.errors import LakeUnavailable

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    lake = S3Storage("lake", endpoint_url=dead)
    with pytest.raises(LakeUnavailable) as raised:
        lake.read_bytes("batches/m/b1/data.parquet")
    message = str(raised.value)
    assert dead in message and "s3://lake" in message and "head_bucket" in message
    assert "did not answer" in message

    # Past the bucket check, the object and its operation are named.
    lake._bucket_checked = True
    with pytest.raises(
        LakeUnavailable, match=r"get_object of s3://lake/batches/m/b1/data\.parquet"
    ):
        lake.read_bytes("batches/m/b1/data.parquet")
    with pytest.raises(LakeUnavailable, match=rf"put_object of s3://lake/k at endpoint {dead}"):
        lake.write_bytes("k", b"x")
