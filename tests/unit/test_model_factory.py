"""model.factory: a team's package is imported, called and checked, or named in the error.

Each test writes a real package to a folder of its own (a unique name: a module is
imported once per process) and points ``model.code_path`` at it.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from retrainer.config import ModelConfig, load_model_config
from retrainer.errors import ConfigError
from retrainer.training.factory import build_team_model

pytestmark = pytest.mark.unit

_names = itertools.count()


def _team(tmp_path: Path, repo_root: Path, body: str, attr: str = "make") -> ModelConfig:
    """A package ``team_factory_N`` whose ``model.py`` is body, and a YAML pointing at it."""
    package = f"team_factory_{next(_names)}"
    (tmp_path / "src" / package).mkdir(parents=True)
    (tmp_path / "src" / package / "__init__.py").write_text("")
    (tmp_path / "src" / package / "model.py").write_text(body)
    data = yaml.safe_load((repo_root / "config/models/rainfall.yaml").read_text())
    data["model"] = {"factory": f"{package}.model:{attr}", "code_path": "src"}
    path = tmp_path / "rainfall.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_model_config(path)


def test_a_one_argument_factory_gets_the_config_and_its_package_ships(
    tmp_path: Path, repo_root: Path
) -> None:
    config = _team(
        tmp_path,
        repo_root,
        "from sklearn.linear_model import LogisticRegression\n"
        "def make(config):\n"
        "    return LogisticRegression(C=config.training.random_state + 0.5)\n",
    )
    built = build_team_model(config)
    assert built.estimator.C == 0.5
    package = config.model.factory.partition(".")[0]  # type: ignore[union-attr]
    assert built.package_dir == str((tmp_path / "src" / package).resolve())


def test_a_factory_without_arguments_is_called_with_none(tmp_path: Path, repo_root: Path) -> None:
    config = _team(
        tmp_path,
        repo_root,
        "from sklearn.dummy import DummyClassifier\ndef make():\n    return DummyClassifier()\n",
    )
    assert type(build_team_model(config).estimator).__name__ == "DummyClassifier"


def test_a_module_that_does_not_import_names_the_path_and_the_yaml(
    tmp_path: Path, repo_root: Path
) -> None:
    config = _team(tmp_path, repo_root, "import not_a_real_module_xyz\n")
    with pytest.raises(ConfigError) as err:
        build_team_model(config)
    message = str(err.value)
    assert f"model.factory {config.model.factory!r}" in message
    assert str(tmp_path / "rainfall.yaml") in message
    assert "not_a_real_module_xyz" in message


def test_a_missing_callable_is_named(tmp_path: Path, repo_root: Path) -> None:
    config = _team(tmp_path, repo_root, "x = 1\n", attr="nope")
    with pytest.raises(ConfigError, match="has no 'nope'"):
        build_team_model(config)


def test_a_factory_returning_no_estimator_is_a_named_error(tmp_path: Path, repo_root: Path) -> None:
    config = _team(tmp_path, repo_root, "def make(config):\n    return {'not': 'a model'}\n")
    with pytest.raises(ConfigError, match="returned a dict, which has no fit or predict"):
        build_team_model(config)


def test_a_factory_returning_a_class_is_told_to_return_an_instance(
    tmp_path: Path, repo_root: Path
) -> None:
    config = _team(
        tmp_path,
        repo_root,
        "from sklearn.dummy import DummyClassifier\ndef make():\n    return DummyClassifier\n",
    )
    with pytest.raises(ConfigError, match="returned the class DummyClassifier: return an instance"):
        build_team_model(config)


def test_a_factory_that_raises_is_named(tmp_path: Path, repo_root: Path) -> None:
    config = _team(tmp_path, repo_root, "def make(config):\n    raise ValueError('bad C')\n")
    with pytest.raises(ConfigError, match="failed: ValueError: bad C"):
        build_team_model(config)


def test_parsing_the_config_does_not_import_the_team_code(tmp_path: Path, repo_root: Path) -> None:
    import sys

    config = _team(tmp_path, repo_root, "raise SystemExit('imported at parse time')\n")
    assert config.model.factory is not None
    assert config.model.factory.partition(":")[0] not in sys.modules
