"""Shadow mode: a gated challenger is scored beside the champion on the next K live batches.

The holdout says how the challenger does on the past; shadow scoring says how it does on
the batches that arrive after the decision. A challenger held in shadow keeps the
``challenger`` alias and the tag ``retrainer.shadow=running``; each monitored batch with
labels adds one result under ``shadow/<model>/v<version>/<batch>.json``; after K results
it is promoted if its mean gain on the gate metric is positive, else marked ``lost``. The
promotion is the usual compare-and-set against the champion it was evaluated against.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from retrainer.errors import NothingToDo
from retrainer.evaluation.metrics import compute_metrics
from retrainer.lake import keys
from retrainer.metric_specs import greater_is_better
from retrainer.registry.ledger import record_event
from retrainer.registry.promotion import promote
from retrainer.registry.tags import (
    CHALLENGER,
    SHADOW,
    SHADOW_BATCHES,
    SHADOW_CHAMPION_VERSION,
    SHADOW_REASON,
)
from retrainer.registry.versions import (
    challenger_version,
    champion_version,
    get_version,
    set_tags,
)

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.storage import Storage

__all__ = ["hold_in_shadow", "score_shadow", "score_shadow_batches", "shadow_verdict"]

log = logging.getLogger(__name__)


def hold_in_shadow(
    client: MlflowClient,
    storage: Storage,
    model: str,
    version: str,
    *,
    champion: str | None,
    batches: int,
    actor: str,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Hold a gated (and approved) challenger in shadow instead of promoting it now."""
    if get_version(client, model, version).tags.get(SHADOW):
        return {"version": version, "status": "already held"}  # a retried task
    set_tags(
        client,
        model,
        version,
        {SHADOW: "running", SHADOW_BATCHES: batches, SHADOW_CHAMPION_VERSION: champion},
    )
    client.set_registered_model_alias(model, CHALLENGER, version)
    record_event(
        storage,
        model,
        "shadow_started",
        {
            "version": version,
            "alias": CHALLENGER,
            "reason": f"scored beside champion v{champion} on the next {batches} batches",
            "actor": actor,
            **(context or {}),
        },
    )
    return {"version": version, "status": "running"}


def shadow_verdict(results: list[dict[str, Any]], batches: int, metric: str) -> tuple[str, str]:
    """(status, reason) from per-batch results: running, won or lost.

    A batch whose metric could not be computed for either model counts as a loss: the
    challenger must show it wins, not merely fail to show it loses.
    """
    if len(results) < batches:
        return "running", f"{len(results)} of {batches} batches scored"
    higher = greater_is_better(metric)
    gains = []
    for r in results[:batches]:
        mine, theirs = r["challenger"].get(metric), r["champion"].get(metric)
        if mine is None or theirs is None:
            return "lost", f"{metric} missing on batch {r['batch_id']}"
        gains.append(mine - theirs if higher else theirs - mine)
    mean = sum(gains) / len(gains)
    detail = f"mean {metric} gain {mean:+.4f} over {len(gains)} shadow batches"
    return ("won", detail) if mean > 0 else ("lost", detail)


def score_shadow(
    client: MlflowClient,
    storage: Storage,
    config: ModelConfig,
    batch_id: str,
    frame: pd.DataFrame,
    *,
    actor: str,
    context: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Score the shadow challenger (if any) and the champion on one batch; decide at K.

    Returns None when no challenger is in shadow.
    """
    from retrainer.registry.safe_load import load_model_version

    model = config.name
    held = challenger_version(client, model)
    if held is None or held.tags.get(SHADOW) != "running":
        return None
    version = str(held.version)
    expected = held.tags.get(SHADOW_CHAMPION_VERSION) or None
    batches = int(held.tags.get(SHADOW_BATCHES, "1"))
    current = champion_version(client, model)
    if current is None or str(current.version) != expected:
        set_tags(client, model, version, {SHADOW: "stale"})
        return {"version": version, "status": "stale", "reason": "the champion changed"}
    prefix = keys.shadow(model, version)
    key = keys.shadow_result(model, version, batch_id)
    labelled = frame.dropna(subset=[config.target.column])
    if not storage.exists(key) and len(labelled):
        storage.write_json(
            key,
            {
                "batch_id": batch_id,
                "rows": len(labelled),
                "challenger": compute_metrics(
                    load_model_version(client, config, version), labelled, config
                ),
                "champion": compute_metrics(
                    load_model_version(client, config, str(current.version)), labelled, config
                ),
            },
        )
    results = [storage.read_json(k) for k in sorted(storage.list(prefix)) if k.endswith(".json")]
    status, reason = shadow_verdict(results, batches, config.gate.metric)
    if status == "running":
        return {"version": version, "status": status, "reason": reason}
    set_tags(client, model, version, {SHADOW: status, SHADOW_REASON: reason})
    if status == "won":
        change = promote(
            client,
            storage,
            model,
            version,
            expected_champion=expected,
            reason=f"won in shadow: {reason}",
            actor=actor,
            context=context,
        )
        return {"version": version, "status": status, "reason": reason, **change.to_dict()}
    record_event(
        storage,
        model,
        "shadow_lost",
        {"version": version, "reason": reason, "actor": actor, **(context or {})},
    )
    return {"version": version, "status": status, "reason": reason}


def score_shadow_batches(
    client: MlflowClient,
    storage: Storage,
    config: ModelConfig,
    batch_ids: list[str],
    *,
    actor: str,
    context: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Score the shadow challenger on each accepted batch until it is decided.

    Raises:
        NothingToDo: no challenger is held in shadow.
    """
    results = []
    for batch_id in batch_ids:
        frame = storage.read_frame(keys.batch_data(config.name, batch_id))
        result = score_shadow(
            client, storage, config, batch_id, frame, actor=actor, context=context
        )
        if result is None:
            raise NothingToDo("no challenger is held in shadow")
        log.info("shadow %s on %s: %s", result["status"], batch_id, result.get("reason"))
        results.append(result)
        if result["status"] != "running":
            break
    return results
