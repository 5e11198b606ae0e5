"""Score challenger and champion on the same holdout, decide, and record the decision.

The decision and every rule's outcome are written to the challenger's version tags and to
an evaluation run *before* any alias moves (the TFX "blessing" order): whatever happens
next, the registry explains why.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from retrainer.errors import (
    GateError,
    NothingToDo,
    RegistryUnavailable,
    Unavailable,
    UnsafeModelError,
)
from retrainer.evaluation.compare import compare_models
from retrainer.evaluation.gate import judge_challenger
from retrainer.evaluation.metrics import compute_metrics
from retrainer.evaluation.report import render_html
from retrainer.outages import is_outage
from retrainer.registry.promotion import mark_rejected
from retrainer.registry.runs import log_metrics, start_model_run
from retrainer.registry.safe_load import load_model_version
from retrainer.registry.tags import (
    CHALLENGER_VERSION,
    CHAMPION_VERSION,
    GATE_CHALLENGER_VALUE,
    GATE_CHAMPION_VALUE,
    GATE_CHAMPION_VERSION,
    GATE_DECISION,
    GATE_EVALUATION_RUN_ID,
    GATE_METRIC,
    GATE_REASON,
    GATE_REPORT,
    GATE_SAFETY,
    HOLDOUT_KEY,
    gate_rule,
)
from retrainer.registry.versions import champion_version, get_version, set_tags

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = ["Evaluation", "evaluate_challenger"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    model: str
    challenger_version: str
    champion_version: str | None
    challenger_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    decision: dict[str, Any]
    run_id: str

    @property
    def promote(self) -> bool:
        return bool(self.decision["promote"])

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> Evaluation:
        return cls(**{k: v for k, v in value.items() if k in cls.__dataclass_fields__})

    def gated_version(self) -> str:
        """The challenger the gate accepted.

        Raises:
            NothingToDo: the gate rejected it (nothing to approve, hold or promote).
        """
        if not self.promote:
            raise NothingToDo(
                f"challenger v{self.challenger_version} not promoted: {self.decision['reason']}"
            )
        return str(self.challenger_version)

    def log_rules(self) -> None:
        """Write the gate's rule-by-rule explanation to the log."""
        for rule in self.decision["rules"]:
            log.info(
                "gate rule %s: %s (%s)",
                rule["rule"],
                "pass" if rule["passed"] else "FAIL",
                rule["detail"],
            )
        log.info("gate decision for v%s: %s", self.challenger_version, self.decision["reason"])


def evaluate_challenger(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    version: str,
    *,
    actor: str = "retrainer",
    context: dict[str, Any] | None = None,
) -> Evaluation:
    """Evaluate ``version`` against the current champion on the challenger's holdout."""
    mv = get_version(client, config.name, version)
    holdout_key = mv.tags.get(HOLDOUT_KEY)
    if not holdout_key:
        raise ValueError(f"version {version} of {config.name!r} has no {HOLDOUT_KEY} tag")
    holdout = storage.read_frame(holdout_key)
    champion = champion_version(client, config.name)
    champion_v = str(champion.version) if champion is not None else None
    try:
        challenger_model = load_model_version(client, config, version)
    except UnsafeModelError as exc:
        # Never loaded, so never scored: the gate rejects it as unfit to serve, on the record.
        log.error("challenger v%s refused: %s", version, exc)
        challenger_metrics: dict[str, float] = {}
        champion_metrics: dict[str, float] | None = None
        evidence: dict[str, Any] = {"unsafe_challenger": str(exc)}
    else:
        challenger_metrics = compute_metrics(challenger_model, holdout, config)
        champion_metrics, champion_model, champion_error = _score_champion(
            client, config, champion, holdout
        )
        evidence = compare_models(holdout, challenger_model, champion_model, config)
        if champion_error:
            evidence["champion_error"] = champion_error
    decision = judge_challenger(challenger_metrics, champion_metrics, config.gate, evidence)
    log.info(
        "gate for %s v%s vs champion v%s: %s", config.name, version, champion_v, decision.reason
    )
    report = {
        "model": config.name,
        "challenger_version": version,
        "champion_version": champion_v,
        "holdout_key": holdout_key,
        "decision": decision.to_dict(),
        "challenger_metrics": challenger_metrics,
        "champion_metrics": champion_metrics,
        "evidence": evidence,
    }

    with start_model_run(
        client,
        settings,
        config.name,
        run_name=f"evaluate-v{version}",
        kind="evaluation",
        tags={CHALLENGER_VERSION: version, CHAMPION_VERSION: champion_v},
        context=context,
    ) as run:
        run_id = run.info.run_id
        log_metrics(client, run_id, {f"challenger_{k}": v for k, v in challenger_metrics.items()})
        if champion_metrics:
            log_metrics(client, run_id, {f"champion_{k}": v for k, v in champion_metrics.items()})
        log_metrics(client, run_id, _evidence_metrics(evidence))
        client.log_dict(run_id, report, "evaluation/report.json")
        client.log_text(run_id, render_html(report), "evaluation/report.html")

    tags: dict[str, Any] = {
        GATE_DECISION: decision.decision,
        GATE_REASON: decision.reason,
        GATE_METRIC: decision.metric,
        GATE_CHALLENGER_VALUE: decision.challenger_value,
        GATE_CHAMPION_VALUE: decision.champion_value,
        GATE_CHAMPION_VERSION: champion_v,
        GATE_EVALUATION_RUN_ID: run_id,
        GATE_REPORT: f"runs:/{run_id}/evaluation/report.html",
        GATE_SAFETY: "fail: " + ",".join(decision.safety_failures)
        if decision.safety_failures
        else "pass",
    }
    for rule in decision.rules:
        # One tag per rule, so the registry UI shows every outcome without opening the run.
        tags[gate_rule(rule.rule)] = f"{'pass' if rule.passed else 'fail'}: {rule.detail}"
    set_tags(client, config.name, version, tags)
    if not decision.promote:
        mark_rejected(
            client,
            storage,
            config.name,
            version,
            reason=decision.reason,
            actor=actor,
            context=context,
        )
    evaluation = Evaluation(
        config.name,
        version,
        champion_v,
        challenger_metrics,
        champion_metrics,
        decision.to_dict(),
        run_id,
    )
    evaluation.log_rules()
    return evaluation


def _score_champion(
    client: MlflowClient, config: ModelConfig, champion: Any, holdout: Any
) -> tuple[dict[str, float] | None, Any, str | None]:
    """The champion's metrics, the champion and why it could not be scored (if it could not).

    An unsafe champion is never loaded; like one that loads but fails to score it leaves
    the gate without a comparison, so the challenger is rejected (fails closed) until a
    person moves ``champion`` to a safe version (``<model>_rollback``) or removes the alias.
    A champion that could not be *fetched* is no verdict on anyone: the evaluation raises
    and is retried, and nothing is recorded on the challenger.

    Raises:
        Unavailable: the registry or its artifact store did not answer (retried).
        GateError: the champion could not be loaded for another reason (named).
    """
    if champion is None:
        return None, None, None
    try:
        model = load_model_version(client, config, str(champion.version))
    except UnsafeModelError as exc:
        log.error("champion v%s refused: %s", champion.version, exc)
        return (
            {},
            None,
            (
                f"{exc}; move champion to a safe version with {config.name}_rollback "
                "or remove the alias"
            ),
        )
    except Unavailable:
        raise
    except Exception as exc:
        if is_outage(exc):
            raise RegistryUnavailable(
                f"champion v{champion.version} of {config.name!r} could not be fetched: {exc}"
            ) from exc
        raise GateError(
            f"champion v{champion.version} of {config.name!r} could not be loaded, so the gate "
            f"cannot judge against it: {exc}"
        ) from exc
    try:
        return compute_metrics(model, holdout, config), model, None
    except Exception as exc:  # loads fine, cannot score this data: the gate fails closed
        log.error("champion version %s could not be scored: %s", champion.version, exc)
        return {}, None, f"the champion could not score the holdout: {exc}"


def _evidence_metrics(evidence: dict[str, Any]) -> dict[str, float]:
    """The evidence's numbers as MLflow metrics (plots and comparisons across runs)."""
    out: dict[str, float] = {}
    for metric, interval in (evidence.get("intervals") or {}).items():
        out[f"diff_{metric}"] = interval["difference"]
        out[f"diff_{metric}_lower"] = interval["lower"]
        out[f"diff_{metric}_upper"] = interval["upper"]
    if evidence.get("mcnemar"):
        out["mcnemar_p_value"] = evidence["mcnemar"]["p_value"]
    for who, value in (evidence.get("latency_ms_per_1k_rows") or {}).items():
        out[f"{who}_latency_ms_per_1k_rows"] = value
    for who, value in (evidence.get("model_size_mb") or {}).items():
        out[f"{who}_model_size_mb"] = value
    fairness = (evidence.get("fairness") or {}).get("challenger") or {}
    for key in ("disparate_impact", "equal_opportunity_difference"):
        if fairness.get(key) is not None:
            out[f"challenger_{key}"] = fairness[key]
    return out
