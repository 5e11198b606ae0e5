"""Mergeable, JSON-serialisable profiles of a data set, feature by feature.

A reference profile is computed once, at training time, and stored with the model
version. A batch is then profiled *on the reference's bins*, so comparing them is cheap
and two partial batch profiles add up to the profile of their union (chunks, partitions).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "UNSEEN",
    "CategoricalProfile",
    "NumericProfile",
    "Profile",
    "build_reference_profile",
    "profile_batch",
]

UNSEEN = "__unseen__"


@dataclass(frozen=True)
class NumericProfile:
    """Counts on fixed bins plus exactly mergeable moments.

    ``edges`` are interior edges only: bin 0 is ``(-inf, e0]``, bin i is ``(e(i-1), ei]``
    and the last bin is ``(e(k-1), +inf)``, so values outside the reference range
    (including +/-inf) land in the outer bins instead of being lost.

    ``counts`` cover every non-missing value and ``missing`` the NaN/None ones. The
    moments (``count``, ``total``, ``total_sq``, ``min``, ``max``) cover the finite values
    only, so an infinity is binned without turning the mean into inf. An empty profile has
    ``min = +inf`` and ``max = -inf``, the identities of min and max, so merging it is a
    no-op.

    Notes:
        Sums rather than means are kept so that merging is addition: with
        :math:`S = \\sum x` and :math:`Q = \\sum x^2` over :math:`n` finite values,
        :math:`\\bar x = S / n` and :math:`s^2 = (Q - S^2 / n) / (n - 1)`.
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    missing: int
    count: int
    total: float
    total_sq: float
    min: float
    max: float
    kind: str = "numeric"

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan

    @property
    def std(self) -> float:
        if self.count < 2:
            return math.nan
        var = (self.total_sq - self.total**2 / self.count) / (self.count - 1)
        return math.sqrt(max(var, 0.0))

    def merge(self, other: NumericProfile) -> NumericProfile:
        if self.edges != other.edges:
            raise ValueError("cannot merge numeric profiles with different bins")
        return NumericProfile(
            self.edges,
            tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            self.missing + other.missing,
            self.count + other.count,
            self.total + other.total,
            self.total_sq + other.total_sq,
            min(self.min, other.min),
            max(self.max, other.max),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "numeric",
            "edges": list(self.edges),
            "counts": list(self.counts),
            "missing": self.missing,
            "count": self.count,
            "total": self.total,
            "total_sq": self.total_sq,
            "min": _json_float(self.min),
            "max": _json_float(self.max),
            "mean": _json_float(self.mean),
            "std": _json_float(self.std),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericProfile:
        return cls(
            tuple(float(e) for e in data["edges"]),
            tuple(int(c) for c in data["counts"]),
            int(data["missing"]),
            int(data["count"]),
            float(data["total"]),
            float(data["total_sq"]),
            _float(data["min"], math.inf),
            _float(data["max"], -math.inf),
        )


@dataclass(frozen=True)
class CategoricalProfile:
    """Category counts; a batch profile folds categories the reference never saw into
    :data:`UNSEEN`."""

    counts: dict[str, int]
    missing: int
    kind: str = "categorical"

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        merged = dict(self.counts)
        for key, value in other.counts.items():
            merged[key] = merged.get(key, 0) + value
        return CategoricalProfile(merged, self.missing + other.missing)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "categorical", "counts": dict(self.counts), "missing": self.missing}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalProfile:
        return cls({str(k): int(v) for k, v in data["counts"].items()}, int(data["missing"]))


FeatureProfile = NumericProfile | CategoricalProfile


@dataclass(frozen=True)
class Profile:
    """Per-feature profiles of one data set (a reference, a batch or a chunk of one)."""

    features: dict[str, FeatureProfile] = field(default_factory=dict)
    row_count: int = 0

    def merge(self, other: Profile) -> Profile:
        """Add two partial profiles on the same bins: the profile of the union of their rows."""
        if set(self.features) != set(other.features):
            raise ValueError("cannot merge profiles of different feature sets")
        merged = {name: _merge(self.features[name], other.features[name]) for name in self.features}
        return Profile(merged, self.row_count + other.row_count)

    def to_dict(self) -> dict[str, Any]:
        return {
            "row_count": self.row_count,
            "features": {name: p.to_dict() for name, p in self.features.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        features: dict[str, FeatureProfile] = {}
        for name, item in data["features"].items():
            if item["kind"] == "numeric":
                features[name] = NumericProfile.from_dict(item)
            else:
                features[name] = CategoricalProfile.from_dict(item)
        return cls(features, int(data["row_count"]))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        return cls.from_dict(json.loads(text))


def _merge(a: FeatureProfile, b: FeatureProfile) -> FeatureProfile:
    if isinstance(a, NumericProfile) and isinstance(b, NumericProfile):
        return a.merge(b)
    if isinstance(a, CategoricalProfile) and isinstance(b, CategoricalProfile):
        return a.merge(b)
    raise ValueError("cannot merge a numeric with a categorical profile")


def _json_float(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _float(value: Any, empty: float) -> float:
    # JSON has no infinities: None stands for the +/-inf of an empty profile.
    return empty if value is None else float(value)


def _numeric(values: Any, edges: tuple[float, ...]) -> NumericProfile:
    import numpy as np

    array = np.asarray(values, dtype="float64")
    nan = np.isnan(array)
    present = array[~nan]
    # side="left": a value equal to an edge belongs to the bin that edge closes.
    bins = np.searchsorted(np.asarray(edges, dtype="float64"), present, side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1)
    finite = present[np.isfinite(present)]
    return NumericProfile(
        edges,
        tuple(int(c) for c in counts),
        int(nan.sum()),
        int(finite.size),
        float(finite.sum()),
        float(np.square(finite).sum()),
        float(finite.min()) if finite.size else math.inf,
        float(finite.max()) if finite.size else -math.inf,
    )


def _category(value: Any) -> str:
    # An int column turns float as soon as it holds a NaN: 1, 1.0 and "1" are one category.
    if isinstance(value, float) and value.is_integer():  # np.float64 is a float too
        return str(int(value))
    return str(value)


def _categorical(values: Any, known: set[str] | None) -> CategoricalProfile:
    import pandas as pd

    series = pd.Series(values)
    missing = int(series.isna().sum())
    counts: dict[str, int] = {}
    # Count the raw values first: converting only the distinct keys to str is far cheaper.
    for key, value in series.value_counts(dropna=True, sort=False).items():
        if value:
            counts[_category(key)] = counts.get(_category(key), 0) + int(value)
    if known is not None:
        folded = dict.fromkeys(known, 0)
        folded[UNSEEN] = 0
        for key, value in counts.items():
            folded[key if key in known else UNSEEN] += value
        counts = folded
    return CategoricalProfile(counts, missing)


def _numeric_values(frame: pd.DataFrame, name: str) -> Any:
    import numpy as np
    import pandas as pd

    # Unparseable text becomes NaN and so counts as missing (validation reports the type).
    numbers = pd.to_numeric(frame[name], errors="coerce")
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def build_reference_profile(
    frame: pd.DataFrame, numeric: list[str], categorical: list[str], bins: int = 10
) -> Profile:
    """Profile the training data: quantile bins for numeric features, category counts.

    Numeric edges are the quantiles ``1/bins, ..., (bins-1)/bins`` of the finite values.
    Tied quantiles (a feature with few distinct values) collapse into one edge, so such a
    feature gets fewer bins rather than empty ones.
    """
    import numpy as np

    features: dict[str, FeatureProfile] = {}
    for name in numeric:
        values = _numeric_values(frame, name)
        finite = values[np.isfinite(values)]
        edges: tuple[float, ...] = ()
        if finite.size:
            quantiles = np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])
            edges = tuple(float(e) for e in np.unique(quantiles))
        features[name] = _numeric(values, edges)
    for name in categorical:
        features[name] = _categorical(frame[name], None)
    return Profile(features, len(frame))


def profile_batch(frame: pd.DataFrame, reference: Profile) -> Profile:
    """Profile a batch (or a chunk of one) on the reference's bins and categories.

    NaN and None count as missing; +/-inf land in the outer bins; categories the reference
    never saw are counted in :data:`UNSEEN`. A feature absent from the batch counts as
    all-missing rather than being skipped. Profiles of chunks merge with
    :meth:`Profile.merge`.
    """
    import numpy as np

    features: dict[str, FeatureProfile] = {}
    n = len(frame)
    for name, ref in reference.features.items():
        if isinstance(ref, NumericProfile):
            values = _numeric_values(frame, name) if name in frame else np.full(n, np.nan)
            features[name] = _numeric(values, ref.edges)
        else:
            column = frame[name] if name in frame else [None] * n
            features[name] = _categorical(column, set(ref.counts) - {UNSEEN})
    return Profile(features, n)
