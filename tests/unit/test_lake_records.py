"""The batch catalogue and the per-batch records on a local lake."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from retrainer.errors import InputDataError, ObjectNotFound
from retrainer.lake import (
    BatchMeta,
    LabelsState,
    MonitorRecord,
    PerformanceRecord,
    accepted_batches,
    accepted_ids,
    find_incoming,
    keys,
    labelled_ids,
    land_file,
    quarantined_ids,
    read_labels_state,
    read_meta,
    read_monitor,
    read_performance,
    read_trigger,
    write_labels_state,
    write_meta,
    write_monitor,
    write_performance,
)
from retrainer.storage import LocalStorage

pytestmark = pytest.mark.unit


def test_land_then_find_and_bad_ids_are_refused(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "lake")
    source = tmp_path / "p1.csv"
    pd.DataFrame({"x": [1, 2]}).to_csv(source, index=False)
    assert land_file(storage, "m", source) == "incoming/m/p1.csv"
    assert find_incoming(storage, "m", "p1") == "incoming/m/p1.csv"
    assert land_file(storage, "m", source, "p1", zone="labels") == "incoming/m/labels/p1.csv"
    with pytest.raises(ObjectNotFound, match="under incoming/m/"):
        find_incoming(storage, "m", "p2")
    with pytest.raises(InputDataError, match="not valid"):
        land_file(storage, "m", source, "../escape")


def test_records_read_back_as_written_and_absent_is_none(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert read_meta(storage, "m", "b1") is None and read_trigger(storage, "m", "b1") is None
    meta = BatchMeta("b1", "batches/m/b1/data.parquet", 10, "t", "s", "e", 8)
    write_meta(storage, "m", meta)
    assert read_meta(storage, "m", "b1") == meta
    record = PerformanceRecord("m", "b1", "3", 10, 8, realized={"accuracy": 0.9})
    write_performance(storage, record)
    assert read_performance(storage, "m", "b1") == record
    check = MonitorRecord("m", "b1", "3", True, 0.4, ["x"], "x drifted", {}, None, None, "t")
    write_monitor(storage, check)
    assert read_monitor(storage, "m", "b1") == check
    write_labels_state(storage, "m", "b1", LabelsState("abc", "t"))
    assert read_labels_state(storage, "m", "b1") == LabelsState("abc", "t")
    assert storage.read_json("reports/m/b1/labels-state.json") == {
        "labels_sha256": "abc",
        "at": "t",
    }


def test_older_records_get_defaults_and_their_ids_from_the_key(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_json(keys.batch_meta("m", "b1"), {"rows": 5, "end": "2020"})
    assert read_meta(storage, "m", "b1") == BatchMeta("b1", rows=5, end="2020", labelled_rows=5)
    storage.write_json(keys.report("m", "b1", keys.MONITOR), {"drift": True, "new_field": 1})
    assert read_monitor(storage, "m", "b1") == MonitorRecord("m", "b1", drift=True)


def test_catalogue_lists_batches_by_outcome(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    write_meta(storage, "m", BatchMeta("new", end="2021"))
    write_meta(storage, "m", BatchMeta("old", end="2020"))
    write_meta(storage, "m2", BatchMeta("other"))
    storage.write_json("quarantine/m/bad/validation_result.json", {})
    storage.write_json("quarantine/m/new/validation_result.json", {})
    storage.write_bytes("quarantine/m/new/rows.parquet", b"rows")
    storage.write_json("quarantine/m/labels-new/validation_result.json", {})
    storage.write_bytes("labels/m/old.parquet", b"labels")
    assert [m.batch_id for m in accepted_batches(storage, "m")] == ["old", "new"]
    assert accepted_ids(storage, "m") == {"old", "new"}
    assert quarantined_ids(storage, "m") == ({"bad", "new"}, {"new"})
    assert labelled_ids(storage, "m") == ["old"]
