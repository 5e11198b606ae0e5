"""Gate, approval, promotion, rollback and ledger against a real ``mlflow server`` process.

One story on the NOAA rainfall data (tests run in file order and build on each other):
a first model; a better challenger approved through the MLflow tag; a challenger that is
not significantly better, rejected with its reasons in the tags; a request nobody answers
expires; approval through Airflow HITL; rollbacks to the previous and to a named version
(and refusals); a hand edit of the alias recorded by the next monitor run; two racing
promotions; a challenger held in shadow that wins on the next live batches. A generated
"loans" model shows a fairness regression blocking a better model.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_config_dir

pytestmark = pytest.mark.integration

MODEL = "rainfall"


def _states(dag_run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


@pytest.fixture(scope="module")
def flow(tmp_path_factory, airflow_db, rainfall_periods, mlflow_server):  # type: ignore[no-untyped-def]
    from retrainer.config import load_model_config
    from retrainer.orchestration.dag_factory import build_dags
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    root = tmp_path_factory.mktemp("gate")
    shared = {
        "storage_root": str(root / "lake"),
        "mlflow_tracking_uri": mlflow_server.url,
        "mlflow_artifact_root": str(mlflow_server.artifact_root),
    }
    approvals = {
        "auto": {"mode": "auto"},
        # A tag cannot prove who set it: mlflow mode runs only with four eyes off.
        "mlflow": {"mode": "mlflow", "four_eyes": False, "timeout_minutes": 10, "poke_seconds": 1},
        "expiring": {
            "mode": "mlflow",
            "four_eyes": False,
            "timeout_minutes": 0.05,
            "poke_seconds": 1,
        },
        "airflow": {"mode": "airflow", "timeout_minutes": 10},
    }
    dirs = {
        name: make_config_dir(
            root / name, overrides={MODEL: {"approval": approval}}, settings=shared
        )
        for name, approval in approvals.items()
    }
    settings = load_settings(dirs["auto"])
    return {
        "dirs": dirs,
        "dags": {name: build_dags(d) for name, d in dirs.items()},
        "settings": settings,
        "config": load_model_config(settings.models_dir / f"{MODEL}.yaml"),
        "storage": open_storage(settings.storage_root),
        "client": connect(settings),
        "periods": rainfall_periods,
    }


def _accept(flow, batch_id: str, frame) -> None:  # type: ignore[no-untyped-def]
    from retrainer.lake import accept_batch

    key = f"batches/{MODEL}/{batch_id}/data.parquet"
    flow["storage"].write_frame(key, frame)
    accept_batch(flow["storage"], flow["config"], batch_id, key)


def _champion(flow) -> str | None:  # type: ignore[no-untyped-def]
    from retrainer.registry import champion_version

    mv = champion_version(flow["client"], MODEL)
    return None if mv is None else str(mv.version)


def _tags(flow, version: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(flow["client"].get_model_version(MODEL, version).tags)


def _newest(flow) -> str:  # type: ignore[no-untyped-def]
    versions = flow["client"].search_model_versions(f"name = '{MODEL}'")
    return str(max(int(v.version) for v in versions))


def _events(flow) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    from retrainer.registry import read_ledger

    return [(e["event"], e.get("version")) for e in read_ledger(flow["storage"], MODEL)]


def _entries(flow, model: str = MODEL) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    from retrainer.registry import read_ledger

    return read_ledger(flow["storage"], model)


def _retrain(flow, mode: str, reason: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    run = flow["dags"][mode][f"{MODEL}_retrain"].test(run_conf={"reason": reason, "force": True})
    return _states(run)


def test_first_model_is_promoted_with_its_report(flow) -> None:  # type: ignore[no-untyped-def]
    _accept(flow, "p0", flow["periods"][0])
    assert _retrain(flow, "auto", "first model") == {
        "train_challenger": "success",
        "evaluate_challenger": "success",
        "promote": "success",
    }
    assert _champion(flow) == "1"
    tags = _tags(flow, "1")
    assert tags["retrainer.gate.decision"] == "promote"
    assert tags["retrainer.gate.rule.absolute_floor"].startswith("pass: challenger roc_auc")
    assert tags["retrainer.gate.safety"] == "pass"
    assert tags["retrainer.validation_suite"].endswith("/validation/suite.json")
    run_id = tags["retrainer.gate.evaluation_run_id"]
    artifacts = {a.path for a in flow["client"].list_artifacts(run_id, "evaluation")}
    assert artifacts == {"evaluation/report.html", "evaluation/report.json"}


def test_better_challenger_is_approved_in_mlflow_and_promoted(flow) -> None:  # type: ignore[no-untyped-def]
    _accept(flow, "p7", flow["periods"][7])  # after the break: v1 is useless here
    client = flow["client"]

    def approve_when_asked() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            waiting = client.search_model_versions(
                f"name = '{MODEL}' and tags.approval = 'pending'"
            )
            if waiting:
                # What a person does in the MLflow UI: edit two version tags.
                client.set_model_version_tag(MODEL, waiting[0].version, "approved_by", "alice")
                client.set_model_version_tag(MODEL, waiting[0].version, "approval", "approved")
                return
            time.sleep(0.5)

    person = threading.Thread(target=approve_when_asked)
    person.start()
    states = _retrain(flow, "mlflow", "drift in p7")
    person.join()
    assert states["request_approval"] == "success"
    assert states["wait_for_approval"] == "success"
    assert states["promote"] == "success"
    assert _champion(flow) == "2"
    tags = _tags(flow, "2")
    assert tags["approval"] == "approved"
    assert tags["retrainer.approval.by"] == "alice" and tags["retrainer.approval.at"]
    assert tags["retrainer.approval.identity"] == "mlflow-tag (unverified)"
    assert tags["retrainer.previous_champion"] == "1"
    # The AUC gain is large and its whole 95% interval is far above zero.
    assert tags["retrainer.gate.rule.superiority"].startswith("pass: roc_auc gain +0.")
    assert "slices judged" in tags["retrainer.gate.rule.slice_regression"]
    assert _events(flow)[-3:] == [
        ("approval_requested", "2"),
        ("approval_approved", "2"),
        ("promote", "2"),
    ]
    answer = _entries(flow)[-2]
    assert answer["actor"] == "alice" and answer["identity"] == "mlflow-tag (unverified)"


def test_not_significantly_better_challenger_is_rejected_with_reasons(flow) -> None:  # type: ignore[no-untyped-def]
    from retrainer.evaluation import evaluate_challenger
    from retrainer.training import train_challenger

    trained = train_challenger(
        flow["client"],
        flow["storage"],
        flow["settings"],
        flow["config"],
        trigger="manual",
        reason="same data",
    )
    evaluation = evaluate_challenger(
        flow["client"], flow["storage"], flow["settings"], flow["config"], trained.version
    )
    assert not evaluation.promote
    tags = _tags(flow, trained.version)
    assert tags["retrainer.gate.decision"] == "reject"
    # Same window and seed: the same model, so no gain and an interval of exactly zero.
    assert tags["retrainer.gate.rule.superiority"].startswith("fail: roc_auc gain +0.0000")
    assert tags["retrainer.gate.rule.improvement"].startswith("fail:")
    assert tags["retrainer.gate.safety"] == "pass"  # not better, but not unsafe
    challenger = flow["client"].get_model_version_by_alias(MODEL, "challenger")
    assert str(challenger.version) == trained.version
    assert _champion(flow) == "2"


def _spare_version(flow, name: str) -> str:  # type: ignore[no-untyped-def]
    """A copy of v1 under another registered model, for approvals outside the story."""
    copied = flow["client"].copy_model_version(f"models:/{MODEL}/1", name)
    return str(copied.version)


def test_four_eyes_turns_a_self_approval_into_a_rejection(flow) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from retrainer.registry.approval import AIRFLOW_LOGIN, record_answer, request_approval

    client, storage = flow["client"], flow["storage"]
    request_approval(
        client,
        storage,
        MODEL,
        "3",
        mode="airflow",
        timeout=timedelta(hours=1),
        requested_by="carol",
    )
    state = record_answer(
        client,
        storage,
        MODEL,
        "3",
        answer="approved",
        by="Carol",
        identity=AIRFLOW_LOGIN,
        requested_by="carol",
    )
    assert state.status == "rejected"
    assert "Carol triggered this run and cannot also approve it" in state.reason
    again = record_answer(
        client,
        storage,
        MODEL,
        "3",
        answer="approved",
        by="dave",
        identity=AIRFLOW_LOGIN,
        requested_by="carol",
    )
    assert again.status == "rejected"  # the first recorded answer stands


def test_four_eyes_rejects_a_tag_approval_nobody_signed(flow) -> None:  # type: ignore[no-untyped-def]
    """Defence in depth below the config check: no approver identity, no approval."""
    from datetime import timedelta

    from retrainer.registry.approval import check_approval, request_approval

    client, storage = flow["client"], flow["storage"]
    name = "rainfall_unsigned"
    version = _spare_version(flow, name)
    request_approval(
        client,
        storage,
        name,
        version,
        mode="mlflow",
        timeout=timedelta(hours=1),
        requested_by="erin",
    )
    # What anyone with EDIT can do in the MLflow UI: approve, leaving approved_by empty.
    client.set_model_version_tag(name, version, "approval", "approved")
    state = check_approval(client, storage, name, version, requested_by="erin", four_eyes=True)
    assert state is not None and state.status == "rejected"
    assert "four eyes needs the approver's identity" in state.reason
    assert state.identity == "mlflow-tag (unverified)"
    answer = _entries(flow, name)[-1]
    assert answer["event"] == "approval_rejected" and answer["actor"] == "unknown"
    assert answer["identity"] == "mlflow-tag (unverified)" and answer["requested_by"] == "erin"


def test_a_hand_written_approval_does_not_outlive_four_eyes(flow) -> None:  # type: ignore[no-untyped-def]
    """Tags saying "approved" before the answer is recorded do not stand against four eyes."""
    from datetime import timedelta

    from retrainer.registry.approval import AIRFLOW_LOGIN, record_answer, request_approval

    client, storage = flow["client"], flow["storage"]
    name = "rainfall_forged"
    version = _spare_version(flow, name)
    request_approval(
        client,
        storage,
        name,
        version,
        mode="airflow",
        timeout=timedelta(hours=1),
        requested_by="frank",
    )
    # frank, with EDIT, writes an answer as if retrainer had recorded one, then self-approves.
    for key, value in {
        "retrainer.approval.by": "grace",
        "retrainer.approval.at": "2026-01-01T00:00:00+00:00",
        "approval": "approved",
    }.items():
        client.set_model_version_tag(name, version, key, value)
    state = record_answer(
        client,
        storage,
        name,
        version,
        answer="approved",
        by="frank",
        identity=AIRFLOW_LOGIN,
        requested_by="frank",
    )
    assert state.status == "rejected" and state.by == "frank"
    assert "frank triggered this run" in state.reason


def test_unanswered_request_expires_and_nothing_moves(flow) -> None:  # type: ignore[no-untyped-def]
    run = flow["dags"]["auto"][f"{MODEL}_rollback"].test(run_conf={"reason": "try v1 again"})
    assert _states(run) == {"rollback": "success"}
    assert _champion(flow) == "1"  # the previous champion

    states = _retrain(flow, "expiring", "nobody is around")
    assert states["wait_for_approval"] == "skipped"
    assert states["promote"] == "skipped"
    version = _newest(flow)
    tags = _tags(flow, version)
    assert tags["retrainer.gate.decision"] == "promote"
    assert tags["approval"] == "expired"
    assert "nobody answered" in tags["retrainer.approval.reason"]
    assert _champion(flow) == "1"
    assert _events(flow)[-2:] == [("approval_requested", version), ("approval_expired", version)]


def _answer_hitl(dag_id: str, option: str, user: str | None, done: threading.Event) -> None:
    """Answer the HITL request as Airflow's REST endpoint does (same function, same DB).

    ``user=None`` answers as a login that carries no identity (empty id and name), the
    way an auth manager without user names would.
    """
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    class Person:
        def get_id(self) -> str:
            return user or ""

        def get_name(self) -> str:
            return user or ""

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not done.is_set():
        with create_session() as session:
            ti = session.scalar(
                select(TaskInstance).where(
                    TaskInstance.dag_id == dag_id,
                    TaskInstance.task_id == "approve",
                    TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                )
            )
            if ti is not None:
                update_hitl_detail(
                    dag_id=dag_id,
                    dag_run_id=ti.run_id,
                    task_id="approve",
                    update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=[option]),
                    user=Person(),  # type: ignore[arg-type]
                    session=session,
                )
                return
        time.sleep(0.5)


def test_airflow_hitl_approval_promotes_and_records_who(flow) -> None:  # type: ignore[no-untyped-def]
    done = threading.Event()
    person = threading.Thread(
        target=_answer_hitl, args=(f"{MODEL}_retrain", "Approve", "bob", done)
    )
    person.start()
    try:
        states = _retrain(flow, "airflow", "approve in Airflow")
    finally:
        done.set()
        person.join()
    assert states["approve"] == "success"
    assert states["promote"] == "success"
    version = _newest(flow)
    assert _champion(flow) == version
    tags = _tags(flow, version)
    assert tags["approval"] == "approved" and tags["retrainer.approval.by"] == "bob"
    assert tags["retrainer.approval.mode"] == "airflow"
    assert tags["retrainer.approval.identity"] == "airflow-login"
    assert _events(flow)[-1] == ("promote", version)
    answer = _entries(flow)[-2]
    assert answer["event"] == "approval_approved" and answer["actor"] == "bob"
    # dag.test() runs are triggered by the user "dag_test": someone else, so bob may approve.
    assert answer["identity"] == "airflow-login" and answer["requested_by"] == "dag_test"


def _hitl_retrain(flow, user: str | None, reason: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    done = threading.Event()
    person = threading.Thread(target=_answer_hitl, args=(f"{MODEL}_retrain", "Approve", user, done))
    person.start()
    try:
        return _retrain(flow, "airflow", reason)
    finally:
        done.set()
        person.join()


def test_hitl_approvals_without_a_login_or_by_the_trigger_are_rejections(flow) -> None:  # type: ignore[no-untyped-def]
    rollback = flow["dags"]["auto"][f"{MODEL}_rollback"]
    run = rollback.test(run_conf={"reason": "make room for a challenger", "target_version": 1})
    assert _states(run) == {"rollback": "success"}

    states = _hitl_retrain(flow, None, "approved with no login")
    assert states["approve"] == "success" and states["promote"] == "skipped"
    version = _newest(flow)
    tags = _tags(flow, version)
    assert tags["approval"] == "rejected" and tags["retrainer.approval.by"] == "unknown"
    assert "four eyes needs the approver's identity" in tags["retrainer.approval.reason"]
    assert _champion(flow) == "1"

    # Airflow knows who triggered the run ("dag_test" under dag.test()): not their call.
    states = _hitl_retrain(flow, "dag_test", "approved by the one who asked")
    assert states["approve"] == "success" and states["promote"] == "skipped"
    version = _newest(flow)
    tags = _tags(flow, version)
    assert tags["approval"] == "rejected" and tags["retrainer.approval.by"] == "dag_test"
    assert "dag_test triggered this run" in tags["retrainer.approval.reason"]
    assert _champion(flow) == "1"
    answer = _entries(flow)[-1]
    assert answer["event"] == "approval_rejected" and answer["identity"] == "airflow-login"


def test_rollback_to_a_named_version_and_refusals(flow) -> None:  # type: ignore[no-untyped-def]
    from retrainer.evaluation import evaluate_challenger
    from retrainer.training import train_challenger

    strict = flow["config"].model_copy(
        update={"gate": flow["config"].gate.model_copy(update={"min_value": 0.99})}
    )
    unsafe = train_challenger(
        flow["client"], flow["storage"], flow["settings"], strict, trigger="manual", reason="strict"
    )
    evaluate_challenger(flow["client"], flow["storage"], flow["settings"], strict, unsafe.version)
    assert _tags(flow, unsafe.version)["retrainer.gate.safety"] == "fail: absolute_floor"

    rollback = flow["dags"]["auto"][f"{MODEL}_rollback"]
    run = rollback.test(run_conf={"reason": "back to the approved p7 model", "target_version": 2})
    assert _states(run) == {"rollback": "success"}
    assert _champion(flow) == "2"
    # v3 failed only the comparison: fit to serve. The floor failure of the new one is not.
    run = rollback.test(
        run_conf={"reason": "below the floor", "target_version": int(unsafe.version)}
    )
    assert _states(run) == {"rollback": "failed"}
    run = rollback.test(run_conf={"reason": "no such version", "target_version": 99})
    assert _states(run) == {"rollback": "failed"}
    assert _champion(flow) == "2"
    assert _events(flow)[-1][0] == "rollback"


def test_hand_edit_is_recorded_by_the_next_monitor_run(flow) -> None:  # type: ignore[no-untyped-def]
    before = datetime.now(UTC)
    flow["client"].set_registered_model_alias(MODEL, "champion", "1")  # a person, in the UI
    run = flow["dags"]["auto"][f"{MODEL}_monitor"].test(run_conf={"batch_id": None})
    assert _states(run)["reconcile_champion"] == "success"
    assert _events(flow)[-1] == ("manual_change", "1")

    from typer.testing import CliRunner

    from retrainer.cli import app

    config_dir = str(flow["dirs"]["auto"])
    runner = CliRunner()
    history = runner.invoke(app, ["history", MODEL, "--config-dir", config_dir])
    assert history.exit_code == 0, history.output
    assert "manual_change v1 (was v2)" in history.output
    assert "approval_approved v2" in history.output and "by alice" in history.output
    at = runner.invoke(
        app, ["history", MODEL, "--at", before.isoformat(), "--config-dir", config_dir]
    )
    assert at.exit_code == 0, at.output
    assert at.output.startswith(f"{MODEL} at {before.isoformat()}: champion v2")


def test_shadow_challenger_is_promoted_after_winning_on_live_batches(flow) -> None:  # type: ignore[no-untyped-def]
    from retrainer.evaluation.shadow import hold_in_shadow, score_shadow

    client, storage, periods = flow["client"], flow["storage"], flow["periods"]
    assert _champion(flow) == "1"  # after the hand edit; v2 is the approved p7 model
    hold_in_shadow(client, storage, MODEL, "2", champion="1", batches=2, actor="t")
    assert _champion(flow) == "1"  # held, not promoted
    running = score_shadow(client, storage, flow["config"], "p8", periods[8], actor="t")
    assert running is not None and running["status"] == "running"
    won = score_shadow(client, storage, flow["config"], "p9", periods[9], actor="t")
    assert won is not None and won["status"] == "won", won
    assert _champion(flow) == "2"
    tags = _tags(flow, "2")
    assert tags["retrainer.shadow"] == "won"
    assert tags["retrainer.promotion_reason"].startswith("won in shadow: mean roc_auc gain +0.")
    assert _events(flow)[-2:] == [("shadow_started", "2"), ("promote", "2")]
    assert storage.exists(f"shadow/{MODEL}/v2/p8.json")


def test_two_racing_promotions_end_with_exactly_one(flow) -> None:  # type: ignore[no-untyped-def]
    from retrainer.errors import RegistryError
    from retrainer.registry import connect, promote

    assert _champion(flow) == "2"
    promotes_before = sum(1 for e, _ in _events(flow) if e == "promote")
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def race(version: str) -> None:
        client = connect(flow["settings"])  # each racer has its own client, like two workers
        barrier.wait()
        try:
            outcomes[version] = promote(
                client,
                flow["storage"],
                MODEL,
                version,
                expected_champion="2",
                reason=f"race {version}",
                actor=f"racer-{version}",
            )
        except RegistryError as exc:
            outcomes[version] = exc

    racers = [threading.Thread(target=race, args=(v,)) for v in ("3", "4")]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    winners = [v for v, o in outcomes.items() if not isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    loser = ({"3", "4"} - set(winners)).pop()
    assert "claimed" in str(outcomes[loser]) or "champion of" in str(outcomes[loser])
    assert _champion(flow) == winners[0]
    assert sum(1 for e, _ in _events(flow) if e == "promote") == promotes_before + 1


def _loans(seed: int, n: int, biased: bool):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.5, "a", "b")
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = (x1 + 0.5 * x2 + rng.normal(scale=0.5, size=n) > 0.3).astype(int)
    if biased:  # new labels that almost never approve group b
        y[(group == "b") & (rng.random(n) < 0.85)] = 0
    # In the past: batches with times after now are blocked (data.max_future_hours).
    start = pd.Timestamp("2015-01-01") + pd.Timedelta(days=n * (seed - 1))
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=n, freq="D"),
            "x1": x1,
            "x2": x2,
            "group": group,
            "y": y,
        }
    )


def test_fairness_regression_blocks_an_otherwise_better_model(
    tmp_path: Path, mlflow_server
) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from retrainer.config import load_model_config
    from retrainer.evaluation import evaluate_challenger
    from retrainer.lake import accept_batch
    from retrainer.registry import connect, promote
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage
    from retrainer.training import train_challenger

    config_dir = make_config_dir(
        tmp_path,
        models=(),
        settings={
            "mlflow_tracking_uri": mlflow_server.url,
            "mlflow_artifact_root": str(mlflow_server.artifact_root),
        },
    )
    spec = {
        "name": "loans",
        "data": {"time_column": "date"},
        "numeric_features": ["x1", "x2"],
        "categorical_features": ["group"],
        "target": {"column": "y", "task": "binary", "positive_label": 1},
        "model": {"estimator": "logistic_regression"},
        "training": {"min_rows": 100},
        "evaluation": {"bootstrap_resamples": 300, "fairness": {"attribute": "group"}},
        "gate": {
            "metric": "accuracy",
            "min_value": 0.6,
            "comparison": {"kind": "superiority", "margin": 0.0},
            "fairness": {"min_disparate_impact": 0.8},
        },
    }
    (config_dir / "models" / "loans.yaml").write_text(yaml.safe_dump(spec))
    settings = load_settings(config_dir)
    config = load_model_config(settings.models_dir / "loans.yaml")
    storage, client = open_storage(settings.storage_root), connect(settings)
    for batch_id, frame in (("b1", _loans(1, 1500, False)), ("b2", _loans(2, 1500, True))):
        key = f"batches/loans/{batch_id}/data.parquet"
        storage.write_frame(key, frame)
        accept_batch(storage, config, batch_id, key)
        trained = train_challenger(
            client, storage, settings, config, trigger="manual", reason=batch_id
        )
        evaluation = evaluate_challenger(client, storage, settings, config, trained.version)
        if batch_id == "b1":
            assert evaluation.promote, evaluation.decision["reason"]
            promote(
                client,
                storage,
                "loans",
                trained.version,
                expected_champion=None,
                reason="first",
                actor="t",
            )
    tags = dict(client.get_model_version("loans", trained.version).tags)
    assert tags["retrainer.gate.decision"] == "reject"
    assert tags["retrainer.gate.rule.superiority"].startswith("pass:")  # better on the holdout
    assert tags["retrainer.gate.rule.fairness_disparate_impact"].startswith(
        "fail: disparate impact"
    )
    assert tags["retrainer.gate.safety"] == "fail: fairness_disparate_impact"
    assert str(client.get_model_version_by_alias("loans", "champion").version) == "1"
