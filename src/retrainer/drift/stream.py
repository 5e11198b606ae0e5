"""Profile a batch file chunk by chunk, in memory bounded by the chunk, or one partition of it.

Parquet is read by row group (each partition a disjoint set of row groups, so mapped
tasks on different workers read only their share); categorical columns stay
dictionary-encoded, so only the distinct values are ever turned into strings. CSV is
read in blocks with fixed column types. Chunk and partition profiles merge exactly
(:func:`retrainer.drift.profile.merge_profiles`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retrainer.drift.build import categorical_profile, numeric_profile
from retrainer.drift.profile import (
    UNSEEN,
    CategoricalProfile,
    FeatureProfile,
    NumericProfile,
    Profile,
    merge_profiles,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["columns_of", "iter_chunks", "profile_arrow", "profile_file", "profile_partition"]

# About 64 MiB of float64 for 25 columns: large enough that per-chunk overhead vanishes.
CHUNK_ROWS = 262_144


def _format(source: str | Path) -> str:
    suffix = Path(str(source)).suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise ValueError(f"{source}: only .parquet and .csv batches can be profiled")


def columns_of(source: str | Path) -> list[str]:
    """The column names of a Parquet or CSV file, read from its schema or header only."""
    if _format(source) == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(str(source)).names)
    from pyarrow import csv

    with csv.open_csv(str(source)) as reader:
        return list(reader.schema.names)


def _parquet_file(source: str | Path, reference: Profile) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(str(source))
    # Only text columns can be read as dictionaries; others (int codes) are counted as is.
    text = [
        field.name
        for field in schema
        if isinstance(reference.features.get(field.name), CategoricalProfile)
        and (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
    ]
    return pq.ParquetFile(str(source), read_dictionary=text)


def iter_chunks(
    source: str | Path,
    reference: Profile,
    *,
    chunk_rows: int = CHUNK_ROWS,
    partition: tuple[int, int] = (0, 1),
) -> Iterator[pa.RecordBatch]:
    """Yield record batches of the reference's feature columns from a Parquet or CSV file.

    ``partition=(i, n)`` yields only partition ``i`` of ``n``: Parquet row groups
    ``i, i + n, ...``; CSV blocks likewise (CSV cannot seek by rows, so every partition
    still parses the file: convert large batches to Parquet to profile them in parallel).
    """
    index, parts = partition
    if not 0 <= index < parts:
        raise ValueError(f"partition {index} of {parts} does not exist")
    if _format(source) == "parquet":
        handle = _parquet_file(source, reference)
        present = set(handle.schema_arrow.names)
        columns = [n for n in reference.features if n in present]
        # One row group at a time: given them all, pyarrow pre-buffers every group's
        # column chunks (about the file's size: 1.2 GiB peak for 5M rows against 0.5 GiB).
        for group in range(index, handle.num_row_groups, parts):
            yield from handle.iter_batches(
                batch_size=chunk_rows, row_groups=[group], columns=columns
            )
        return
    yield from _csv_chunks(source, reference, chunk_rows, index, parts)


def _csv_chunks(
    source: str | Path, reference: Profile, chunk_rows: int, index: int, parts: int
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    from pyarrow import csv

    types = {
        n: pa.float64() if isinstance(p, NumericProfile) else pa.string()
        for n, p in reference.features.items()
    }
    # Types fixed up front: block-by-block inference could change a column's type midway.
    # An absent feature column comes back all-null, i.e. all missing.
    reader = csv.open_csv(
        str(source),
        read_options=csv.ReadOptions(block_size=max(chunk_rows * 64, 1 << 20)),
        convert_options=csv.ConvertOptions(
            column_types=types,
            include_columns=list(types),
            include_missing_columns=True,
            strings_can_be_null=True,  # an empty field is missing, as pandas reads it
        ),
    )
    for number, batch in enumerate(reader):
        if number % parts == index:
            yield batch


def _numeric_column(column: Any) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        # Nulls become NaN and so count as missing.
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    import pandas as pd

    # Text in a numeric feature: unparseable values count as missing, as with pandas.
    numbers = pd.to_numeric(column.to_pandas(), errors="coerce")
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def _categorical_column(column: Any, known: set[str]) -> CategoricalProfile:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        # Count the codes; only the distinct dictionary values ever become Python strings.
        indices = column.indices.to_numpy(zero_copy_only=False)
        if column.null_count:  # the code under a null is arbitrary
            indices = indices[column.is_valid().to_numpy(zero_copy_only=False)]
        codes = np.bincount(indices.astype(np.intp), minlength=len(column.dictionary))
        pairs = zip(column.dictionary.to_pylist(), codes.tolist(), strict=True)
        return categorical_profile(pairs, column.null_count, known)
    counted = pc.value_counts(column)
    values, counts = counted.field("values").to_pylist(), counted.field("counts").to_pylist()
    missing = sum(c for v, c in zip(values, counts, strict=True) if v is None)
    present = ((v, c) for v, c in zip(values, counts, strict=True) if v is not None)
    return categorical_profile(present, missing, known)


def profile_arrow(batch: pa.RecordBatch, reference: Profile) -> Profile:
    """Profile one Arrow record batch on the reference's bins and categories.

    Same rules as :func:`retrainer.drift.build.profile_batch`: NaN and null are missing,
    absent columns count as all-missing, unknown categories go to :data:`UNSEEN`.
    """
    names = set(batch.schema.names)
    n = batch.num_rows
    features: dict[str, FeatureProfile] = {}
    for name, ref in reference.features.items():
        column = batch.column(name) if name in names else None
        if isinstance(ref, NumericProfile):
            values = np.full(n, np.nan) if column is None else _numeric_column(column)
            features[name] = numeric_profile(values, ref.edges)
        else:
            known = set(ref.counts) - {UNSEEN}
            if column is None:
                features[name] = categorical_profile((), n, known)
            else:
                features[name] = _categorical_column(column, known)
    return Profile(features, n)


def profile_partition(
    source: str | Path,
    reference: Profile,
    partition_index: int = 0,
    n_partitions: int = 1,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> Profile:
    """Profile partition ``partition_index`` of ``n_partitions`` of a batch file.

    Memory is bounded by ``chunk_rows`` (and a Parquet row group): chunks are profiled
    and merged one at a time. The profiles of all partitions merge into the profile of
    the whole file, so mapped tasks can each take one and a final task merge them.
    """
    empty = Profile(
        {
            name: numeric_profile(np.empty(0), ref.edges)
            if isinstance(ref, NumericProfile)
            else categorical_profile((), 0, set(ref.counts) - {UNSEEN})
            for name, ref in reference.features.items()
        },
        0,
    )
    chunks = iter_chunks(
        source, reference, chunk_rows=chunk_rows, partition=(partition_index, n_partitions)
    )
    # A generator: each chunk is dropped as soon as its (tiny) profile is merged.
    return merge_profiles(
        itertools.chain([empty], (profile_arrow(chunk, reference) for chunk in chunks))
    )


def profile_file(
    source: str | Path, reference: Profile, *, chunk_rows: int = CHUNK_ROWS
) -> Profile:
    """Profile a whole Parquet or CSV batch file, chunk by chunk (see :func:`profile_partition`)."""
    return profile_partition(source, reference, 0, 1, chunk_rows=chunk_rows)
