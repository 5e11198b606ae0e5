"""Champion vs challenger on the same holdout, and the gate that decides."""

from __future__ import annotations

from retrainer.evaluation.bootstrap import DiffInterval, McNemar, mcnemar, paired_bootstrap
from retrainer.evaluation.challenger import Evaluation, evaluate_challenger
from retrainer.evaluation.compare import compare_models
from retrainer.evaluation.gate import GateDecision, RuleOutcome, judge_challenger
from retrainer.evaluation.metrics import compute_metrics, predict_scores
from retrainer.evaluation.slices import fairness, slice_metrics

__all__ = [
    "DiffInterval",
    "Evaluation",
    "GateDecision",
    "McNemar",
    "RuleOutcome",
    "compare_models",
    "compute_metrics",
    "evaluate_challenger",
    "fairness",
    "judge_challenger",
    "mcnemar",
    "paired_bootstrap",
    "predict_scores",
    "slice_metrics",
]
