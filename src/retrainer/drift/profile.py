"""Mergeable, JSON-serialisable profiles of a data set, feature by feature.

A reference profile is computed once, at training time, and stored with the model
version (with the model's score distribution), so promotion and rollback swap the
reference with the model. A batch is then profiled *on the reference's bins*
(:mod:`retrainer.drift.build`, :mod:`retrainer.drift.stream`), so comparing them is cheap
and two partial batch profiles add up to the profile of their union (chunks, partitions).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "UNSEEN",
    "CategoricalProfile",
    "FeatureProfile",
    "NumericProfile",
    "Profile",
    "merge_profiles",
]

UNSEEN = "__unseen__"


@dataclass(frozen=True)
class NumericProfile:
    """Counts on fixed bins plus exactly mergeable moments.

    ``edges`` are interior edges only: bin 0 is ``(-inf, e0]``, bin i is ``(e(i-1), ei]``
    and the last bin is ``(e(k-1), +inf)``, so values outside the reference range
    (including +/-inf) land in the outer bins instead of being lost.

    ``counts`` cover every non-missing value and ``missing`` the NaN/None ones. The
    moments (``count``, ``total``, ``total_sq``, ``min``, ``max``) and ``tails``, the sums
    of the values in the lowest and the highest bin (which give the Wasserstein distance
    its tails), cover the finite values only, so an infinity is binned without turning the
    mean into inf. An empty profile has ``min = +inf`` and ``max = -inf``, the identities
    of min and max, so merging it is a no-op.

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
    # Empty in profiles written before tail sums existed: see tail_sums().
    tails: tuple[float, ...] = ()
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

    def tail_sums(self) -> tuple[float, float]:
        """Sums of the finite values in the lowest and the highest bin.

        Older profiles lack them: their outer bins are then taken to sit at ``min`` and
        ``max`` (or the outer edge), a cruder stand-in.
        """
        if len(self.tails) == 2:
            return self.tails[0], self.tails[1]
        if not self.edges:
            return self.total, self.total
        low = min(self.min, self.edges[0]) if math.isfinite(self.min) else self.edges[0]
        high = max(self.max, self.edges[-1]) if math.isfinite(self.max) else self.edges[-1]
        return self.counts[0] * low, self.counts[-1] * high

    def merge(self, other: NumericProfile) -> NumericProfile:
        if self.edges != other.edges:
            raise ValueError("cannot merge numeric profiles with different bins")
        tails: tuple[float, ...] = ()
        if len(self.tails) == len(other.tails) == 2:
            tails = (self.tails[0] + other.tails[0], self.tails[1] + other.tails[1])
        return NumericProfile(
            self.edges,
            tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            self.missing + other.missing,
            self.count + other.count,
            self.total + other.total,
            self.total_sq + other.total_sq,
            min(self.min, other.min),
            max(self.max, other.max),
            tails,
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
            "tails": list(self.tails),
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
            tuple(float(s) for s in data.get("tails", ())),
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
    """Per-feature profiles of one data set (a reference, a batch or a chunk of one).

    ``prediction`` profiles the model's output on the same rows (the positive-class
    score, the predicted class or the regression output) when it is known: the
    reference's comes from training, a batch's from the monitor's scoring.
    """

    features: dict[str, FeatureProfile] = field(default_factory=dict)
    row_count: int = 0
    prediction: FeatureProfile | None = None

    def merge(self, other: Profile) -> Profile:
        """Add two partial profiles on the same bins: the profile of the union of their rows."""
        if set(self.features) != set(other.features):
            raise ValueError("cannot merge profiles of different feature sets")
        merged = {name: _merge(self.features[name], other.features[name]) for name in self.features}
        if (self.prediction is None) != (other.prediction is None):
            raise ValueError("cannot merge a profile with predictions and one without")
        prediction = None
        if self.prediction is not None and other.prediction is not None:
            prediction = _merge(self.prediction, other.prediction)
        return Profile(merged, self.row_count + other.row_count, prediction)

    def with_prediction(self, prediction: FeatureProfile | None) -> Profile:
        return Profile(self.features, self.row_count, prediction)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "row_count": self.row_count,
            "features": {name: p.to_dict() for name, p in self.features.items()},
        }
        if self.prediction is not None:
            data["prediction"] = self.prediction.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        features = {name: _feature(item) for name, item in data["features"].items()}
        prediction = data.get("prediction")
        return cls(
            features,
            int(data["row_count"]),
            None if prediction is None else _feature(prediction),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        return cls.from_dict(json.loads(text))


def merge_profiles(profiles: Iterable[Profile]) -> Profile:
    """Merge partial profiles (chunks, partitions) into the profile of all their rows."""
    merged: Profile | None = None
    for profile in profiles:
        merged = profile if merged is None else merged.merge(profile)
    if merged is None:
        raise ValueError("no profiles to merge")
    return merged


def _feature(item: dict[str, Any]) -> FeatureProfile:
    if item["kind"] == "numeric":
        return NumericProfile.from_dict(item)
    return CategoricalProfile.from_dict(item)


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
