"""The team's feature: how far the air is from saturation."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin


class DewPointSpread(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Add ``dew_point_spread`` = temperature - dew point (small spread: humid air, rain)."""

    def fit(self, X: Any, y: Any = None) -> DewPointSpread:
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> Any:
        out = X.copy()
        out["dew_point_spread"] = out["temperature"] - out["dew_point"]
        return out
