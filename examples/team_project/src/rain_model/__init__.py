"""A team's own rain model: a feature of its own, then gradient boosting (see make_model)."""

from rain_model.model import make_model

__all__ = ["make_model"]
