"""Nullable and categorical pandas dtypes become what scikit-learn's imputers take."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer

from retrainer.model_inputs import numpy_friendly


@pytest.mark.parametrize(
    "values",
    [
        pd.array([1, None, 3], dtype="Int64"),
        pd.array([1.5, None, 3.0], dtype="Float64"),
        pd.array([True, None, False], dtype="boolean"),
        np.array([True, False, True]),
    ],
    ids=["Int64", "Float64", "boolean", "bool"],
)
def test_a_numeric_feature_becomes_float_with_nan_and_imputes(values: object) -> None:
    out = numpy_friendly(pd.DataFrame({"a": values}), ["a"], [])
    assert out["a"].dtype == "float64"
    assert np.isfinite(SimpleImputer(strategy="median").fit_transform(out)).all()


@pytest.mark.parametrize(
    "values",
    [
        pd.array(["red", None, "red"], dtype="string"),
        pd.Categorical(["red", None, "red"]),
        pd.array([True, None, True], dtype="boolean"),
        pd.array([2, None, 2], dtype="Int64"),
        np.array([True, False, True]),
    ],
    ids=["string", "category", "boolean", "Int64", "bool"],
)
def test_a_categorical_feature_becomes_object_with_nan_and_imputes(values: object) -> None:
    out = numpy_friendly(pd.DataFrame({"a": values}), [], ["a"])
    assert out["a"].dtype == object
    imputed = SimpleImputer(strategy="most_frequent").fit_transform(out)
    assert not pd.isna(imputed).any()
    if pd.isna(values[1]):
        assert imputed[1, 0] == imputed[0, 0]  # the missing value took the most frequent


def test_plain_numpy_columns_pass_unchanged() -> None:
    frame = pd.DataFrame({"n": [1, 2], "c": pd.Series(["x", None], dtype=object)})
    out = numpy_friendly(frame, ["n"], ["c"])
    assert out["n"].dtype == "int64"
    assert out["c"].tolist() == ["x", None]
