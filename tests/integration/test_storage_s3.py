"""The lake on S3 through boto3, against moto's S3 server over real HTTP."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from retrainer.errors import BucketNotFound, ObjectNotFound
from retrainer.storage import S3Storage, open_storage

pytestmark = pytest.mark.integration


@pytest.fixture()
def bucket(moto_s3) -> str:  # type: ignore[no-untyped-def]
    name = f"lake-{uuid.uuid4().hex[:8]}"
    moto_s3.client().create_bucket(Bucket=name)
    return name


def test_write_read_list_exists(moto_s3, bucket: str) -> None:  # type: ignore[no-untyped-def]
    lake = S3Storage(bucket, "", endpoint_url=moto_s3.endpoint_url)
    assert lake.write_bytes("incoming/m/b1.csv", b"a\n1\n") == f"s3://{bucket}/incoming/m/b1.csv"
    lake.write_bytes("incoming/m/b2.csv", b"a\n2\n")
    assert lake.read_bytes("incoming/m/b1.csv") == b"a\n1\n"
    assert lake.exists("incoming/m/b2.csv") and not lake.exists("incoming/m/b3.csv")
    assert lake.list("incoming/m/") == ["incoming/m/b1.csv", "incoming/m/b2.csv"]


def test_rerun_overwrites_instead_of_duplicating(moto_s3, bucket: str) -> None:  # type: ignore[no-untyped-def]
    lake = S3Storage(bucket, "", endpoint_url=moto_s3.endpoint_url)
    lake.write_json("reports/m/b/drift.json", {"run": 1})
    lake.write_json("reports/m/b/drift.json", {"run": 2})
    assert lake.list("reports/") == ["reports/m/b/drift.json"]
    assert lake.read_json("reports/m/b/drift.json") == {"run": 2}
    versions = moto_s3.client().list_objects_v2(Bucket=bucket)["KeyCount"]
    assert versions == 1


def test_prefix_keeps_keys_relative_and_frames_round_trip(moto_s3, bucket: str) -> None:  # type: ignore[no-untyped-def]
    lake = open_storage(f"s3://{bucket}/team/lake", endpoint_url=moto_s3.endpoint_url)
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    uri = lake.write_frame("batches/m/b/data.parquet", frame)
    assert uri == f"s3://{bucket}/team/lake/batches/m/b/data.parquet"
    assert lake.list() == ["batches/m/b/data.parquet"]
    pd.testing.assert_frame_equal(lake.read_frame("batches/m/b/data.parquet"), frame)
    raw = moto_s3.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in raw] == ["team/lake/batches/m/b/data.parquet"]


def test_missing_key_and_missing_bucket_are_clear(moto_s3, bucket: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ObjectNotFound, match=f"s3://{bucket}/nope.csv"):
        S3Storage(bucket, "", endpoint_url=moto_s3.endpoint_url).read_bytes("nope.csv")
    with pytest.raises(BucketNotFound, match="no-such-bucket"):
        S3Storage("no-such-bucket", "", endpoint_url=moto_s3.endpoint_url).write_bytes("k", b"x")
