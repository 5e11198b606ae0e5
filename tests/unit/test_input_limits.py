"""A file over the size or width limit is refused before it is read, and nothing is lost.

``validation.max_batch_bytes`` stops ``land_file`` before it copies a byte and blocks a
batch that reached ``incoming/`` anyway (an S3 put) without reading it;
``validation.max_columns`` blocks a batch from its header, before its rows are parsed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from retrainer.config import ModelConfig
from retrainer.errors import InputDataError, ObjectNotFound, ValidationFailed
from retrainer.lake import land_file, quarantined_ids
from retrainer.limits import describe_bytes
from retrainer.storage import LocalStorage
from retrainer.validation import build_suite_spec, validate_batch, validate_labels

pytestmark = pytest.mark.unit


def _config(**validation: Any) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": "sensors",
            "data": {"id_column": "rid"},
            "numeric_features": ["x"],
            "categorical_features": ["kind"],
            "target": {"column": "y"},
            "validation": validation,
        }
    )


def _frame(n: int = 200) -> pd.DataFrame:
    return pd.DataFrame(
        {"rid": np.arange(n), "x": np.linspace(0, 10, n), "kind": ["a", "b"] * (n // 2), "y": 0}
    )


def _lake_files(lake: Path) -> list[Path]:
    """Every file under the lake folder, temporaries (dot files) included."""
    return sorted(p for p in lake.rglob("*") if p.is_file())


def test_the_defaults_are_2_gib_and_2000_columns() -> None:
    limits = _config().validation
    assert limits.max_batch_bytes == 2 * 1024**3
    assert limits.max_columns == 2000
    assert describe_bytes(limits.max_batch_bytes) == "2,147,483,648 bytes (2.0 GiB)"


def test_limits_must_be_positive_and_leave_room_for_the_models_columns() -> None:
    with pytest.raises(ValidationError, match="max_batch_bytes"):
        _config(max_batch_bytes=0)
    with pytest.raises(ValidationError, match="max_columns"):
        _config(max_columns=0)
    with pytest.raises(ValidationError, match="max_columns 3 is below the 4 columns"):
        _config(max_columns=3)


def test_land_refuses_a_file_over_the_limit_before_copying(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    storage = LocalStorage(lake)
    big = tmp_path / "big.csv"
    _frame(200).to_csv(big, index=False)
    size = big.stat().st_size
    assert size > 1024

    with pytest.raises(InputDataError) as err:
        land_file(storage, "sensors", big, "b1", max_bytes=1024)
    message = str(err.value)
    assert str(big) in message
    assert f"{size:,} bytes" in message and "1,024 bytes" in message
    assert "validation.max_batch_bytes" in message
    assert _lake_files(lake) == []  # nothing written, not even a temporary
    assert big.stat().st_size == size  # the producer's file is untouched

    small = tmp_path / "small.csv"
    _frame(10).to_csv(small, index=False)
    assert land_file(storage, "sensors", small, "b2", max_bytes=1024) == "incoming/sensors/b2.csv"


def test_local_size_reads_the_file_system_not_the_object(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("incoming/m/b.csv", b"x\n" * 500)
    assert storage.size("incoming/m/b.csv") == 1000
    with pytest.raises(ObjectNotFound, match="does not exist"):
        storage.size("incoming/m/none.csv")
    with pytest.raises(ObjectNotFound, match="is a folder"):
        storage.size("incoming/m")


def test_a_batch_over_the_size_limit_is_quarantined_unread(tmp_path: Path) -> None:
    """Landed by another tool (an S3 put): validation blocks it from its size alone."""
    config = _config(max_batch_bytes=1024)
    spec = build_suite_spec(_frame(), config)
    storage = LocalStorage(tmp_path)
    original = _frame(200).to_csv(index=False).encode()
    storage.write_bytes("incoming/sensors/big.csv", original)

    with pytest.raises(ValidationFailed) as err:
        validate_batch(storage, config, "big", "incoming/sensors/big.csv", spec)
    assert err.value.failed_checks[0].startswith("batch_size (")
    assert f"{len(original):,} bytes" in str(err.value) and "1,024 bytes" in str(err.value)

    evidence = storage.read_json("quarantine/sensors/big/validation_result.json")["retrainer"]
    (check,) = evidence["failed_checks"]
    assert check["check"] == "batch_size"
    assert f"{len(original):,} bytes" in check["detail"] and "max_batch_bytes" in check["detail"]
    summary = storage.read_bytes("quarantine/sensors/big/summary.txt").decode()
    assert "batch_size" in summary and "incoming/sensors/big.csv" in summary
    # Too big to read is too big to copy: the evidence points at the original, kept as it was.
    assert not storage.exists("quarantine/sensors/big/big.csv")
    assert storage.read_bytes("incoming/sensors/big.csv") == original
    assert quarantined_ids(storage, "sensors")[0] == {"big"}
    assert not storage.exists("batches/sensors/big/data.parquet")


def _wide(columns: int) -> pd.DataFrame:
    extra = pd.DataFrame(np.zeros((40, columns - 4)), columns=[f"c{i}" for i in range(columns - 4)])
    return pd.concat([_frame(40), extra], axis=1)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_batch_over_the_column_limit_is_quarantined_from_its_header(
    tmp_path: Path, suffix: str
) -> None:
    config = _config(max_columns=100)
    spec = build_suite_spec(_frame(), config)
    storage = LocalStorage(tmp_path)
    wide = _wide(3_000)
    path = tmp_path / f"wide{suffix}"
    if suffix == ".csv":
        wide.to_csv(path, index=False)
    else:
        wide.to_parquet(path, index=False)
    original = path.read_bytes()
    key = land_file(storage, "sensors", path, "wide")

    with pytest.raises(ValidationFailed) as err:
        validate_batch(storage, config, "wide", key, spec)
    assert err.value.failed_checks == [
        "column_count (3,000 columns, over the limit validation.max_columns = 100; rows not read)"
    ]
    evidence = storage.read_json("quarantine/sensors/wide/validation_result.json")["retrainer"]
    assert [c["check"] for c in evidence["failed_checks"]] == ["column_count"]
    summary = storage.read_bytes("quarantine/sensors/wide/summary.txt").decode()
    assert "3,000 columns" in summary and "c2999" not in summary  # counts, not 3,000 names
    assert len(summary) < 1_000
    assert storage.read_bytes(f"quarantine/sensors/wide/wide{suffix}") == original
    assert storage.read_bytes(key) == original


def test_labels_files_have_the_same_limits(tmp_path: Path) -> None:
    config = _config(max_batch_bytes=1024)
    spec = build_suite_spec(_frame(), config)
    storage = LocalStorage(tmp_path)
    labels = _frame(300)[["rid", "y"]].to_csv(index=False).encode()
    storage.write_bytes("incoming/sensors/labels/l1.csv", labels)
    with pytest.raises(ValidationFailed, match="batch_size"):
        validate_labels(storage, config, "l1", "incoming/sensors/labels/l1.csv", spec)
    assert storage.exists("quarantine/sensors/labels-l1/validation_result.json")
    assert storage.read_bytes("incoming/sensors/labels/l1.csv") == labels
