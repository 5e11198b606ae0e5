"""The lake keeps originals: nothing landed or accepted is ever silently replaced."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest

from retrainer.config import load_model_config
from retrainer.errors import InputDataError, LakeConflict, ValidationFailed
from retrainer.lake import find_incoming, keep_accepted, keys, land_file, quarantined_ids
from retrainer.storage import LocalStorage
from retrainer.validation import build_suite_spec, validate_batch, validate_labels

pytestmark = pytest.mark.unit


def _csv(path: Path, values: list[int]) -> Path:
    pd.DataFrame({"x": values}).to_csv(path, index=False)
    return path


def test_relanding_a_batch_id_is_refused_and_the_original_stays(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "lake")
    first = _csv(tmp_path / "first.csv", [1, 2])
    key = land_file(storage, "m", first, "p0")
    original = storage.read_bytes(key)

    with pytest.raises(LakeConflict) as err:
        land_file(storage, "m", _csv(tmp_path / "second.csv", [3]), "p0")
    message = str(err.value)
    assert "incoming/m/p0.csv" in message and "new batch id" in message
    assert storage.read_bytes(key) == original
    # The very same bytes again (a retried upload) lose nothing: a no-op.
    assert land_file(storage, "m", first, "p0") == key


def test_relanding_in_another_format_is_refused(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "lake")
    land_file(storage, "m", _csv(tmp_path / "p0.csv", [1]))
    parquet = tmp_path / "p0.parquet"
    pd.DataFrame({"x": [9]}).to_parquet(parquet)
    with pytest.raises(LakeConflict, match=r"incoming/m/p0\.csv"):
        land_file(storage, "m", parquet)
    assert not storage.exists("incoming/m/p0.parquet")
    assert find_incoming(storage, "m", "p0") == "incoming/m/p0.csv"


def test_a_batch_landed_in_two_formats_is_ambiguous_not_guessed(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("incoming/m/p0.csv", b"x\n1\n")  # e.g. written by another tool
    storage.write_bytes("incoming/m/p0.parquet", b"PAR1")
    with pytest.raises(LakeConflict, match="landed twice"):
        find_incoming(storage, "m", "p0")


def test_relanding_labels_is_refused_with_how_to_replace_them(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "lake")
    land_file(storage, "m", _csv(tmp_path / "a.csv", [1]), "p0", zone=keys.LABELS_ZONE)
    with pytest.raises(LakeConflict, match=r"labels of batch 'p0'.*incoming/m/labels/p0\.csv"):
        land_file(storage, "m", _csv(tmp_path / "b.csv", [2]), "p0", zone=keys.LABELS_ZONE)


def test_racing_landings_of_one_key_have_one_winner(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "lake")
    sources = [_csv(tmp_path / f"s{i}.csv", [i] * 1000) for i in range(8)]
    outcomes: list[str] = []

    def land(source: Path) -> None:
        try:
            land_file(storage, "m", source, "p0")
            outcomes.append(source.name)
        except LakeConflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=land, args=(s,)) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1
    assert storage.read_bytes("incoming/m/p0.csv") == (tmp_path / winners[0]).read_bytes()
    assert storage.list("incoming/") == ["incoming/m/p0.csv"]  # no temporaries left


@pytest.mark.parametrize("batch_id", ["p05\n", "p05\r\n", "p 05", "../p0", ".p0"])
def test_batch_ids_are_matched_whole(tmp_path: Path, batch_id: str) -> None:
    storage = LocalStorage(tmp_path / "lake")
    with pytest.raises(InputDataError, match="not valid"):
        land_file(storage, "m", _csv(tmp_path / "p.csv", [1]), batch_id)
    assert storage.list() == []


@pytest.mark.parametrize("batch_id", ["labels-p0", "Labels-p0", "LABELS-x"])
def test_batch_ids_cannot_take_the_labels_quarantine_folder(tmp_path: Path, batch_id: str) -> None:
    storage = LocalStorage(tmp_path / "lake")
    with pytest.raises(InputDataError, match="reserved for quarantined labels"):
        land_file(storage, "m", _csv(tmp_path / "p.csv", [1]), batch_id)
    with pytest.raises(InputDataError, match="reserved"):
        find_incoming(storage, "m", batch_id)
    # So the labels of batch p0 own their folder, and it is never counted as a batch.
    assert keys.labels_quarantine("m", "p0") == keys.quarantine("m", "labels-p0")
    storage.write_json(f"{keys.labels_quarantine('m', 'p0')}/{keys.VALIDATION_RESULT}", {})
    assert quarantined_ids(storage, "m")[0] == set()


def test_accepted_rows_are_written_once(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = keys.batch_data("m", "p0")
    frame = pd.DataFrame({"x": [1, 2, 3]})
    keep_accepted(storage, key, frame)
    stored = storage.read_bytes(key)
    keep_accepted(storage, key, frame.copy())  # same rows: idempotent
    with pytest.raises(LakeConflict, match="never replaced"):
        keep_accepted(storage, key, pd.DataFrame({"x": [1, 2]}))
    assert storage.read_bytes(key) == stored


@pytest.fixture(scope="module")
def rainfall(repo_root, rainfall_periods):  # type: ignore[no-untyped-def]
    config = load_model_config(repo_root / "config/models/rainfall.yaml")
    return config, build_suite_spec(rainfall_periods[0], config)


def test_rerunning_validation_is_idempotent_and_never_replaces_accepted_rows(
    tmp_path: Path, rainfall, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    config, spec = rainfall
    storage = LocalStorage(tmp_path)
    good = rainfall_periods[4]
    storage.write_bytes("incoming/rainfall/b1.csv", good.to_csv(index=False).encode())
    first = validate_batch(storage, config, "b1", "incoming/rainfall/b1.csv", spec)
    assert first.batch_key is not None
    accepted = storage.read_bytes(first.batch_key)
    again = validate_batch(storage, config, "b1", "incoming/rainfall/b1.csv", spec)
    assert again.status == first.status and storage.read_bytes(first.batch_key) == accepted

    # Other content under the same batch id (written around land_file) is not accepted over it.
    storage.write_bytes("incoming/rainfall/b1.csv", good.head(50).to_csv(index=False).encode())
    with pytest.raises(LakeConflict, match=r"batches/rainfall/b1/data\.parquet"):
        validate_batch(storage, config, "b1", "incoming/rainfall/b1.csv", spec)
    assert storage.read_bytes(first.batch_key) == accepted


def test_labels_of_a_batch_and_a_batch_never_share_a_quarantine_folder(
    tmp_path: Path, rainfall, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    config, spec = rainfall
    storage = LocalStorage(tmp_path)
    labels = rainfall_periods[4][["date", "rain"]].copy()
    labels.loc[0, "rain"] = None  # a label missing: the file is blocked
    storage.write_bytes("incoming/rainfall/labels/p0.csv", labels.to_csv(index=False).encode())
    with pytest.raises(ValidationFailed, match="blocked"):
        validate_labels(storage, config, "p0", "incoming/rainfall/labels/p0.csv", spec)
    folder = keys.labels_quarantine("rainfall", "p0")
    assert storage.exists(f"{folder}/{keys.VALIDATION_RESULT}")
    # The batch that would have shared that folder cannot exist.
    with pytest.raises(InputDataError, match="reserved"):
        land_file(storage, "rainfall", _csv(tmp_path / "x.csv", [1]), folder.rsplit("/", 1)[1])
