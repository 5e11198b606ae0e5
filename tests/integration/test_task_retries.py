"""A task killed at any instant is finished by its retry: one version, one run, none left open.

A real MLflow SQLite store and a local lake (the rainfall stream). The attempt that dies
runs in a child process killed at a crash point (:mod:`tests.integration.crash_points`);
the retry runs here with the same Airflow task identity, as Airflow's ``retries`` run it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.crash_points import run_attempt
from tests.integration.stories import Stream

pytestmark = pytest.mark.integration

MODEL = "rainfall"


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory, rainfall_periods: Any) -> Stream:
    root = tmp_path_factory.mktemp("retries")
    stream = Stream.open(root, MODEL, {"evaluation": {"bootstrap_resamples": 100}})
    stream.accept("p0", rainfall_periods[0], validate=False)
    assert stream.retrain("manual", "first champion") == ("1", True)
    stream.accept("p1", rainfall_periods[1], validate=False)
    return stream


def _task(run: str, task: str) -> dict[str, str]:
    return {"airflow_dag_id": f"{MODEL}_retrain", "airflow_run_id": run, "airflow_task_id": task}


def _retry_training(stream: Stream, context: dict[str, str]) -> Any:
    from retrainer.training import train_challenger

    return train_challenger(
        stream.client,
        stream.storage,
        stream.settings,
        stream.config,
        trigger="manual",
        reason="attempt 2",
        context=context,
    )


def _versions_of(stream: Stream, airflow_run: str) -> list[Any]:
    from retrainer.registry.tags import TASK_KEY

    runs = stream.client.search_runs(
        [_experiment(stream)], filter_string=f"tags.`{TASK_KEY}` LIKE '%/{airflow_run}/%'"
    )
    return [
        mv
        for run in runs
        for mv in stream.client.search_model_versions(f"run_id = '{run.info.run_id}'")
    ]


def _experiment(stream: Stream) -> str:
    return str(stream.client.get_experiment_by_name(MODEL).experiment_id)


def test_train_killed_right_after_registering_retries_into_one_fully_tagged_version(
    stream: Stream,
) -> None:
    from retrainer.registry.tags import BATCHES, HOLDOUT_KEY, REASON, RUN_ID, TRIGGER

    context = _task("manual__killed-after-register", "train")
    before = {v.version for v in stream.client.search_model_versions(f"name = '{MODEL}'")}
    run_attempt(str(stream.data.parent / "config"), MODEL, context, "create_model_version")
    after_kill = stream.client.search_model_versions(f"name = '{MODEL}'")
    assert len(after_kill) == len(before) + 1  # the attempt registered, then died

    trained = _retry_training(stream, context)
    versions = stream.client.search_model_versions(f"name = '{MODEL}'")
    assert len(versions) == len(before) + 1, "the retry registered a second version"
    assert trained.reused and trained.version not in before
    mv = stream.client.get_model_version(MODEL, trained.version)
    assert mv.tags[RUN_ID] == mv.run_id == trained.run_id
    assert mv.tags[TRIGGER] == "manual" and mv.tags[REASON] == "attempt 1"
    assert "p1" in mv.tags[BATCHES].split(",") and mv.tags[HOLDOUT_KEY] == trained.holdout_key
    assert mv.tags["retrainer.airflow_run_id"] == "manual__killed-after-register"
    assert trained.metrics and trained.metrics == {
        k.removeprefix("retrainer.holdout_"): float(v)
        for k, v in mv.tags.items()
        if k.startswith("retrainer.holdout_") and k != HOLDOUT_KEY
    }
    # Its gate can judge it: the evaluation reads the holdout the tags name.
    from retrainer.evaluation import evaluate_challenger

    evaluation = evaluate_challenger(
        stream.client, stream.storage, stream.settings, stream.config, trained.version
    )
    assert evaluation.challenger_version == trained.version


def test_train_killed_mid_run_leaves_no_run_running_after_its_retry(stream: Stream) -> None:
    from retrainer.registry.tags import ENDED_REASON, TASK_KEY

    context = _task("manual__killed-mid-run", "train")
    run_attempt(str(stream.data.parent / "config"), MODEL, context, "log_dict")
    key = f"{MODEL}_retrain/manual__killed-mid-run/train"
    query = f"tags.`{TASK_KEY}` = '{key}'"
    killed = stream.client.search_runs([_experiment(stream)], filter_string=query)
    assert [r.info.status for r in killed] == ["RUNNING"]  # what the dead attempt left

    trained = _retry_training(stream, context)
    runs = {r.info.run_id: r for r in stream.client.search_runs([_experiment(stream)], query)}
    assert "RUNNING" not in {r.info.status for r in runs.values()}
    dead = runs[killed[0].info.run_id]
    assert dead.info.status == "KILLED"
    assert "killed" in dead.data.tags[ENDED_REASON] and key in dead.data.tags[ENDED_REASON]
    assert runs[trained.run_id].info.status == "FINISHED"
    assert [str(v.version) for v in _versions_of(stream, "manual__killed-mid-run")] == [
        trained.version
    ]


def test_a_retried_monitor_step_reuses_its_run(stream: Stream, rainfall_periods: Any) -> None:
    from retrainer.monitoring import check_batch
    from retrainer.registry.tags import BATCH_ID, RUN_KIND

    stream.accept("p2", rainfall_periods[2], validate=False)
    context = {**_task("asset__p2", "check_drift"), "airflow_dag_id": f"{MODEL}_monitor"}
    for _ in range(2):  # the attempt whose task failed after its run ended, and the retry
        check_batch(
            stream.client, stream.storage, stream.settings, stream.config, "p2", context=context
        )
    runs = stream.client.search_runs(
        [_experiment(stream)],
        filter_string=f"tags.`{RUN_KIND}` = 'monitoring' and tags.`{BATCH_ID}` = 'p2'",
    )
    assert len(runs) == 1, [r.info.run_id for r in runs]
    assert runs[0].info.status == "FINISHED"
    assert "drift_score" in runs[0].data.metrics
