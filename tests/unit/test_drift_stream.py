"""Streaming profiles: chunks, partitions and file formats agree with the in-memory profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retrainer.drift import (
    UNSEEN,
    CategoricalProfile,
    NumericProfile,
    Profile,
    build_reference_profile,
    merge_profiles,
    profile_batch,
    profile_file,
    profile_partition,
)

pytestmark = pytest.mark.unit


def _frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.3, 1.0, n)
    x[::97] = np.nan
    x[5] = np.inf
    k = rng.integers(0, 5, n).astype("float64")
    k[::50] = np.nan  # an int column with gaps reads back as float
    c = rng.choice(["a", "b", "c", "new"], n, p=[0.5, 0.3, 0.15, 0.05]).astype(object)
    c[::31] = None
    return pd.DataFrame({"x": x, "k": k, "c": c, "d": pd.Categorical(c)})


def _reference() -> Profile:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(0, 1, 4000),
            "k": rng.integers(0, 4, 4000),
            "c": rng.choice(["a", "b", "c"], 4000),
            "d": rng.choice(["a", "b", "c"], 4000),
        }
    )
    return build_reference_profile(frame, ["x", "k"], ["c", "d"])


def _assert_same(a: Profile, b: Profile) -> None:
    assert a.row_count == b.row_count
    for name, left in a.features.items():
        right = b.features[name]
        assert left.counts == right.counts, name
        assert left.missing == right.missing, name
        if isinstance(left, NumericProfile) and isinstance(right, NumericProfile):
            assert left.count == right.count
            assert left.total == pytest.approx(right.total, rel=1e-9)
            assert left.total_sq == pytest.approx(right.total_sq, rel=1e-9)
            assert left.tails == pytest.approx(right.tails, rel=1e-9)
            assert (left.min, left.max) == (right.min, right.max)


def test_parquet_row_groups_and_partitions_match_the_in_memory_profile(tmp_path: Path) -> None:
    reference = _reference()
    frame = _frame(1, 10_000)
    path = tmp_path / "batch.parquet"
    frame.to_parquet(path, index=False, row_group_size=1500)  # 7 row groups
    assert pq.ParquetFile(path).num_row_groups == 7
    whole = profile_batch(frame, reference)
    _assert_same(profile_file(path, reference, chunk_rows=1000), whole)
    parts = [profile_partition(path, reference, i, 3, chunk_rows=700) for i in range(3)]
    assert [p.row_count for p in parts] == [4000, 3000, 3000]  # groups 0,3,6 | 1,4 | 2,5
    _assert_same(merge_profiles(parts), whole)
    c = whole.features["c"]
    assert isinstance(c, CategoricalProfile) and c.counts[UNSEEN] > 0 and c.missing > 0
    # A partition with no row group is an empty profile, which merges as a no-op.
    assert profile_partition(path, reference, 9, 10).row_count == 0
    with pytest.raises(ValueError, match="does not exist"):
        profile_partition(path, reference, 3, 3)


def test_parquet_categoricals_stay_dictionary_encoded(tmp_path: Path) -> None:
    reference = _reference()
    frame = _frame(2, 3000)
    path = tmp_path / "batch.parquet"
    frame.to_parquet(path, index=False)
    from retrainer.drift.stream import iter_chunks

    batch = next(iter_chunks(path, reference))
    assert pa.types.is_dictionary(batch.schema.field("c").type)  # plain strings on disk
    assert pa.types.is_dictionary(batch.schema.field("d").type)  # a pandas Categorical
    assert set(batch.schema.names) == {"x", "k", "c", "d"}


def test_csv_in_blocks_matches_the_in_memory_profile(tmp_path: Path) -> None:
    reference = _reference()
    frame = _frame(3, 20_000).drop(columns=["d"])  # an absent column: all missing
    path = tmp_path / "batch.csv"
    frame.to_csv(path, index=False)
    # The CSV round trip spells the float column's integers "1.0": one category with "1".
    expected = profile_batch(pd.read_csv(path).assign(d=None), reference)
    streamed = profile_file(path, reference, chunk_rows=512)
    _assert_same(streamed, expected)
    assert streamed.features["d"].missing == 20_000
    parts = [profile_partition(path, reference, i, 2, chunk_rows=512) for i in range(2)]
    _assert_same(merge_profiles(parts), expected)


def test_unknown_file_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match=r"only \.parquet and \.csv"):
        profile_file(path, _reference())
