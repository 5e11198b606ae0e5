"""Golden tests of the drift statistics against scipy on seeded data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association

from retrainer.drift import (
    STATISTICS,
    UNSEEN,
    Comparison,
    build_reference_profile,
    chi_square,
    ks_binned,
    profile_batch,
    wasserstein,
)

pytestmark = pytest.mark.unit


def test_wasserstein_equals_scipy_on_weighted_points() -> None:
    rng = np.random.default_rng(11)
    u, v = rng.normal(0, 1, 30), rng.normal(0.5, 2, 17)
    uw, vw = rng.integers(1, 50, 30), rng.integers(1, 50, 17)
    expected = stats.wasserstein_distance(u, v, uw, vw)
    assert wasserstein(u, uw, v, vw) == pytest.approx(expected, rel=1e-12)
    assert wasserstein(u, uw, u, uw) == pytest.approx(0.0, abs=1e-12)


def test_binned_wasserstein_is_close_to_the_raw_data_distance() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 100_000)})
    for shift in (0.1, 0.5, 2.0):
        cur = pd.DataFrame({"x": rng.normal(shift, 1, 100_000)})
        reference = build_reference_profile(ref, ["x"], [])
        comparison = Comparison.of(
            reference.features["x"], profile_batch(cur, reference).features["x"]
        )
        raw = stats.wasserstein_distance(ref["x"], cur["x"]) / ref["x"].std()
        assert STATISTICS["wasserstein"](comparison) == pytest.approx(raw, rel=0.02)


def test_binned_ks_equals_scipy_when_no_value_lies_between_edges() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.poisson(4.0, 3000), rng.poisson(4.4, 2000)
    # Integers with edges at the half-integers: the binned CDF is the exact CDF.
    edges = np.arange(-0.5, 20.0, 1.0)
    count_a = np.bincount(np.searchsorted(edges, a), minlength=edges.size + 1)
    count_b = np.bincount(np.searchsorted(edges, b), minlength=edges.size + 1)
    d, p = ks_binned(count_a, count_b)
    exact = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(exact.statistic, rel=1e-12)
    assert p == pytest.approx(exact.pvalue, rel=1e-9)


def test_binned_ks_is_a_lower_bound_of_the_exact_statistic() -> None:
    rng = np.random.default_rng(6)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 5000)})
    cur = pd.DataFrame({"x": rng.normal(0.3, 1, 5000)})
    reference = build_reference_profile(ref, ["x"], [])
    comparison = Comparison.of(reference.features["x"], profile_batch(cur, reference).features["x"])
    binned = STATISTICS["ks"](comparison)
    exact = stats.ks_2samp(ref["x"], cur["x"]).statistic
    assert binned <= exact + 1e-12
    assert binned == pytest.approx(exact, abs=0.02)  # ten bins lose little


def test_chi_square_and_cramers_v_equal_scipy() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.integers(0, 500, 9), rng.integers(0, 500, 9)
    a[3] = b[3] = 0  # a bucket empty on both sides is dropped, as scipy requires
    statistic, p, dof = chi_square(a, b)
    table = np.vstack([a, b])[:, [i for i in range(9) if i != 3]]
    expected = stats.chi2_contingency(table, correction=False)
    assert statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)
    assert dof == expected.dof == 7
    comparison = Comparison("categorical", tuple("abcdefgh"), a.astype(float), b.astype(float))
    assert STATISTICS["chi_square"](comparison) == pytest.approx(
        association(table, method="cramer", correction=False), rel=1e-12
    )
    assert chi_square([5, 0], [7, 0]) == (0.0, 1.0, 0)  # one usable bucket: no evidence


def test_false_discovery_control_matches_the_former_hand_written_bh() -> None:
    # Golden values of the Benjamini-Hochberg code retrainer had before it used scipy's
    # (ties, an exact 0 and 1 included): drift verdicts do not change with the library.
    p = [0.870249, 0.286817, 0.603148, 0.777534, 0.716075, 0.91538, 0.860394, 0.918238]
    p += [3e-06, 4.4e-05, 4.8e-05, 7e-06, 1.0, 0.0, 0.03, 0.03]
    before = [0.9794538666666667, 0.573634] + [0.9794538666666667] * 6
    before += [2.4e-05, 0.0001536, 0.0001536, 3.733333333333333e-05, 1.0, 0.0]
    before += [0.06857142857142857, 0.06857142857142857]
    assert stats.false_discovery_control(p, method="bh") == pytest.approx(before, rel=1e-12)
    assert stats.false_discovery_control([], method="bh").size == 0


def test_missing_and_unseen_statistics() -> None:
    reference = build_reference_profile(
        pd.DataFrame({"c": ["a"] * 90 + [None] * 10}), [], ["c"]
    ).features["c"]
    current = profile_batch(
        pd.DataFrame({"c": ["a"] * 50 + ["new"] * 20 + [None] * 30}),
        build_reference_profile(pd.DataFrame({"c": ["a"] * 90 + [None] * 10}), [], ["c"]),
    ).features["c"]
    comparison = Comparison.of(reference, current)
    assert comparison.keys == (UNSEEN, "a")
    assert STATISTICS["missing_rate"](comparison) == pytest.approx(0.2)
    assert STATISTICS["unseen_share"](comparison) == pytest.approx(20 / 70)


def test_registry_names_kinds_and_defaults() -> None:
    assert {name: (sorted(s.kinds), s.default_threshold) for name, s in STATISTICS.items()} == {
        "psi": (["categorical", "numeric"], 0.1),
        "jensen_shannon": (["categorical", "numeric"], 0.1),
        "wasserstein": (["numeric"], 0.1),
        "ks": (["numeric"], 0.1),
        "chi_square": (["categorical", "numeric"], 0.1),
        "missing_rate": (["categorical", "numeric"], 0.05),
        "unseen_share": (["categorical"], 0.05),
    }
    categorical = Comparison("categorical", ("a",), np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="does not accept categorical"):
        STATISTICS["wasserstein"](categorical)


def test_binned_wasserstein_of_a_constant_feature_is_the_mean_difference() -> None:
    reference = build_reference_profile(pd.DataFrame({"x": [2.0] * 50}), ["x"], [])
    current = profile_batch(pd.DataFrame({"x": [2.5] * 30}), reference)
    comparison = Comparison.of(reference.features["x"], current.features["x"])
    # Quantile edges collapse to (2.0,); 2.5 lands above it. std 0 -> raw distance.
    assert STATISTICS["wasserstein"](comparison) == pytest.approx(0.5)
