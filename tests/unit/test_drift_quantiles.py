"""Reference bin edges from the linear-time quantiles are np.quantile's, bit for bit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from retrainer.drift import build_reference_profile
from retrainer.drift.build import quantile_edges
from retrainer.drift.quantiles import exact_quantiles

pytestmark = pytest.mark.unit

RNG = np.random.default_rng(20261202)
QUANTILES = np.linspace(0, 1, 11)[1:-1]
COLUMNS: dict[str, Callable[[int], np.ndarray]] = {
    "normal": lambda n: RNG.normal(size=n),
    "few values": lambda n: RNG.integers(0, 5, n).astype("float64"),
    "heavy tail": lambda n: RNG.lognormal(0, 3, n),
    # One far outlier stretches the grid: most values fall in one cell (direct selection).
    "far outlier": lambda n: np.r_[RNG.normal(size=n - 1), 1e12],
    "constant": lambda n: np.full(n, 2.5),
}


@pytest.mark.parametrize("n", [2, 3, 10, 1_000, 65_535, 65_536, 200_001])
@pytest.mark.parametrize("kind", list(COLUMNS))
def test_exact_quantiles_equal_numpys(kind: str, n: int) -> None:
    values = COLUMNS[kind](n)
    before = values.copy()
    assert np.array_equal(exact_quantiles(values, QUANTILES), np.quantile(values, QUANTILES))
    assert np.array_equal(values, before)  # the column is never reordered in place


@pytest.mark.parametrize("bins", [2, 4, 10, 20, 50])
def test_edges_of_a_large_column_are_numpys_for_any_bin_count(bins: int) -> None:
    values = np.r_[RNG.normal(size=300_000), np.nan, np.inf, -np.inf]
    finite = values[np.isfinite(values)]
    expected = tuple(
        float(e) for e in np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    )
    assert quantile_edges(values, bins) == expected


def test_a_reference_profile_of_an_int_column_bins_it_as_floats() -> None:
    import pandas as pd

    frame = pd.DataFrame({"k": RNG.integers(0, 100, 100_000), "b": RNG.random(100_000) < 0.3})
    profile = build_reference_profile(frame, ["k", "b"], [])
    k = profile.features["k"]
    assert k.edges == tuple(float(e) for e in np.unique(np.quantile(frame["k"], QUANTILES)))
    assert k.count == 100_000 and k.total == float(frame["k"].sum())
    assert profile.features["b"].total == float(frame["b"].sum())
