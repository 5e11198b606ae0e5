"""Champion vs challenger on the same holdout, and the gate that decides."""

from __future__ import annotations

from retrainer.evaluation.challenger import Evaluation, evaluate_challenger, load_model
from retrainer.evaluation.gate import GateDecision, RuleOutcome, decide
from retrainer.evaluation.metrics import GREATER_IS_BETTER, compute_metrics, predict_scores

__all__ = [
    "GREATER_IS_BETTER",
    "Evaluation",
    "GateDecision",
    "RuleOutcome",
    "compute_metrics",
    "decide",
    "evaluate_challenger",
    "load_model",
    "predict_scores",
]
