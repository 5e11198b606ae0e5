"""Model config and deployment settings: valid files load, bad ones name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from retrainer.config import load_model_config, load_model_configs
from retrainer.errors import ConfigError
from retrainer.settings import ENVIRONMENT_VARIABLES, load_settings

pytestmark = pytest.mark.unit


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def _rainfall(repo_root: Path) -> dict:
    return yaml.safe_load((repo_root / "config/models/rainfall.yaml").read_text())


def test_shipped_model_configs_load(repo_root: Path) -> None:
    configs = load_model_configs(repo_root / "config/models")
    rainfall = next(c for c in configs if c.name == "rainfall")
    assert len(rainfall.features) == 8
    assert rainfall.target.column == "rain"
    assert rainfall.dag_ids["retrain"] == "rainfall_retrain"


def test_unknown_key_names_file_and_field_path(tmp_path: Path, repo_root: Path) -> None:
    data = _rainfall(repo_root)
    data["gate"]["min_improvment"] = 0.1  # typo
    path = _write(tmp_path, "rainfall", data)
    with pytest.raises(ConfigError) as err:
        load_model_config(path)
    assert str(path) in str(err.value)
    assert "gate.min_improvment" in str(err.value)


def test_wrong_type_names_field(tmp_path: Path, repo_root: Path) -> None:
    data = _rainfall(repo_root)
    data["training"]["holdout_fraction"] = 1.5
    with pytest.raises(ConfigError, match=r"training\.holdout_fraction"):
        load_model_config(_write(tmp_path, "rainfall", data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"numeric_features": ["rain"]}, "both a feature and the target"),
        ({"numeric_features": ["a", "a"]}, "listed twice"),
        ({"numeric_features": []}, "at least one"),
        ({"name": "Bad-Name"}, "lower-case"),
        ({"drift": {"feature_thresholds": {"nope": 0.3}}}, "unknown features"),
    ],
)
def test_semantic_errors(tmp_path: Path, repo_root: Path, change: dict, message: str) -> None:
    data = _rainfall(repo_root) | change
    with pytest.raises(ConfigError, match=message):
        load_model_config(_write(tmp_path, "rainfall", data))


def test_name_must_match_file(tmp_path: Path, repo_root: Path) -> None:
    with pytest.raises(ConfigError, match="must match the file name"):
        load_model_config(_write(tmp_path, "other", _rainfall(repo_root)))


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_model_config(_write(tmp_path, "x", "a: [unclosed"))
    with pytest.raises(ConfigError, match="not found"):
        load_model_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        load_model_config(_write(tmp_path, "y", "- a\n- b\n"))


def test_settings_defaults_resolve_against_project_root(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    settings = load_settings(config_dir)
    assert settings.home == tmp_path / ".retrainer"
    assert settings.storage_root == str(tmp_path / ".retrainer" / "lake")
    assert settings.mlflow_tracking_uri == f"sqlite:///{tmp_path}/.retrainer/mlflow.db"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "retrainer.yaml").write_text("storage_root: lake-from-file\n")
    assert load_settings(config_dir).storage_root == str(tmp_path / "lake-from-file")
    monkeypatch.setenv("RETRAINER_STORAGE_ROOT", "s3://bucket/prefix")
    monkeypatch.setenv("RETRAINER_MLFLOW_TRACKING_URI", "http://mlflow:5000")
    settings = load_settings(config_dir)
    assert settings.storage_root == "s3://bucket/prefix"
    assert settings.mlflow_tracking_uri == "http://mlflow:5000"


def test_bad_settings_key_is_an_error(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "retrainer.yaml").write_text("storage_rot: x\n")
    with pytest.raises(ConfigError, match="storage_rot"):
        load_settings(config_dir)


def test_every_environment_variable_maps_to_a_setting() -> None:
    from retrainer.settings import AlertSettings, Settings

    names = set(Settings.model_fields)
    # "alerts.channels" names a key of the nested alerts settings.
    nested = {"alerts": set(AlertSettings.model_fields)}
    for var in ENVIRONMENT_VARIABLES:
        top, _, leaf = var.field.partition(".")
        assert top in names and (not leaf or leaf in nested[top]), var
        assert var.description, var
    assert len({v.name for v in ENVIRONMENT_VARIABLES}) == len(ENVIRONMENT_VARIABLES)
    names_by_field = {v.field: v.name for v in ENVIRONMENT_VARIABLES}
    assert names_by_field["alerts.email_to"] == "RETRAINER_ALERT_EMAIL_TO"
    assert names_by_field["alert_webhook_url"] == "RETRAINER_ALERT_WEBHOOK_URL"
    assert "alerts.email_from" not in names_by_field  # file only


def test_alert_environment_overrides_one_key_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "retrainer.yaml").write_text(
        "alerts:\n  smtp_conn_id: ops\n  email_to: [file@example.org]\n"
    )
    monkeypatch.setenv("RETRAINER_ALERT_CHANNELS", "webhook, email")
    monkeypatch.setenv("RETRAINER_ALERT_EMAIL_TO", "a@example.org,b@example.org")
    monkeypatch.setenv("RETRAINER_APPROVAL_MODE", "")  # empty: not set
    settings = load_settings(config_dir)
    assert settings.alerts.channels == ("webhook", "email")
    assert settings.alerts.email_to == ("a@example.org", "b@example.org")
    assert settings.alerts.smtp_conn_id == "ops"
    assert settings.approval_mode == "auto"
    monkeypatch.setenv("RETRAINER_ALERT_CHANNELS", "pager")
    with pytest.raises(ConfigError, match=r"retrainer\.yaml: invalid settings: alerts\.channels"):
        load_settings(config_dir)


def test_config_dir_comes_from_the_environment_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrainer.settings import resolve_config_dir

    monkeypatch.delenv("RETRAINER_CONFIG_DIR", raising=False)
    assert resolve_config_dir(tmp_path / "a") == tmp_path / "a"
    monkeypatch.setenv("RETRAINER_CONFIG_DIR", str(tmp_path / "b"))
    assert resolve_config_dir(tmp_path / "a") == tmp_path / "b"
    assert load_settings().config_dir == tmp_path / "b"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "retrainer.yaml").write_text("config_dir: elsewhere\n")
    with pytest.raises(ConfigError, match="config_dir"):
        load_settings(tmp_path / "c")


def test_gate_rules_need_the_evidence_they_judge(repo_root: Path) -> None:
    from retrainer.config import ModelConfig

    base = yaml.safe_load((repo_root / "config" / "models" / "rainfall.yaml").read_text())
    base.pop("evaluation", None)
    base["gate"] = {"metric": "roc_auc", "min_value": 0.6}
    with pytest.raises(ValueError, match=r"needs evaluation\.slices\.columns"):
        ModelConfig.model_validate({**base, "gate": {**base["gate"], "max_slice_regression": 0.05}})
    with pytest.raises(ValueError, match=r"needs evaluation\.fairness"):
        ModelConfig.model_validate({**base, "gate": {**base["gate"], "fairness": {}}})
    with pytest.raises(ValueError, match="unknown columns"):
        ModelConfig.model_validate({**base, "evaluation": {"slices": {"columns": ["nope"]}}})
    with pytest.raises(ValueError, match="do not fit a binary task"):
        ModelConfig.model_validate({**base, "gate": {**base["gate"], "floors": {"rmse": 1.0}}})
    config = ModelConfig.model_validate(
        {
            **base,
            "approval": {"mode": "mlflow", "four_eyes": False},
            "evaluation": {"slices": {"columns": ["visibility"], "min_size": 50}},
            "gate": {**base["gate"], "max_slice_regression": 0.05},
        }
    )
    assert config.approval is not None and config.approval.mode == "mlflow"
    assert config.approval_mode() == "mlflow"
    assert ModelConfig.model_validate(base).approval_mode("airflow") == "airflow"


@pytest.mark.parametrize(
    "approval", ["mlflow", {"mode": "mlflow"}, {"mode": "mlflow", "four_eyes": True}]
)
def test_mlflow_approval_with_four_eyes_is_refused_naming_the_fix(
    tmp_path: Path, repo_root: Path, approval: object
) -> None:
    # MLflow records no author for a tag: four eyes there would trust a name anyone types.
    path = _write(tmp_path, "rainfall", {**_rainfall(repo_root), "approval": approval})
    with pytest.raises(ConfigError) as err:
        load_model_config(path)
    message = str(err.value)
    assert "approval.four_eyes" in message and "cannot enforce four eyes" in message
    assert "mode: airflow" in message and "four_eyes: false" in message

    accepted = _write(
        tmp_path,
        "rainfall",
        {**_rainfall(repo_root), "approval": {"mode": "mlflow", "four_eyes": False}},
    )
    config = load_model_config(accepted)
    assert config.approval is not None and not config.approval.four_eyes


def test_a_deployment_default_of_mlflow_approval_is_refused_per_model(repo_root: Path) -> None:
    from retrainer.config import ModelConfig

    config = ModelConfig.model_validate({**_rainfall(repo_root), "approval": None})
    with pytest.raises(ConfigError, match=r"approval_mode .* is mlflow .*four_eyes: false"):
        config.approval_config("mlflow")
    assert config.approval_config("airflow").four_eyes
    assert config.approval_config().mode == "auto"


@pytest.mark.parametrize("name", ["rainfall\n", "../rainfall", "rain/fall", "Rainfall", ""])
def test_model_names_are_checked_whole_before_they_become_paths(name: str) -> None:
    from retrainer.config import model_file

    with pytest.raises(ConfigError, match="is not valid"):
        model_file("config/models", name)
    assert model_file("config/models", "rainfall") == Path("config/models/rainfall.yaml")


def test_a_broken_model_file_is_reported_and_the_others_still_load(
    tmp_path: Path, repo_root: Path
) -> None:
    from retrainer.config import scan_model_configs

    _write(tmp_path, "rainfall", _rainfall(repo_root))
    _write(tmp_path, "broken", _rainfall(repo_root) | {"name": "broken", "gate": {"nope": 1}})
    found = scan_model_configs(tmp_path)
    assert [c.name for c in found.configs] == ["rainfall"]
    (broken,) = found.broken
    assert broken.name == "broken" and "broken.yaml" in broken.error and "gate" in broken.error
    with pytest.raises(ConfigError, match=r"broken\.yaml"):  # the strict loader still refuses
        load_model_configs(tmp_path)


def test_factory_and_estimator_together_is_a_clear_error(tmp_path: Path, repo_root: Path) -> None:
    data = _rainfall(repo_root)
    data["model"]["factory"] = "team.model:make_model"
    path = _write(tmp_path, "rainfall", data)
    with pytest.raises(ConfigError) as err:
        load_model_config(path)
    assert str(path) in str(err.value)
    assert "model.estimator (a built-in) or model.factory (your own), not both" in str(err.value)


@pytest.mark.parametrize("bad", ["team.model.make_model", "team:", ":make", "team/model:make"])
def test_factory_that_is_not_module_colon_attr_is_a_clear_error(
    tmp_path: Path, repo_root: Path, bad: str
) -> None:
    data = _rainfall(repo_root)
    data["model"] = {"factory": bad}
    path = _write(tmp_path, "rainfall", data)
    with pytest.raises(ConfigError) as err:
        load_model_config(path)
    assert "model.factory" in str(err.value) and "'package.module:callable'" in str(err.value)


def test_factory_code_path_resolves_against_the_yaml_folder(
    tmp_path: Path, repo_root: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "models").mkdir()
    data = _rainfall(repo_root)
    data["model"] = {"factory": "team.model:make_model", "code_path": "../src"}
    config = load_model_config(_write(tmp_path / "models", "rainfall", data))
    assert config.model.estimator is None
    assert config.model.code_path == str((tmp_path / "src").resolve())
    assert config.source == str(tmp_path / "models" / "rainfall.yaml")


def test_factory_code_path_that_is_missing_names_the_folder(
    tmp_path: Path, repo_root: Path
) -> None:
    data = _rainfall(repo_root)
    data["model"] = {"factory": "team.model:make_model", "code_path": "nowhere"}
    path = _write(tmp_path, "rainfall", data)
    with pytest.raises(ConfigError, match=r"model\.code_path 'nowhere' is not a folder"):
        load_model_config(path)


def test_no_estimator_and_no_factory_means_the_default_estimator(
    tmp_path: Path, repo_root: Path
) -> None:
    data = _rainfall(repo_root)
    data["model"] = {}
    assert load_model_config(_write(tmp_path, "rainfall", data)).model.estimator == (
        "hist_gradient_boosting"
    )


def test_a_copied_yaml_keeps_its_code_path_once_anchored(tmp_path: Path, repo_root: Path) -> None:
    from retrainer.config import anchor_code_path

    (tmp_path / "team" / "src").mkdir(parents=True)
    data = _rainfall(repo_root)
    data["model"] = {"factory": "team.model:make_model", "code_path": "src"}
    original = tmp_path / "team" / "rainfall.yaml"
    (tmp_path / "scratch").mkdir()
    copy = _write(tmp_path / "scratch", "rainfall", anchor_code_path(data, original))
    assert load_model_config(copy).model.code_path == str((tmp_path / "team" / "src").resolve())
