"""A corpus of bad inputs for the ``sensors`` test model, each with the outcome it must get.

The corpus is generated (seeded), never stored: every case is the bytes of a file a
user could land, the outcome the monitor must reach (accepted / rows_quarantined /
blocked), the reason code that must name the problem, and the CLI exit code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Outcome = Literal["accepted", "rows_quarantined", "blocked"]
# Reasons found before the rows are parsed: Great Expectations never runs on these files.
BEFORE_PARSING = frozenset({"readable", "column_count"})

SENSORS_YAML = """
name: sensors
description: Generated sensor readings (test model for the bad-input corpus).
data:
  id_column: reading_id
numeric_features: [temperature, pressure, humidity]
categorical_features: [site]
target: {column: label, task: binary, positive_label: 1}
model: {estimator: logistic_regression}
training: {min_rows: 200}
validation:
  columns:
    humidity: {min: 0, max: 100}   # a physical bound a person knows, not learned
gate: {metric: roc_auc, min_value: 0.55}
"""


def sensors_frame(rows: int = 1_000, seed: int = 0, first_id: int = 0) -> pd.DataFrame:
    """Clean readings: the label depends on temperature and site."""
    rng = np.random.default_rng(seed)
    temperature = rng.normal(20.0, 5.0, rows)
    site = rng.choice(["north", "south", "east"], rows, p=[0.5, 0.3, 0.2])
    logit = (temperature - 20.0) / 3.0 + np.where(site == "north", 0.8, -0.4)
    return pd.DataFrame(
        {
            "reading_id": np.arange(first_id, first_id + rows),
            "temperature": temperature.round(3),
            "pressure": rng.normal(1013.0, 8.0, rows).round(2),
            "humidity": rng.uniform(20.0, 90.0, rows).round(2),
            "site": site,
            "label": (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


@dataclass(frozen=True)
class BadInput:
    name: str
    filename: str
    data: bytes
    outcome: Outcome
    reason: str  # a check name, "check:column", or "readable"
    cli_exit: int

    @property
    def batch_id(self) -> str:
        return self.name.replace("_", "-")


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def build_corpus(seed: int = 1) -> list[BadInput]:
    """Every kind of bad input (and two good ones) with the outcome it must reach."""
    good = sensors_frame(400, seed=seed, first_id=100_000)
    n = len(good)
    few = good.index < 3  # a handful of bad rows: quarantined, the rest continues
    parquet = _parquet(good)
    middle = len(parquet) // 2
    corrupted = parquet[:middle] + bytes(b ^ 0xFF for b in parquet[middle : middle + 64])
    corrupted += parquet[middle + 64 :]
    text = _csv(good)
    huge = good.astype({"site": object}).copy()
    huge.loc[5, "site"] = "x" * 5_000_000
    listed = good.astype({"site": object})
    listed["site"] = [[s] for s in good["site"]]
    mapped = good.astype({"site": object})
    mapped["site"] = [{"name": s} for s in good["site"]]
    # An export gone wrong: 10,000 columns (the limit is validation.max_columns, 2,000).
    wide = pd.concat(
        [good.head(50), pd.DataFrame(0, index=range(50), columns=[f"f{i}" for i in range(9_994)])],
        axis=1,
    )
    rainfall_like = pd.DataFrame(
        {"temperature": [0.1] * 50, "dew_point": [0.2] * 50, "rain": [0, 1] * 25}
    )
    cases = [
        ("reordered_columns", "c.csv", _csv(good[list(reversed(good.columns))]), "accepted", ""),
        ("clean_parquet", "c.parquet", parquet, "accepted", ""),
        ("zero_bytes", "c.csv", b"", "blocked", "readable"),
        ("empty_file", "c.csv", b"\n\n", "blocked", "readable"),
        ("header_only", "c.csv", text.splitlines(keepends=True)[0], "blocked", "row_count"),
        ("missing_column", "c.csv", _csv(good.drop(columns=["pressure"])), "blocked", "columns"),
        ("extra_column", "c.csv", _csv(good.assign(operator="bob")), "blocked", "columns"),
        (
            "renamed_column",
            "c.csv",
            _csv(good.rename(columns={"humidity": "rel_humidity"})),
            "blocked",
            "columns",
        ),
        (
            "strings_in_numeric",
            "c.csv",
            _csv(
                good.astype({"temperature": object}).assign(
                    temperature=lambda f: f["temperature"].where(~few, "ERR")
                )
            ),
            "blocked",
            "column_type:temperature",
        ),
        (
            "all_null_column",
            "c.csv",
            _csv(good.assign(humidity=np.nan)),
            "blocked",
            "nulls:humidity",
        ),
        (
            "null_spike",
            "c.csv",
            _csv(good.assign(pressure=good["pressure"].where(good.index % 3 != 0))),
            "blocked",
            "nulls:pressure",
        ),
        (
            "out_of_range",
            "c.csv",
            _csv(good.assign(humidity=good["humidity"].where(~few, 250.0))),
            "rows_quarantined",
            "range:humidity",
        ),
        (
            "inf_and_nan",
            "c.csv",
            _csv(
                good.assign(
                    temperature=good["temperature"]
                    .where(~few, np.inf)
                    .where(good.index != 10, np.nan)
                )
            ),
            "rows_quarantined",
            "finite_values:temperature",
        ),
        (
            "new_category",
            "c.csv",
            _csv(good.assign(site=good["site"].where(~few, "west"))),
            "rows_quarantined",
            "domain:site",
        ),
        (
            "duplicated_ids",
            "c.csv",
            _csv(good.assign(reading_id=good["reading_id"].where(good.index > 3, 100_000))),
            "rows_quarantined",
            "unique:reading_id",
        ),
        ("corrupted_parquet", "c.parquet", corrupted, "blocked", "readable"),
        ("truncated_csv", "c.csv", text[: len(text) - 7], "blocked", "readable"),
        (
            "wrong_delimiter",
            "c.csv",
            good.to_csv(index=False, sep=";").encode("utf-8"),
            "blocked",
            "readable",
        ),
        (
            "non_utf8",
            "c.csv",
            _csv(good.head(50)).replace(b"north", "nörth".encode("latin-1")),
            "blocked",
            "readable",
        ),
        ("list_category", "c.parquet", _parquet(listed), "blocked", "column_type:site"),
        ("struct_category", "c.parquet", _parquet(mapped), "blocked", "column_type:site"),
        ("huge_field", "c.csv", _csv(huge), "rows_quarantined", "domain:site"),
        ("another_models_file", "c.csv", _csv(rainfall_like), "blocked", "columns"),
        ("ten_thousand_columns", "c.csv", _csv(wide), "blocked", "column_count"),
        (
            "label_outside_domain",
            "c.csv",
            _csv(good.assign(label=good["label"].where(~few, 7))),
            "rows_quarantined",
            "domain:label",
        ),
        (
            "too_many_bad_rows",
            "c.csv",
            _csv(good.assign(humidity=good["humidity"].where(good.index % 4 != 0, -40.0))),
            "blocked",
            "quarantined_share",
        ),
    ]
    assert n == 400
    out = []
    for name, filename, data, outcome, reason in cases:
        suffix = filename.rsplit(".", 1)[1]
        cli_exit = 2 if reason == "readable" else (0 if outcome == "accepted" else 1)
        out.append(BadInput(name, f"{name}.{suffix}", data, outcome, reason, cli_exit))
    return out
