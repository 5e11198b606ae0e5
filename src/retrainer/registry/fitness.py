"""Whether a version may serve again: judged by the gate, safe, and taking the same inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrainer.registry.tags import GATE_DECISION, GATE_REASON, GATE_SAFETY

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

__all__ = ["signature_mismatch", "unfit_for_rollback"]


def unfit_for_rollback(mv: ModelVersion) -> str | None:
    """Why a version must not serve, or None.

    A version the gate rejected only for not beating the champion of its day is a valid
    rollback target; one that failed a safety rule (a floor, a slice, fairness, a budget)
    or was never judged is not.
    """
    tags = mv.tags
    decision = tags.get(GATE_DECISION)
    safety = tags.get(GATE_SAFETY)
    reason = tags.get(GATE_REASON, "no gate decision")
    if decision is None:
        return "was never judged by the gate: roll back to a version the gate passed"
    if safety is None and decision != "promote":
        return f"was rejected by the gate ({reason})"  # recorded before safety kinds existed
    if safety is not None and safety.startswith("fail"):
        return f"failed a safety rule of the gate ({safety.removeprefix('fail: ')}): {reason}"
    return None


def signature_mismatch(model: str, version: str, other: str) -> str | None:
    """Describe how the input schemas of two versions differ, or None when they match."""
    from mlflow.models import get_model_info

    def inputs(v: str) -> list[dict[str, Any]] | None:
        signature = get_model_info(f"models:/{model}/{v}").signature
        if signature is None or signature.inputs is None:
            return None
        return list(signature.inputs.to_dict())

    mine, theirs = inputs(version), inputs(other)
    if mine is None or theirs is None:
        return None if mine == theirs else "one of them has no signature"
    if mine == theirs:
        return None
    names = {c.get("name") for c in mine}
    other_names = {c.get("name") for c in theirs}
    missing, extra = sorted(other_names - names, key=str), sorted(names - other_names, key=str)
    return f"missing {missing}, extra {extra}" if missing or extra else "column types differ"
