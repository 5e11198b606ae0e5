"""Models are loaded in one place, and an unsafe challenger is a gate rejection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from retrainer.config import ModelConfig
from retrainer.evaluation.gate import judge_challenger

REPO = Path(__file__).resolve().parents[2]
# Calls that deserialise a model by MLflow's rules (pickle, or skops trusting the MLmodel).
_UNVETTED = re.compile(
    r"mlflow\.(sklearn|pyfunc)\.load_model|^\s*(import|from) (pickle|cloudpickle|joblib)\b"
    r"|skops\.io\.loads?\(",
    re.MULTILINE,
)


def test_only_safe_load_deserialises_a_model() -> None:
    offenders = []
    for folder in ("src", "plugins", "dags"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path.name == "safe_load.py":
                continue
            for match in _UNVETTED.finditer(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(REPO)}: {match.group(0).strip()}")
    assert offenders == []


def _config(**model: object) -> ModelConfig:
    return ModelConfig.model_validate(
        {
            "name": "m",
            "numeric_features": ["a"],
            "target": {"column": "y", "task": "binary", "positive_label": 1},
            "gate": {"metric": "roc_auc", "min_value": 0.6},
            "model": model,
        }
    )


def test_an_unsafe_challenger_fails_the_safety_rule_alone() -> None:
    why = "version 2 of 'm' is not loaded: it is serialised with cloudpickle"
    decision = judge_challenger({}, {"roc_auc": 0.9}, _config().gate, {"unsafe_challenger": why})
    assert not decision.promote
    assert decision.safety_failures == ["safe_to_load"]
    assert decision.reason == f"rejected: safe_to_load: {why}"


def test_trusted_types_must_be_type_names() -> None:
    assert _config(trusted_types=["team.pkg.Doubler"]).model.trusted_types == ["team.pkg.Doubler"]
    with pytest.raises(ValueError, match="trusted_types"):
        _config(trusted_types=["os.system; rm -rf /"])
