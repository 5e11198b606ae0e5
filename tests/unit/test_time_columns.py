"""A batch's time column is read as the model declares it, the same way at every step.

Real lake on disk and real Great Expectations: each landed file goes through
``validate_batch`` and ``accept_batch`` as the monitor runs them, then a training window
is assembled from the accepted batches as a retrain does.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from retrainer.config import load_model_config
from retrainer.errors import ValidationFailed
from retrainer.lake import accept_batch
from retrainer.storage import LocalStorage
from retrainer.training.window import assemble_window
from retrainer.validation import build_suite_spec, validate_batch


@pytest.fixture(scope="module")
def config(repo_root):  # type: ignore[no-untyped-def]
    return load_model_config(repo_root / "config/models/rainfall.yaml")


@pytest.fixture(scope="module")
def spec(config, rainfall_periods):  # type: ignore[no-untyped-def]
    return build_suite_spec(rainfall_periods[0], config)


def _with(config, **data):  # type: ignore[no-untyped-def]
    return config.model_copy(update={"data": config.data.model_copy(update=data)})


def _land(storage: LocalStorage, frame: pd.DataFrame, batch: str, suffix: str) -> str:
    key = f"incoming/rainfall/{batch}{suffix}"
    if suffix == ".csv":
        storage.write_bytes(key, frame.to_csv(index=False).encode())
    else:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        storage.write_bytes(key, buffer.getvalue())
    return key


def _accept(storage, config, spec, frame, batch, suffix=".csv"):  # type: ignore[no-untyped-def]
    key = _land(storage, frame, batch, suffix)
    outcome = validate_batch(storage, config, batch, key, spec)
    assert outcome.accepted, outcome.result.summary()
    accept_batch(storage, config, batch, outcome.batch_key)
    return storage.read_frame(outcome.batch_key)


def test_an_aware_batch_after_a_naive_one_still_trains(
    tmp_path, config, spec, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    naive, aware = rainfall_periods[1], rainfall_periods[2].copy()
    _accept(storage, config, spec, naive, "p1", ".parquet")
    aware["date"] = aware["date"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    _accept(storage, config, spec, aware, "p2")

    window = assemble_window(storage, config, window_batches=2)
    times = pd.concat([window.train["date"], window.holdout["date"]])
    assert str(times.dt.tz) == "UTC"
    assert times.min() == naive["date"].min().tz_localize("UTC")
    assert times.max() == rainfall_periods[2]["date"].max().tz_localize("UTC")
    assert (window.start, window.end) == (
        str(naive["date"].min().date()),
        str(rainfall_periods[2]["date"].max().date()),
    )


def test_two_offsets_in_one_file_are_accepted_as_utc(
    tmp_path, config, spec, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    frame = rainfall_periods[1].copy()
    # Noon in Berlin (+02:00 in summer) and 07:00 in New York (-05:00) are 10:00 and 12:00 UTC.
    text = frame["date"].dt.strftime("%Y-%m-%d")
    even = frame.index % 2 == 0
    frame["date"] = (text + "T12:00:00+02:00").where(even, text + "T07:00:00-05:00")
    accepted = _accept(storage, config, spec, frame, "offsets")
    day = rainfall_periods[1]["date"].dt.tz_localize("UTC")
    expected = (day + pd.Timedelta(hours=10)).where(even, day + pd.Timedelta(hours=12))
    assert len(accepted) >= len(frame) - 5  # a few rows quarantined for other reasons
    assert set(accepted["date"]) <= set(expected)
    assert set(accepted["date"].dt.hour) == {10, 12}
    assert str(accepted["date"].dt.tz) == "UTC"


def test_integer_dates_are_refused_unless_a_format_says_what_they_mean(
    tmp_path, config, spec, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    frame = rainfall_periods[1].copy()
    frame["date"] = frame["date"].dt.strftime("%Y%m%d").astype(int)  # 19490101 ...
    key = _land(storage, frame, "ints", ".csv")
    with pytest.raises(ValidationFailed) as caught:
        validate_batch(storage, config, "ints", key, spec)
    assert "'date' holds numbers" in str(caught.value) and "data.time_format" in str(caught.value)
    assert storage.read_bytes("quarantine/rainfall/ints/ints.csv") == storage.read_bytes(key)
    assert not storage.exists("batches/rainfall/ints/data.parquet")

    declared = _with(config, time_format="%Y%m%d")
    accepted = _accept(storage, declared, spec, frame, "ints-declared")
    assert accepted["date"].min() == rainfall_periods[1]["date"].min().tz_localize("UTC")


def test_a_batch_from_the_future_is_blocked_with_evidence(
    tmp_path, config, spec, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    frame = rainfall_periods[1].copy()
    frame.loc[frame.index[-3:], "date"] = pd.Timestamp("2999-01-01")
    key = _land(storage, frame, "future", ".parquet")
    with pytest.raises(ValidationFailed) as caught:
        validate_batch(storage, config, "future", key, spec)
    assert caught.value.failed_checks == [
        c for c in caught.value.failed_checks if "time_range" in c
    ]
    message = caught.value.failed_checks[0]
    assert "date: 3 time(s) after now + 24 h" in message and "2999-01-01" in message
    assert "data.max_future_hours" in message
    evidence = storage.read_json("quarantine/rainfall/future/validation_result.json")
    assert "time_range" in [c["check"] for c in evidence["retrainer"]["failed_checks"]]
    assert not storage.exists("batches/rainfall/future/data.parquet")
