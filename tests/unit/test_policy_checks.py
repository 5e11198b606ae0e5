"""`check_policies`: policies that load but cannot work are named with their fix."""

from __future__ import annotations

import pytest

from retrainer.config import ModelConfig, load_model_config
from retrainer.config.checks import check_policies

pytestmark = pytest.mark.unit

BASE = {"name": "m", "numeric_features": ["x"], "target": {"column": "y"}}


def _fields(**sections: object) -> list[str]:
    return [f.field for f in check_policies(ModelConfig.model_validate({**BASE, **sections}))]


@pytest.mark.parametrize("model", ["rainfall", "seattle_weather"])
def test_the_shipped_models_have_no_findings(repo_root, model: str) -> None:  # type: ignore[no-untyped-def]
    config = load_model_config(repo_root / "config" / "models" / f"{model}.yaml")
    assert check_policies(config) == []


def test_an_untuned_yaml_has_no_findings() -> None:
    assert _fields() == []


def test_floors_beyond_perfect_or_at_chance() -> None:
    assert _fields(trigger={"min_value": 1.2}) == ["trigger.min_value"]
    assert _fields(trigger={"min_value": 0.5}) == ["trigger.min_value"]  # AUC at chance
    assert _fields(gate={"min_value": 0.45}) == ["gate.min_value"]


def test_nothing_can_trigger() -> None:
    assert _fields(trigger={"max_skill_loss": None}) == ["trigger"]
    assert _fields(trigger={"max_skill_loss": None}, schedule="0 3 * * 1") == []
    assert _fields(trigger={"max_skill_loss": None, "on_drift": True}) == []


def test_since_break_slices_too_small_to_judge() -> None:
    small = {
        "training": {"window": {"kind": "since_break"}, "min_rows": 200},
        "evaluation": {"slices": {"columns": ["x"], "min_size": 100, "bins": 4}},
    }
    assert _fields(**small) == ["evaluation.slices.min_size"]


def test_against_the_champion_baseline() -> None:
    config = ModelConfig.model_validate({**BASE, "trigger": {"min_value": 0.65}})
    found = check_policies(config, {"roc_auc": 0.62, "chance_roc_auc": 0.5})
    assert [f.field for f in found] == ["trigger.min_value"]
    assert "retrains for ever" in found[0].problem
    # A fixed drop that lets a weak champion fall to chance.
    weak = ModelConfig.model_validate({**BASE, "trigger": {"max_drop": 0.15}})
    assert [f.field for f in check_policies(weak, {"roc_auc": 0.62})] == ["trigger.max_drop"]
    assert check_policies(weak, {"roc_auc": 0.90}) == []
