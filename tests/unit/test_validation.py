"""Validation: suites learned from the reference; bad inputs get named, kept, explained.

Runs the real Great Expectations 1.x engine (no service needed).
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from retrainer.config import load_model_config
from retrainer.errors import InputDataError, ValidationFailed
from retrainer.storage import LocalStorage
from retrainer.tables import read_table
from retrainer.validation import (
    SuiteSpec,
    apply_severities,
    build_suite_spec,
    spec_from_config,
    validate_batch,
    validate_frame,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def config(repo_root):  # type: ignore[no-untyped-def]
    return load_model_config(repo_root / "config/models/rainfall.yaml")


@pytest.fixture(scope="module")
def spec(config, rainfall_periods) -> SuiteSpec:  # type: ignore[no-untyped-def]
    return build_suite_spec(rainfall_periods[0], config)


@pytest.fixture()
def good(rainfall_periods) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return rainfall_periods[4].copy()


def _checks(frame: pd.DataFrame, spec: SuiteSpec) -> dict[str, str]:
    result = validate_frame(frame, spec, name="t", require_target=False)
    return {f"{c.check}:{c.column}": c.detail for c in result.failed_checks}


def test_every_real_period_is_accepted(spec, config, rainfall_periods) -> None:  # type: ignore[no-untyped-def]
    # Distribution shift (even the 1981 break) is drift's job, not validation's: no real
    # period is blocked; at most a few extreme readings are held back as rows.
    for period in rainfall_periods:
        result = validate_frame(period, spec, require_target=False)
        outcome = apply_severities(period, result, spec, config)
        assert outcome.status != "blocked", outcome.blocking
        assert outcome.quarantined_rows <= 5, outcome.counts


def test_reordered_columns_are_fine(spec, good) -> None:  # type: ignore[no-untyped-def]
    assert _checks(good[list(reversed(good.columns))], spec) == {}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f.drop(columns=["dew_point"]), "columns:None"),
        (lambda f: f.assign(extra=1.0), "columns:None"),
        (lambda f: f.rename(columns={"visibility": "vis"}), "columns:None"),
        (
            lambda f: f.assign(temperature=f["temperature"].astype(str).where(f.index > 3, "n/a")),
            "column_type:temperature",
        ),
        (lambda f: f.assign(visibility=np.nan), "nulls:visibility"),
        (lambda f: f.assign(dew_point=f["dew_point"].where(f.index % 5 != 0)), "nulls:dew_point"),
        (lambda f: f.assign(temperature=f["temperature"] * 1000), "range:temperature"),
        (
            lambda f: f.assign(visibility=f["visibility"].where(f.index > 2, np.inf)),
            "finite_values:visibility",
        ),
        (lambda f: f.assign(rain=f["rain"].where(f.index > 2, 7)), "domain:rain"),
        (lambda f: f.head(0), "row_count:None"),
    ],
    ids=[
        "missing-column",
        "extra-column",
        "renamed-column",
        "strings-in-numeric",
        "all-null-column",
        "null-spike",
        "unit-change-x1000",
        "inf",
        "label-outside-domain",
        "empty-batch",
    ],
)
def test_bad_batches_fail_with_a_named_check(spec, good, mutate, expected) -> None:  # type: ignore[no-untyped-def]
    checks = _checks(mutate(good), spec)
    assert expected in checks, checks


def test_a_short_batch_is_data_by_default_and_blocked_below_a_configured_minimum(  # type: ignore[no-untyped-def]
    spec, good
) -> None:
    # A February of daily rows (29) is legitimate: by default only an empty batch is blocked.
    assert "row_count:None" not in _checks(good.head(29), spec)
    strict = replace(spec, min_rows=30)
    assert "row_count:None" in _checks(good.head(29), strict)


def test_missing_column_message_names_it(spec, good) -> None:  # type: ignore[no-untyped-def]
    detail = _checks(good.drop(columns=["dew_point"]).assign(extra=1), spec)["columns:None"]
    assert "missing ['dew_point']" in detail and "unexpected ['extra']" in detail


def test_a_batch_with_10000_extra_columns_names_ten_and_counts_the_rest(spec, good) -> None:  # type: ignore[no-untyped-def]
    extra = pd.DataFrame({f"col_{i:05d}": 1 for i in range(10_000)}, index=good.index)
    frame = pd.concat([good.head(50), extra.head(50)], axis=1)
    result = validate_frame(frame, spec, name="t", require_target=False)
    (columns,) = [c for c in result.failed_checks if c.check == "columns"]
    assert columns.detail.endswith("'col_00009'] and 9,990 more"), columns.detail[-80:]
    assert len(columns.detail) < 300 and columns.unexpected_count == 10_000
    assert len(columns.examples) == 10 and len(result.summary()) < 1_000
    # Nothing is lost: the validation result kept for the lake lists every column.
    assert "col_09999" in str(result.gx_result)


def test_new_category_is_named(config) -> None:  # type: ignore[no-untyped-def]
    from retrainer.config import ModelConfig

    cat_config = ModelConfig.model_validate(
        config.model_dump()
        | {
            "numeric_features": ["x"],
            "categorical_features": ["kind"],
            "data": {"time_column": None},
            # rainfall's slice rule names a rainfall column; this model has other columns
            "evaluation": {},
            "gate": {"metric": "roc_auc", "min_value": 0.6},
        }
    )
    reference = pd.DataFrame({"x": np.arange(100.0), "kind": ["a", "b"] * 50, "rain": [0, 1] * 50})
    spec = build_suite_spec(reference, cat_config)
    batch = reference.assign(kind=["a", "b", "c", "a"] * 25)
    result = validate_frame(batch, spec, require_target=False)
    failed = {c.check: c for c in result.failed_checks}
    assert "domain" in failed and "c" in failed["domain"].examples


def test_suite_json_round_trip(spec) -> None:  # type: ignore[no-untyped-def]
    assert SuiteSpec.from_json(spec.to_json()) == spec


def test_schema_only_spec_accepts_any_values(config, good) -> None:  # type: ignore[no-untyped-def]
    assert validate_frame(good.assign(temperature=1e6), spec_from_config(config)).success


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("zero.csv", b"", r"empty \(0 bytes\)"),
        ("broken.parquet", b"PAR1 this is not parquet", "not a valid Parquet"),
        ("latin1.csv", "temperature,ville\n1.0,Zürich\n".encode("latin-1"), "not UTF-8"),
        ("truncated.csv", b"a,b,c\n1,2,3\n4,5,6,7,8\n", "malformed CSV"),
        ("semicolons.csv", b"a;b;c\n1;2;3\n", "another delimiter"),
        ("data.json", b'{"a": 1}', "unknown file format"),
    ],
)
def test_unreadable_files_raise_named_errors(name: str, data: bytes, message: str) -> None:
    with pytest.raises(InputDataError, match=message) as err:
        read_table(data, name)
    assert name in str(err.value)


def test_truncated_parquet_is_caught(good) -> None:  # type: ignore[no-untyped-def]
    data = _parquet(good)
    with pytest.raises(InputDataError, match="Parquet"):
        read_table(data[: len(data) // 2], "cut.parquet")


def test_header_only_csv_is_empty_then_blocked(spec) -> None:  # type: ignore[no-untyped-def]
    frame = read_table(b"temperature,dew_point\n", "header.csv")
    assert frame.empty


def test_blocked_batch_is_quarantined_and_incoming_kept(tmp_path, config, spec, good) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    original = _parquet(good.drop(columns=["dew_point"]))
    storage.write_bytes("incoming/rainfall/b1.parquet", original)
    with pytest.raises(ValidationFailed) as err:
        validate_batch(storage, config, "b1", "incoming/rainfall/b1.parquet", spec)
    assert "dew_point" in str(err.value) and err.value.batch_id == "b1"
    assert storage.read_bytes("incoming/rainfall/b1.parquet") == original
    assert storage.read_bytes("quarantine/rainfall/b1/b1.parquet") == original
    summary = storage.read_bytes("quarantine/rainfall/b1/summary.txt").decode()
    assert "missing ['dew_point']" in summary
    report = storage.read_json("quarantine/rainfall/b1/validation_result.json")
    assert report["great_expectations"]["success"] is False
    assert not storage.exists("batches/rainfall/b1/data.parquet")


def test_unreadable_batch_is_quarantined_too(tmp_path, config, spec) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    storage.write_bytes("incoming/rainfall/b2.csv", b"")
    with pytest.raises(ValidationFailed, match="readable"):
        validate_batch(storage, config, "b2", "incoming/rainfall/b2.csv", spec)
    assert storage.exists("quarantine/rainfall/b2/summary.txt")
    assert storage.exists("incoming/rainfall/b2.csv")


def test_accepted_batch_lands_in_batches(tmp_path, config, spec, good) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    storage.write_bytes("incoming/rainfall/b3.csv", good.to_csv(index=False).encode())
    outcome = validate_batch(storage, config, "b3", "incoming/rainfall/b3.csv", spec)
    assert outcome.accepted and outcome.batch_key == "batches/rainfall/b3/data.parquet"
    back = storage.read_frame(outcome.batch_key)
    assert len(back) == len(good) and pd.api.types.is_datetime64_any_dtype(back["date"])


def _land(storage: LocalStorage, frame: pd.DataFrame, batch: str) -> str:
    key = f"incoming/rainfall/{batch}.parquet"
    storage.write_bytes(key, _parquet(frame))
    return key


def test_a_few_bad_rows_are_quarantined_with_reasons_and_the_rest_continues(
    tmp_path, config, spec, good
) -> None:  # type: ignore[no-untyped-def]
    from retrainer.validation import REASONS_COLUMN

    storage = LocalStorage(tmp_path)
    bad = good.copy()
    bad.loc[[3, 7], "temperature"] *= 1000  # a unit change on two rows
    bad.loc[[7, 11], "rain"] = 5  # labels outside their domain
    bad.loc[[20], "visibility"] = np.inf
    key = _land(storage, bad, "b4")
    outcome = validate_batch(storage, config, "b4", key, spec)
    assert outcome.status == "rows_quarantined"
    assert outcome.quarantined_rows == 4
    assert outcome.reasons == {
        "range:temperature": 2,
        "domain:rain": 2,
        "finite_values:visibility": 1,
        "range:visibility": 1,
    }
    rows = storage.read_frame("quarantine/rainfall/b4/rows.parquet")
    assert len(rows) == 4
    reasons = dict(zip(rows["date"], rows[REASONS_COLUMN], strict=True))
    # Times are kept as UTC instants: naive dates are read in data.timezone (UTC).
    assert reasons[good.loc[7, "date"].tz_localize("UTC")] == "range:temperature;domain:rain"
    accepted = storage.read_frame("batches/rainfall/b4/data.parquet")
    assert len(accepted) == len(good) - 4
    assert (
        "4 of 1,815 rows quarantined"
        in storage.read_bytes("quarantine/rainfall/b4/summary.txt").decode()
    )
    assert storage.read_bytes(key) == _parquet(bad)  # the original is untouched


def test_too_many_bad_rows_block_the_batch(tmp_path, config, spec, good) -> None:  # type: ignore[no-untyped-def]
    storage = LocalStorage(tmp_path)
    key = _land(storage, good.assign(temperature=good["temperature"] * 1000), "b5")
    with pytest.raises(ValidationFailed, match="quarantined_share"):
        validate_batch(storage, config, "b5", key, spec)
    assert not storage.exists("batches/rainfall/b5/data.parquet")
    assert storage.exists("quarantine/rainfall/b5/b5.parquet")


def test_severity_rules_override_defaults(tmp_path, config, spec, good) -> None:  # type: ignore[no-untyped-def]
    from retrainer.config import ModelConfig

    data = config.model_dump()
    data["validation"]["rules"] = [
        {"check": "range", "column": "temperature", "severity": "warn"},
        {"check": "range", "severity": "block"},
    ]
    strict = ModelConfig.model_validate(data)
    assert strict.validation.severity("range", "temperature") == "warn"
    assert strict.validation.severity("range", "dew_point") == "block"
    assert strict.validation.severity("domain", "rain") == "quarantine_rows"
    storage = LocalStorage(tmp_path)
    warned = good.assign(temperature=good["temperature"] * 1000)
    outcome = validate_batch(storage, strict, "b6", _land(storage, warned, "b6"), spec)
    assert outcome.status == "accepted" and "temperature" in outcome.warnings[0]
    blocked = good.assign(dew_point=good["dew_point"] * 1000)
    with pytest.raises(ValidationFailed, match="range"):
        validate_batch(storage, strict, "b7", _land(storage, blocked, "b7"), spec)


def test_batch_level_checks_cannot_quarantine_rows(config) -> None:  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from retrainer.config import ModelConfig

    data = config.model_dump()
    data["validation"]["rules"] = [{"check": "columns", "severity": "quarantine_rows"}]
    with pytest.raises(ValidationError, match="cannot quarantine rows"):
        ModelConfig.model_validate(data)
    data["validation"]["rules"] = [{"check": "range", "column": "nope", "severity": "warn"}]
    with pytest.raises(ValidationError, match="unknown columns"):
        ModelConfig.model_validate(data)


def _sensors_config(**validation):  # type: ignore[no-untyped-def]
    from retrainer.config import ModelConfig

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


def _sensors(n: int = 200) -> pd.DataFrame:
    return pd.DataFrame(
        {"rid": np.arange(n), "x": np.linspace(0, 10, n), "kind": ["a", "b"] * (n // 2), "y": 0}
    )


def test_yaml_column_expectations_override_what_was_learned() -> None:
    config = _sensors_config(columns={"x": {"min": 2, "max": 8}, "kind": {"allowed": ["a"]}})
    spec = build_suite_spec(_sensors(), config)
    assert (spec.column("x").min, spec.column("x").max) == (2, 8)
    assert spec.column("kind").allowed == ("a",)
    assert spec.column("rid").unique  # the id column is unique without being asked


def test_unknown_column_in_yaml_expectations_is_named() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"validation.columns names unknown columns \['z'\]"):
        _sensors_config(columns={"z": {"min": 0}})
    with pytest.raises(ValidationError, match="max_rows 10 is below min_rows 30"):
        _sensors_config(max_rows=10, min_rows=30)


def test_repeated_ids_quarantine_the_repeats_only() -> None:
    config = _sensors_config()
    frame = _sensors()
    spec = build_suite_spec(frame, config)
    batch = frame.assign(rid=frame["rid"].where(frame.index > 2, 0))  # ids 0,0,0 then 3..
    result = validate_frame(batch, spec, require_target=False)
    outcome = apply_severities(batch, result, spec, config)
    assert outcome.status == "rows_quarantined"
    assert outcome.counts == {"unique:rid": 2}
    assert outcome.selected.nonzero()[0].tolist() == [1, 2]  # the first row of id 0 stays


def test_range_tolerance_applies_only_to_block_and_warn() -> None:
    frame = _sensors()
    batch = frame.assign(x=frame["x"].where(frame.index > 0, 1e6))  # 1 of 200 rows (0.5%)
    default = _sensors_config()
    spec = build_suite_spec(frame, default)
    result = validate_frame(batch, spec, require_target=False)
    assert apply_severities(batch, result, spec, default).counts == {"range:x": 1}
    tolerant = _sensors_config(rules=[{"check": "range", "severity": "block"}])
    assert apply_severities(batch, result, spec, tolerant).status == "accepted"  # within 1%
    strict = _sensors_config(
        rules=[{"check": "range", "severity": "block"}], max_out_of_range_fraction=0.001
    )
    assert apply_severities(batch, result, spec, strict).status == "blocked"


def test_a_huge_field_is_shortened_in_the_evidence() -> None:
    config = _sensors_config()
    frame = _sensors()
    spec = build_suite_spec(frame, config)
    batch = frame.astype({"kind": object})
    batch.loc[3, "kind"] = "z" * 1_000_000
    failed = validate_frame(batch, spec, require_target=False).failed_checks
    example = next(c for c in failed if c.check == "domain").examples[0]
    assert len(example) < 120 and "1,000,000 characters" in example


def test_truncated_csv_is_refused() -> None:
    with pytest.raises(InputDataError, match="truncated CSV: the last line has 2 of 3 fields"):
        read_table(b"a,b,c\n1,2,3\n4,5", "cut.csv")
    assert len(read_table(b"a,b,c\n1,2,3\n4,5,6", "no-final-newline.csv")) == 2
