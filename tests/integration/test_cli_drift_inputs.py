"""`retrainer drift` on files it cannot compare: a clear error naming the columns, exit 2.

A Parquet file may repeat a column name or hold a list/struct column; the streaming
reader used to raise a bare pyarrow traceback on the first and count the second as
100% missing (and so as drift).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from retrainer.cli import app
from tests.conftest import make_config_dir

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def files(tmp_path_factory, rainfall_periods) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("drift-inputs")
    out = {"config": make_config_dir(root), "reference": root / "reference.parquet"}
    rainfall_periods[0].to_parquet(out["reference"], index=False)
    table = pa.Table.from_pandas(rainfall_periods[1], preserve_index=False)
    out["duplicate"] = root / "duplicate.parquet"
    pq.write_table(table.append_column("visibility", table.column("visibility")), out["duplicate"])
    nested = pa.array([[float(v)] for v in rainfall_periods[1]["dew_point"]])
    out["list"] = root / "list.parquet"
    pq.write_table(
        table.set_column(table.schema.get_field_index("dew_point"), "dew_point", nested),
        out["list"],
    )
    struct = pa.StructArray.from_arrays(
        [table.column("temperature").combine_chunks()], names=["celsius"]
    )
    out["struct"] = root / "struct.parquet"
    pq.write_table(
        table.set_column(table.schema.get_field_index("temperature"), "temperature", struct),
        out["struct"],
    )
    out["duplicate_csv"] = root / "duplicate.csv"
    text = rainfall_periods[1].to_csv(index=False)
    header, rest = text.split("\n", 1)
    out["duplicate_csv"].write_text(header.replace("dew_point", "visibility") + "\n" + rest)
    return out


def _drift(files: dict[str, Path], name: str, *, as_reference: bool = False):  # type: ignore[no-untyped-def]
    current, reference = (
        (files["reference"], files[name]) if as_reference else (files[name], files["reference"])
    )
    args = ["drift", "rainfall", str(current), "--reference", str(reference)]
    return CliRunner().invoke(app, [*args, "--config-dir", str(files["config"])])


@pytest.mark.parametrize("name", ["duplicate", "duplicate_csv"])
def test_duplicate_columns_are_named(files, name: str) -> None:  # type: ignore[no-untyped-def]
    for as_reference in (False, True):
        result = _drift(files, name, as_reference=as_reference)
        assert result.exit_code == 2, result.output
        assert not isinstance(result.exception, KeyError | pa.ArrowException)
        assert "duplicate column name(s)" in result.output and "visibility" in result.output


@pytest.mark.parametrize(("name", "column"), [("list", "dew_point"), ("struct", "temperature")])
def test_nested_feature_columns_are_refused_not_counted_missing(
    files, name: str, column: str
) -> None:  # type: ignore[no-untyped-def]
    result = _drift(files, name)
    assert result.exit_code == 2, result.output
    assert "nested values" in result.output and repr(column) in result.output
    assert "missing" not in result.output
