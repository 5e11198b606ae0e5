"""The registry vocabulary: every alias and tag name retrainer writes to or reads from MLflow.

Names are complete (``retrainer.gate.decision``, not ``gate.decision``): what is written is
what is read, and a search of the MLflow UI finds the constant's value here. Everything
retrainer owns is namespaced with :data:`PREFIX`; the two tags a person edits by hand in
the MLflow UI (:data:`APPROVAL`, :data:`APPROVED_BY`) are deliberately plain.

Tags whose name carries a value (a metric, a gate rule, a batch step) are built with the
functions at the end, from their prefix constant.
"""

from __future__ import annotations

from typing import Any

# Aliases of a registered model (stages are never used).
CHAMPION = "champion"  # the version that serves
CHALLENGER = "challenger"  # a candidate held for inspection, approval or shadow scoring

PREFIX = "retrainer."  # the namespace of every tag retrainer owns

# --- Registered-model tags --------------------------------------------------------------
OWNER = "retrainer.owner"  # the team that owns the model (config `owner`)

# --- Version tags written at training (training/train.py) ------------------------------
TRIGGER = "retrainer.trigger"  # what started the retrain: schedule, drift, decay, manual...
REASON = "retrainer.reason"  # the human reason given with the trigger
DATA_WINDOW = "retrainer.data_window"  # "<start>..<end>" of the training data
BATCHES = "retrainer.batches"  # comma-separated batch ids the version was trained on
WINDOW_POLICY = "retrainer.window_policy"  # how the window was chosen (also a run tag)
TRIGGER_BATCH = "retrainer.trigger_batch"  # the batch whose evidence triggered the retrain
TRIGGER_EVIDENCE = "retrainer.trigger_evidence"  # that evidence as JSON (capped at 4,000 chars)
HOLDOUT_KEY = "retrainer.holdout_key"  # lake key of the holdout set the gate evaluates on
RUN_ID = "retrainer.run_id"  # the training run that logged the model and its references
HOLDOUT_METRIC_PREFIX = "retrainer.holdout_"  # + metric name: holdout metric at training

# --- Airflow identifiers (the run context) on runs and versions --------------------------
AIRFLOW_DAG_ID = "retrainer.airflow_dag_id"  # the DAG whose task wrote the run or version
AIRFLOW_RUN_ID = "retrainer.airflow_run_id"  # its DAG run (finds a retried task's version)
AIRFLOW_TASK_ID = "retrainer.airflow_task_id"  # its task
ACTOR = "retrainer.actor"  # who triggered that DAG run

# --- Version tags of the gate (evaluation/challenger.py) --------------------------------
GATE_DECISION = "retrainer.gate.decision"  # promote | reject
GATE_REASON = "retrainer.gate.reason"  # the decision explained in one line
GATE_METRIC = "retrainer.gate.metric"  # the metric the gate compared on
GATE_CHALLENGER_VALUE = "retrainer.gate.challenger_value"  # that metric for this version
GATE_CHAMPION_VALUE = "retrainer.gate.champion_value"  # ... and for the champion of the day
GATE_CHAMPION_VERSION = "retrainer.gate.champion_version"  # the champion it was judged against
GATE_EVALUATION_RUN_ID = "retrainer.gate.evaluation_run_id"  # the evaluation run
GATE_REPORT = "retrainer.gate.report"  # runs:/ URI of the HTML evaluation report
GATE_SAFETY = "retrainer.gate.safety"  # "pass" or "fail: <safety rules that failed>"
GATE_RULE_PREFIX = "retrainer.gate.rule."  # + rule name: "pass: ..." or "fail: ..."

# --- Version tags of alias moves (registry/promotion.py, registry/rollback.py) ----------
PREVIOUS_CHAMPION = "retrainer.previous_champion"  # the champion this version replaced
PROMOTED_AT = "retrainer.promoted_at"  # when it became champion (ISO time, UTC)
PROMOTED_BY = "retrainer.promoted_by"  # who moved the alias
PROMOTION_REASON = "retrainer.promotion_reason"  # why ("rollback: ..." for a rollback)
REFERENCE_PROFILE = "retrainer.reference_profile"  # runs:/ URI of the drift reference profile
VALIDATION_SUITE = "retrainer.validation_suite"  # runs:/ URI of the validation suite
ROLLED_BACK_AT = "retrainer.rolled_back_at"  # when this champion was rolled back from
ROLLBACK_REASON = "retrainer.rollback_reason"  # why

# --- Version tags of human approval (registry/approval.py) ------------------------------
APPROVAL = "approval"  # plain, edited in the MLflow UI: pending | approved | rejected | expired
APPROVED_BY = "approved_by"  # plain, optional: the name a person adds with their answer
APPROVAL_MODE = "retrainer.approval.mode"  # mlflow | airflow: where the answer is given
APPROVAL_REQUESTED_AT = "retrainer.approval.requested_at"  # when the request was made
APPROVAL_EXPIRES_AT = "retrainer.approval.expires_at"  # when an unanswered request expires
APPROVAL_REQUESTED_BY = "retrainer.approval.requested_by"  # who triggered the run (four eyes)
APPROVAL_BY = "retrainer.approval.by"  # who answered, as recorded by retrainer
APPROVAL_IDENTITY = "retrainer.approval.identity"  # how: airflow-login | mlflow-tag (unverified)
APPROVAL_AT = "retrainer.approval.at"  # when the answer was recorded
APPROVAL_REASON = "retrainer.approval.reason"  # why (e.g. a four-eyes refusal, an expiry)

# --- Version tags of shadow scoring (evaluation/shadow.py) ------------------------------
SHADOW = "retrainer.shadow"  # running | won | lost | stale
SHADOW_BATCHES = "retrainer.shadow.batches"  # how many live batches decide
SHADOW_CHAMPION_VERSION = "retrainer.shadow.champion_version"  # the champion it must beat
SHADOW_REASON = "retrainer.shadow.reason"  # the verdict explained

# --- Version tags of a live canary (registry/traffic.py, monitoring/canary.py) -----------
# The one place the serving side reads how much traffic a non-champion version takes:
# a share in (0, 1); no tag, no traffic.
TRAFFIC_SHARE = "retrainer.traffic_share"
TRAFFIC_SINCE = "retrainer.traffic_since"  # when the share was set (ISO time, UTC)
CANARY_DECISION = "retrainer.canary.decision"  # collect | promote | stop, from live evidence
CANARY_REASON = "retrainer.canary.reason"  # that decision explained in one line
CANARY_EVIDENCE = "retrainer.canary.evidence"  # rows, metric per version, interval (JSON)
CANARY_RUN_PREFIX = "retrainer.canary.v"  # + version: monitoring run, the decision on it

# --- Run tags --------------------------------------------------------------------------
RUN_KIND = "retrainer.run_kind"  # training | evaluation | monitoring | performance
RUN_MODEL = "retrainer.model"  # the model of a performance (chart) run
CHALLENGER_VERSION = "retrainer.challenger_version"  # evaluation run: the version judged
CHAMPION_VERSION = "retrainer.champion_version"  # evaluation/monitoring run: the champion
BATCH_ID = "retrainer.batch_id"  # monitoring run: the batch it checked
DRIFT = "retrainer.drift"  # monitoring run: "true" | "false"
BATCH_STEP_PREFIX = "retrainer.batch."  # + step: performance run, batch id of a metric step
TASK_KEY = "retrainer.task_key"  # "<dag_id>/<run_id>/<task_id>": the task that opened the run
ENDED_REASON = "retrainer.ended_reason"  # why a retry ended a run its killed attempt left open

# Training run tags of a hyperparameter search (training.search).
SEARCH_METRIC = "retrainer.search.metric"  # the metric the candidates were ranked by
SEARCH_FOLDS = "retrainer.search.folds"  # the splitter, e.g. TimeSeriesSplit(n_splits=3)
SEARCH_STOPPED_BY = "retrainer.search.stopped_by"  # trials (all ran) | max_seconds (budget)


def holdout_metric(metric: str) -> str:
    """The version tag holding a holdout metric at training (``retrainer.holdout_<metric>``)."""
    return f"{HOLDOUT_METRIC_PREFIX}{metric}"


def gate_rule(rule: str) -> str:
    """The version tag holding one gate rule's outcome (``retrainer.gate.rule.<rule>``)."""
    return f"{GATE_RULE_PREFIX}{rule}"


def canary_run_tag(version: str) -> str:
    """The monitoring-run tag holding the live gate's decision on one canary."""
    return f"{CANARY_RUN_PREFIX}{version}"


def batch_step(step: int) -> str:
    """The performance-run tag naming the batch of one metric step."""
    return f"{BATCH_STEP_PREFIX}{step}"


def context_tags(context: dict[str, Any]) -> dict[str, Any]:
    """Tags for a run context (``airflow_dag_id``... become ``retrainer.airflow_dag_id``...).

    The context is also written to ledger entries, where its keys stay plain.
    """
    return {k if k.startswith(PREFIX) else f"{PREFIX}{k}": v for k, v in context.items()}
