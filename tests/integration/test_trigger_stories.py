"""The trigger policy's "done when" stories on real data, batch by batch.

a. Seattle weather: a 2012 champion, then monthly batches of 2013-2014 with labels. The
   label's meaning drifts (wet days turn from "rain" into "fog") while the inputs do not:
   the policy retrains on decay with the drift verdict quiet, and the new champion is
   back above 0.65 accuracy on 2014.
b. Rainfall: bootstrap batches drawn from the reference period (1949-1958) never trigger.
   (Seattle's first months, still like 2012, are decided "none" too.)
c. Rainfall: the ten periods; retrains happen after the break (period 6), never before.

Each stream goes through the monitor's and the retrain's domain steps against a real
MLflow SQLite store (see ``stories.py``); the decision tables are printed (``-s``) and
written to ``$TRIGGER_STORY_DIR`` when set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.stories import Stream

pytestmark = pytest.mark.integration


def _save(stream: Stream, name: str, title: str) -> None:
    text = stream.table(title)
    print("\n" + text)
    target = os.environ.get("TRIGGER_STORY_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        (Path(target) / f"{name}.txt").write_text(text + "\n")


@pytest.fixture(scope="module")
def root(tmp_path_factory):  # type: ignore[no-untyped-def]
    # One home (one MLflow store) for both models: creating a SQLite store costs seconds.
    return tmp_path_factory.mktemp("stories")


def test_seattle_retrains_on_decay_while_drift_stays_quiet(root: Path) -> None:
    from retrainer.config import WindowConfig
    from retrainer.datasets import load_seattle_weather
    from retrainer.registry import champion_version
    from retrainer.registry.safe_load import load_model_version

    stream = Stream.open(root, "seattle_weather", {"evaluation": {"bootstrap_resamples": 200}})
    frame = load_seattle_weather()
    months = frame.groupby([frame["date"].dt.year, frame["date"].dt.month])
    for (year, month), batch in months:
        if year == 2012:
            stream.accept(f"{year}-{month:02d}", batch.reset_index(drop=True))
    # The first champion learns all of 2012 (a manual run with the window Param).
    version, promoted = stream.retrain(
        "manual", "initial champion on 2012", window=WindowConfig(kind="expanding")
    )
    assert (version, promoted) == ("1", True)

    champion_before_2014 = None
    for (year, month), batch in months:
        if year in (2013, 2014):
            if (year, month) == (2014, 1):
                champion_before_2014 = champion_version(stream.client, stream.model)
            stream.step(f"{year}-{month:02d}", batch.reset_index(drop=True))
    _save(stream, "seattle", "Seattle weather: monthly batches 2013-2014, champion from 2012")

    rows = stream.rows
    assert all(r.drift is False for r in rows), "the inputs barely change: drift stays quiet"
    retrains = [r for r in rows if r.decision == "retrain"]
    assert retrains and all(r.event == "decay" for r in retrains)
    assert "promoted" in retrains[0].action
    assert all(r.decision == "none" for r in rows[:3]), "2013 starts like 2012"
    # Every decay retrain follows M of N breaches, never a single bad month.
    for r in retrains:
        assert any("of last 4 batches" in reason for reason in r.reasons)
    first = stream.client.get_model_version(stream.model, retrains[0].action.split()[0][1:])
    assert first.tags["retrainer.trigger"] == "decay"
    assert first.tags["retrainer.trigger_batch"] == retrains[0].batch_id
    assert first.tags["retrainer.window_policy"].startswith("since_break")

    test = frame[frame["date"].dt.year == 2014]
    features = stream.config.features

    def accuracy(version: str) -> float:
        model = load_model_version(stream.client, stream.config, version)
        return float((model.predict(test[features]) == test["weather"]).mean())

    assert accuracy("1") < 0.5  # the 2012 model on 2014
    # The champion that went into 2014 was retrained in 2013, so 2014 is unseen data.
    assert champion_before_2014 is not None and champion_before_2014.version != "1"
    assert accuracy(str(champion_before_2014.version)) > 0.65
    final = champion_version(stream.client, stream.model)
    assert final is not None and accuracy(str(final.version)) > 0.65


def test_rainfall_reference_stream_never_retrains_and_the_break_does(
    root: Path, rainfall_periods
) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    # Fewer bootstrap resamples and no slices keep the three evaluations quick; the
    # trigger decisions do not depend on them.
    stream = Stream.open(
        root,
        "rainfall",
        {
            "evaluation": {"bootstrap_resamples": 200, "slices": {"columns": []}},
            "gate": {"max_slice_regression": None},
        },
    )
    stream.accept("p0", rainfall_periods[0], validate=False)
    assert stream.retrain("manual", "initial champion") == ("1", True)

    # b. Batches resampled (with replacement, seeded) from the reference period 0-1.
    reference = pd.concat(rainfall_periods[:2], ignore_index=True)
    rng = np.random.default_rng(7)
    for i in range(4):
        rows = np.sort(rng.choice(len(reference), size=700, replace=True))
        stream.step(f"ref{i}", reference.iloc[rows].reset_index(drop=True), validate=False)
    assert [r.decision for r in stream.rows] == ["none"] * 4
    reference_rows = list(stream.rows)

    # c. The periods after the champion's own, in order.
    stream.rows = []
    for index in range(1, 10):
        stream.step(f"p{index}", rainfall_periods[index], validate=False)
    stream.rows = reference_rows + stream.rows
    _save(stream, "rainfall", "Rainfall: 4 reference bootstrap batches, then periods 1-9")

    periods = {r.batch_id: r for r in stream.rows if r.batch_id.startswith("p")}
    before = [periods[f"p{i}"] for i in range(1, 6)]
    after = [periods[f"p{i}"] for i in range(6, 10)]
    assert all(r.decision == "none" for r in before), "no retrain before the break"
    assert periods["p6"].decision == "retrain" and periods["p6"].event == "decay"
    assert "promoted" in periods["p6"].action
    assert all(r.event in (None, "decay") for r in after)
