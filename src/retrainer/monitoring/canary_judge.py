"""Judge every canary on its accumulated live evidence, then act on the decision.

Evidence accumulates across batches: every batch whose performance record shows the
canary among its serving versions contributes the rows the canary and the champion served
(read back from the prediction log, with the labels joined so far). The decision
(:func:`retrainer.monitoring.canary.decide_canary`) is written to the canary's version
tags, to ``reports/<m>/<batch>/canary.json`` and to the ``monitor-<batch>`` MLflow run
of the batches of this run, then:

- **promote**: through :func:`retrainer.registry.promotion.promote` (claim, compare-and-set
  on the champion, ledger), and the share tag is cleared. Only when the model's approval
  mode is ``auto``: otherwise a person decides, so the decision is recorded and alerted.
- **stop**: the share tag is cleared (:func:`retrainer.registry.traffic.stop_traffic`,
  ledger ``canary_stop``) and an alert goes out.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from retrainer.errors import NothingToDo
from retrainer.lake import accepted_ids, keys, read_performance
from retrainer.monitoring.canary import CanaryDecision, decide_canary
from retrainer.monitoring.live_ab import compare_versions
from retrainer.monitoring.realized import batch_labels
from retrainer.registry.promotion import promote
from retrainer.registry.tags import (
    BATCH_ID,
    CANARY_DECISION,
    CANARY_EVIDENCE,
    CANARY_REASON,
    RUN_KIND,
    canary_run_tag,
)
from retrainer.registry.traffic import canary_shares, stop_traffic
from retrainer.registry.versions import champion_version, set_tags

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.notify import AlertSink
    from retrainer.storage import Storage

__all__ = ["gather_evidence", "judge_canaries"]

log = logging.getLogger(__name__)


def gather_evidence(
    storage: Storage, config: ModelConfig, canary: str, champion: str
) -> tuple[pd.DataFrame, pd.Series | None, list[str]]:
    """The served rows of ``canary`` and ``champion`` over every batch the canary served in.

    Returns:
        The prediction-log rows, their labels (missing where none arrived yet) and the
        batch ids they came from, oldest first.
    """
    import pandas as pd

    frames: list[pd.DataFrame] = []
    labels: list[pd.Series] = []
    used: list[str] = []
    for batch_id in sorted(accepted_ids(storage, config.name)):
        record = read_performance(storage, config.name, batch_id)
        if record is None or canary not in record.by_version.get("versions", {}):
            continue
        frame = storage.read_frame(keys.prediction_log(config.name, batch_id))
        frame = frame.reset_index(drop=True)
        y = batch_labels(storage, config, batch_id, frame)
        keep = frame["model_version"].astype(str).isin([canary, champion]).to_numpy()
        frames.append(frame.loc[keep].reset_index(drop=True))
        labels.append(
            pd.Series([None] * int(keep.sum()), dtype=object)
            if y is None
            else y[keep].reset_index(drop=True)
        )
        used.append(batch_id)
    if not frames:
        return pd.DataFrame({"model_version": []}), None, []
    return pd.concat(frames, ignore_index=True), pd.concat(labels, ignore_index=True), used


def _decide(storage: Storage, config: ModelConfig, canary: str, champion: str) -> CanaryDecision:
    frame, y, batches = gather_evidence(storage, config, canary, champion)
    comparison = compare_versions(frame, y, config, champion) if batches else {}
    live = config.gate.live
    return decide_canary(
        comparison,
        canary,
        champion,
        metric=config.gate.live_metric,
        margin=config.gate.live_margin,
        min_rows=live.min_rows,
        batches=batches,
    )


def judge_canaries(
    client: MlflowClient,
    storage: Storage,
    config: ModelConfig,
    batch_ids: list[str],
    *,
    alert: AlertSink,
    actor: str,
    context: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Decide and act on every version that holds a traffic share; return the outcomes.

    ``batch_ids`` are the batches this run assessed: each gets the decisions in its
    ``canary.json``.

    Raises:
        NothingToDo: no version holds a traffic share, or there is no champion.
    """
    model = config.name
    shares = canary_shares(client, model)
    champion = champion_version(client, model)
    if not shares:
        raise NothingToDo("no version holds a traffic share")
    if champion is None:
        raise NothingToDo("no champion to judge a canary against")
    champ = str(champion.version)
    outcomes: list[dict[str, Any]] = []
    for canary, share in sorted(shares.items()):
        if canary == champ:
            # Made champion another way (a retrain, a rollback, a hand edit): it serves the
            # rest now, so a share on it would tell the serving side two things.
            stopped = stop_traffic(
                client,
                storage,
                model,
                canary,
                actor=actor,
                reason="the canary became champion outside the live gate",
                context=context,
            )
            outcomes.append(
                {"version": canary, "share": share, "action": "stop", "reason": stopped["reason"]}
            )
            continue
        decision = _decide(storage, config, canary, champ)
        outcome: dict[str, Any] = {"share": share, **decision.to_dict()}
        set_tags(
            client,
            model,
            canary,
            {
                CANARY_DECISION: decision.action,
                CANARY_REASON: decision.reason,
                CANARY_EVIDENCE: json.dumps(decision.evidence(), sort_keys=True)[:4000],
            },
        )
        log.info("%s canary v%s: %s (%s)", model, canary, decision.action, decision.reason)
        if decision.action == "stop":
            stopped = stop_traffic(
                client,
                storage,
                model,
                canary,
                actor=actor,
                reason=f"live gate: {decision.reason}",
                evidence=decision.evidence(),
                context=context,
            )
            outcome["ledger_key"] = stopped["ledger_key"]
            alert(
                f"{model}: canary v{canary} stopped on live evidence",
                f"{decision.reason}; its traffic share {share:g} was cleared",
                decision.to_dict(),
            )
        elif decision.action == "promote":
            outcome.update(_promote(client, storage, config, decision, actor, alert, context))
        outcomes.append(outcome)
    for batch_id in batch_ids:
        storage.write_json(keys.report(model, batch_id, keys.CANARY), {"canaries": outcomes})
    _log_on_monitor_runs(client, model, batch_ids, outcomes)
    return outcomes


def _log_on_monitor_runs(
    client: MlflowClient, model: str, batch_ids: list[str], outcomes: list[dict[str, Any]]
) -> None:
    """Put the decisions on each batch's ``monitor-<batch>`` run, where the drift report is."""
    experiment = client.get_experiment_by_name(model)
    if experiment is None:
        return
    for batch_id in batch_ids:  # ids are checked against the lake's pattern: safe to quote
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.`{BATCH_ID}` = '{batch_id}' and tags.`{RUN_KIND}` = 'monitoring'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not runs:
            continue
        run_id = runs[0].info.run_id
        client.log_dict(run_id, {"canaries": outcomes}, "canary/decisions.json")
        for outcome in outcomes:
            version = outcome["version"]
            text = f"{outcome['action']}: {outcome['reason']}"
            client.set_tag(run_id, canary_run_tag(version), text[:4000])
            client.log_metric(
                run_id, f"canary_v{version}_labelled_rows", outcome["labelled_rows"].get(version, 0)
            )
            if outcome.get("interval"):
                client.log_metric(
                    run_id, f"canary_v{version}_gain", outcome["interval"]["difference"]
                )


def _promote(
    client: MlflowClient,
    storage: Storage,
    config: ModelConfig,
    decision: CanaryDecision,
    actor: str,
    alert: AlertSink,
    context: dict[str, Any] | None,
) -> dict[str, Any]:
    """Promote the canary if the gate alone may; otherwise say a person must."""
    model, canary = config.name, decision.version
    mode = "auto" if config.approval is None else config.approval.mode
    if mode != "auto":
        alert(
            f"{model}: canary v{canary} won on live evidence; approval needed",
            f"{decision.reason}; approval mode {mode}: a person promotes it",
            decision.to_dict(),
        )
        return {"promoted": False, "approval_mode": mode}
    change = promote(
        client,
        storage,
        model,
        canary,
        expected_champion=decision.champion_version,
        reason=f"live gate: {decision.reason}",
        actor=actor,
        context=context,
    )
    # Champion now: it serves whatever no canary takes, so its share tag must go.
    stop_traffic(
        client,
        storage,
        model,
        canary,
        actor=actor,
        reason=f"promoted to champion on live evidence (v{decision.champion_version} replaced)",
        context=context,
    )
    alert(
        f"{model}: canary v{canary} promoted on live evidence",
        decision.reason,
        decision.to_dict(),
    )
    return {"promoted": True, **change.to_dict()}
