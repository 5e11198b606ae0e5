"""Train a challenger on a training window, log it to MLflow and register a version.

Everything the monitor later needs travels with the version as artifacts of its training
run: the reference profile (drift), the validation suite and the permutation importances.
So promotion and rollback swap the reference together with the model.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from retrainer.evaluation.metrics import (
    chance_metrics,
    compute_metrics,
    model_output,
    predict_scores,
)
from retrainer.lake import keys
from retrainer.metric_specs import CHANCE_PREFIX
from retrainer.model_inputs import model_inputs
from retrainer.registry.artifacts import ARTIFACTS
from retrainer.registry.errors import already_exists
from retrainer.registry.runs import log_metrics, log_params, start_model_run, task_key
from retrainer.registry.tags import (
    AIRFLOW_RUN_ID,
    BATCHES,
    DATA_WINDOW,
    HOLDOUT_KEY,
    HOLDOUT_METRIC_PREFIX,
    OWNER,
    REASON,
    REFERENCE_PROFILE,
    RUN_ID,
    RUN_KIND,
    TRIGGER,
    TRIGGER_BATCH,
    TRIGGER_EVIDENCE,
    WINDOW_POLICY,
    context_tags,
    holdout_metric,
)
from retrainer.registry.versions import set_tags, tag_values
from retrainer.training.factory import build_model
from retrainer.training.search import check_search_space, run_search
from retrainer.training.search_log import log_search
from retrainer.training.window import TrainingWindow, assemble_window

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig, WindowConfig
    from retrainer.settings import Settings
    from retrainer.storage import Storage

__all__ = ["TrainedModel", "train_challenger", "window_inputs"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainedModel:
    model: str
    version: str
    run_id: str
    holdout_key: str
    window: dict[str, Any]
    metrics: dict[str, float]
    importances: dict[str, float]
    reused: bool = False

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> TrainedModel:
        return cls(**{k: v for k, v in value.items() if k in cls.__dataclass_fields__})


def _existing_version(client: MlflowClient, model: str, airflow_run: str) -> Any:
    """A version this Airflow run already registered (a retried task must not add another).

    The fallback for a context without a task id; a registry that does not answer raises
    (a missed look-up would register a duplicate).
    """
    found = client.search_model_versions(
        f"name = '{model}' and tags.`{AIRFLOW_RUN_ID}` = '{airflow_run}'"
    )
    return found[0] if found else None


def _register(client: MlflowClient, model: str, registration: dict[str, Any]) -> Any:
    """Create the version with all its tags in one request: it never exists half-tagged."""
    return client.create_model_version(
        model,
        source=registration["model_uri"],
        run_id=registration["run_id"],
        description=registration["description"],
        tags=registration["tags"],
        # An MLflow *server* refuses a models:/m-... source without the logged model's id
        # (the SQLite store accepted it): without this, registration only worked locally.
        model_id=registration["model_id"],
    )


def _earlier_attempt(
    client: MlflowClient, settings: Settings, model: str, key: str
) -> TrainedModel | None:
    """The version an earlier attempt of task ``key`` registered, or registers it now.

    Looked up by its source run (``ModelVersion.run_id``), which the attempt's training
    run is, so a retry never registers a second version of one training. A version killed
    before its tags were complete gets them; a run killed after it ended but before it
    was registered is registered now (from the registration it logged).
    """
    from retrainer.registry.artifacts import read_artifact
    from retrainer.registry.client import ensure_experiment
    from retrainer.registry.errors import is_missing
    from retrainer.registry.runs import earlier_runs

    experiment_id = ensure_experiment(client, model, settings.mlflow_artifact_root)
    for run in earlier_runs(client, experiment_id, key):
        if run.data.tags.get(RUN_KIND) != "training" or run.info.status != "FINISHED":
            continue  # a run killed while training: start_model_run ends it
        run_id = run.info.run_id
        try:
            registration = read_artifact(client, run_id, "registration")
        except Exception as exc:
            if not is_missing(exc):
                raise
            continue  # ended before this release logged registrations: train again
        found = client.search_model_versions(f"name = '{model}' and run_id = '{run_id}'")
        if found:
            mv = min(found, key=lambda v: int(v.version))
            missing = {k: v for k, v in registration["tags"].items() if mv.tags.get(k) != v}
            if missing:
                set_tags(client, model, str(mv.version), missing)
            log.info("version %s of run %s registered by an earlier attempt", mv.version, run_id)
        else:
            mv = _register(client, model, registration)
            log.info("run %s of an earlier attempt registered as version %s", run_id, mv.version)
        return _from_tags(model, client.get_model_version(model, str(mv.version)))
    return None


def _importances(model: Any, holdout: pd.DataFrame, config: ModelConfig) -> dict[str, float]:
    """Permutation importance on the holdout, in the model's own metric scale."""
    from sklearn.inspection import permutation_importance

    if len(holdout) < 20 or holdout[config.target.column].nunique() < 2:
        return {f: 1.0 for f in config.features}
    scoring = {"binary": "roc_auc", "multiclass": "accuracy"}.get(config.target.task, "r2")
    result = permutation_importance(
        model,
        model_inputs(holdout, config),
        holdout[config.target.column],
        scoring=scoring,
        n_repeats=5,
        random_state=config.training.random_state,
        n_jobs=1,
    )
    return {f: float(v) for f, v in zip(config.features, result.importances_mean, strict=True)}


def _trusted_types(model: Any) -> list[str]:
    """Types skops must trust to load this pipeline: we built it, so we vouch for them."""
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def _pip_requirements() -> list[str]:
    # Explicit requirements: inferring them costs 9-16 s per model (FIELD-NOTES).
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("scikit-learn", "skops", "numpy", "pandas", "scipy")]


def _calibrator(model: Any, holdout: pd.DataFrame, config: ModelConfig) -> dict[str, Any] | None:
    """Fit the calibrator of the label-free estimate on the holdout (classifiers only).

    The holdout is data the model never saw, so its probabilities there show how far
    they are from the frequencies they claim.
    """
    from retrainer.monitoring.estimate import fit_calibrator

    if config.target.task == "regression" or not hasattr(model, "predict_proba") or holdout.empty:
        return None
    scores = predict_scores(model, holdout, config)
    calibrator = fit_calibrator(
        holdout[config.target.column].to_numpy(),
        scores["proba"],
        scores["classes"],
        task=config.target.task,
        positive=config.target.positive_label,
        method=config.monitoring.estimator_calibration,
        min_isotonic_rows=config.monitoring.min_isotonic_rows,
    )
    return calibrator.to_dict()


def _validated(
    client: MlflowClient, config: ModelConfig, window: TrainingWindow
) -> tuple[TrainingWindow, pd.DataFrame]:
    """Validate the labelled training and holdout sets with the champion's suite.

    Raises:
        ValidationFailed: a blocking check failed on either set.
    """
    import pandas as pd

    from retrainer.registry.versions import champion_version
    from retrainer.validation import check_training_set, load_suite_spec

    champion = champion_version(client, config.name)
    spec = load_suite_spec(config, champion.run_id if champion else None, client=client)
    train = check_training_set(window.train, spec, config, name="training set")
    holdout = check_training_set(window.holdout, spec, config, name="holdout set")
    for checked, label in ((train, "training"), (holdout, "holdout")):
        for code, count in checked.reasons.items():
            log.warning("%s set: %d row(s) left out for %s", label, count, code)
        for warning in checked.warnings:
            log.warning("%s set check (warn only): %s", label, warning)
    rejected = pd.concat([train.rejected, holdout.rejected], ignore_index=True)
    return replace(window, train=train.kept, holdout=holdout.kept), rejected


def window_inputs(
    client: MlflowClient, storage: Storage, config: ModelConfig
) -> tuple[list[str], list[str]]:
    """What a since_break window needs: the champion's training batches, the flagged ones."""
    from retrainer.monitoring.signals import flagged_batches
    from retrainer.registry.versions import champion_version

    champion = champion_version(client, config.name)
    batches = (champion.tags.get(BATCHES) or "") if champion is not None else ""
    flagged = flagged_batches(storage, config.name) if batches else []
    return [b for b in batches.split(",") if b], flagged


def _evidence_tags(evidence: dict[str, Any] | None) -> dict[str, Any]:
    """Version tags for the trigger's evidence (MLflow caps a tag value at 8,000 chars)."""
    import json

    if not evidence:
        return {}
    text = json.dumps(evidence, default=str, sort_keys=True)
    return {
        TRIGGER_BATCH: evidence.get("batch_id", ""),
        TRIGGER_EVIDENCE: text if len(text) <= 4000 else text[:3990] + "...",
    }


def train_challenger(
    client: MlflowClient,
    storage: Storage,
    settings: Settings,
    config: ModelConfig,
    *,
    trigger: str,
    reason: str,
    context: dict[str, Any] | None = None,
    window_batches: int | None = None,
    window: WindowConfig | None = None,
    trigger_evidence: dict[str, Any] | None = None,
) -> TrainedModel:
    """Fit the configured pipeline on the training window and register it as a new version."""
    import mlflow
    from mlflow.models import infer_signature

    from retrainer.drift import build_reference_profile
    from retrainer.validation import build_suite_spec

    context = dict(context or {})
    key = task_key(context)
    airflow_run = context.get("airflow_run_id")
    if key:
        earlier = _earlier_attempt(client, settings, config.name, key)
        if earlier is not None:
            return earlier
    elif airflow_run:
        existing = _existing_version(client, config.name, airflow_run)
        if existing is not None:
            log.info(
                "version %s already registered by run %s: reusing it", existing.version, airflow_run
            )
            return _from_tags(config.name, existing)

    # Built before any data is read: a factory that fails or a searched name the model
    # cannot set is a config error, said before the window is assembled.
    built = build_model(config)
    check_search_space(built.estimator, config)
    champion_batches, flagged = window_inputs(client, storage, config)
    chosen = assemble_window(
        storage,
        config,
        window_batches=window_batches,
        window=window,
        champion_batches=champion_batches,
        flagged=flagged,
    )
    chosen, rejected = _validated(client, config, chosen)
    if chosen.sample is not None and chosen.sample.sampled:
        log.info(
            "training window of %d rows sampled down to %d (seed %d, stratified %s): %s",
            chosen.sample.window_rows,
            chosen.sample.sampled_rows,
            chosen.sample.seed,
            chosen.sample.stratified,
            chosen.sample.sampled_classes or "regression",
        )
    log.info(
        "training %s on batches %s (%s; %d rows), holdout %d rows by %s (%s)",
        config.name,
        list(chosen.batch_ids),
        chosen.policy,
        len(chosen.train),
        len(chosen.holdout),
        chosen.holdout_strategy,
        chosen.holdout_reason,
    )
    target = config.target.column
    pipeline = built.estimator
    searched = None
    if config.training.search is not None:
        # Cross-validated on the training rows only; the refitted best is the challenger.
        searched = run_search(pipeline, chosen.train, config, chosen.holdout_strategy)
        pipeline = searched.estimator
    else:
        # fit's return value is not used: an estimator of a team's need not return self.
        pipeline.fit(model_inputs(chosen.train, config), chosen.train[target])
    metrics = compute_metrics(pipeline, chosen.holdout, config)
    # Chance on the same rows travels with the baseline: the default decay rule measures
    # the champion's loss of skill over chance, whatever its level.
    chance = chance_metrics(chosen.holdout[target], config)
    metrics |= {f"{CHANCE_PREFIX}{k}": v for k, v in chance.items()}
    importances = _importances(pipeline, chosen.holdout, config)
    calibrator = _calibrator(pipeline, chosen.holdout, config)
    # The reference travels with the model version: promotion and rollback swap both.
    profile = build_reference_profile(
        chosen.train,
        config.numeric_features,
        config.categorical_features,
        bins=config.drift.bins,
        predictions=model_output(predict_scores(pipeline, chosen.train, config), config),
    )
    suite = build_suite_spec(chosen.train, config)

    with start_model_run(
        client,
        settings,
        config.name,
        run_name=f"train-{trigger}",
        kind="training",
        tags={TRIGGER: trigger, WINDOW_POLICY: chosen.policy},
        context=context,
        resume=False,  # params of a retrained window may differ: a new run, the old ended
    ) as run:
        run_id = run.info.run_id
        data_prefix = keys.training_data(config.name, run_id)
        train_uri = storage.write_frame(f"{data_prefix}/train.parquet", chosen.train)
        if len(rejected):
            # Rows left out by validation stay next to the sets they were left out of.
            storage.write_frame(f"{data_prefix}/rejected.parquet", rejected)
        holdout_key = f"{data_prefix}/holdout.parquet"
        holdout_uri = storage.write_frame(holdout_key, chosen.holdout)
        log_params(
            client,
            run_id,
            {
                "estimator": config.model.estimator or "factory",
                **({"factory": config.model.factory} if config.model.factory else {}),
                **{f"model.{k}": v for k, v in config.model.params.items()},
                "window.batches": ",".join(chosen.batch_ids),
                "window.policy": chosen.policy,
                "window.start": chosen.start,
                "window.end": chosen.end,
                "train_rows": len(chosen.train),
                "validation.rejected_rows": len(rejected),
                "holdout_rows": len(chosen.holdout),
                "holdout.strategy": chosen.holdout_strategy,
                "holdout.reason": chosen.holdout_reason,
                "holdout.from": chosen.holdout_from,
                # The sampling policy's lineage: how much of the window was fitted on.
                **(chosen.sample.params() if chosen.sample is not None else {}),
            },
        )
        log_metrics(client, run_id, {f"holdout_{k}": v for k, v in metrics.items()})
        if searched is not None:
            log_search(client, run_id, searched)
        # log_input and log_model record into the active run (the client has no like-for-like
        # call for either): they are why training keeps the run context open.
        mlflow.log_input(
            mlflow.data.from_pandas(  # type: ignore[attr-defined]
                chosen.train, source=train_uri, targets=target, name=f"{config.name}-train"
            ),
            context="training",
        )
        mlflow.log_input(
            mlflow.data.from_pandas(  # type: ignore[attr-defined]
                chosen.holdout, source=holdout_uri, targets=target, name=f"{config.name}-holdout"
            ),
            context="holdout",
        )
        client.log_dict(run_id, profile.to_dict(), ARTIFACTS["profile"])
        client.log_dict(run_id, importances, ARTIFACTS["importance"])
        client.log_dict(run_id, suite.to_dict(), ARTIFACTS["suite"])
        baseline = {k: v for k, v in metrics.items() if k != "rows"}
        client.log_dict(run_id, baseline, ARTIFACTS["baseline"])
        if calibrator is not None:
            client.log_dict(run_id, calibrator, ARTIFACTS["calibrator"])
        # The signature describes what the pipeline itself takes: the converted features.
        example = model_inputs(chosen.train.head(5), config)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(example, pipeline.predict(example)),
            input_example=example,
            pip_requirements=_pip_requirements(),
            # Explicit: MLflow's default is cloudpickle on Databricks, which retrainer refuses.
            serialization_format="skops",
            skops_trusted_types=_trusted_types(pipeline),
            # The team's package travels with the model: a worker without it can load it
            # (safe_load puts it on sys.path only for the types the YAML trusts).
            code_paths=[built.package_dir] if built.package_dir else None,
        )
        registration = {
            "run_id": run_id,
            "model_uri": info.model_uri,
            "model_id": info.model_id,
            "description": f"{trigger}: {reason}",
            "tags": tag_values(
                {
                    TRIGGER: trigger,
                    REASON: reason,
                    DATA_WINDOW: f"{chosen.start}..{chosen.end}",
                    BATCHES: ",".join(chosen.batch_ids),
                    WINDOW_POLICY: chosen.policy,
                    **_evidence_tags(trigger_evidence),
                    HOLDOUT_KEY: holdout_key,
                    RUN_ID: run_id,
                    REFERENCE_PROFILE: f"runs:/{run_id}/{ARTIFACTS['profile']}",
                    **{holdout_metric(k): round(v, 6) for k, v in metrics.items()},
                    **context_tags(context),
                }
            ),
        }
        # Last in the run: a retry that finds the run ended finds what to register.
        client.log_dict(run_id, registration, ARTIFACTS["registration"])
    try:
        client.create_registered_model(
            config.name, description=config.description, tags={OWNER: config.owner}
        )
    except Exception as exc:
        if not already_exists(exc):
            raise
    version = _register(client, config.name, registration).version
    log.info("registered %s version %s (run %s): holdout %s", config.name, version, run_id, metrics)
    return TrainedModel(
        config.name, str(version), run_id, holdout_key, chosen.lineage(), metrics, importances
    )


def _from_tags(model: str, mv: Any) -> TrainedModel:
    tags = mv.tags
    metrics = {
        k.removeprefix(HOLDOUT_METRIC_PREFIX): float(v)
        for k, v in tags.items()
        if k.startswith(HOLDOUT_METRIC_PREFIX) and k != HOLDOUT_KEY
    }
    return TrainedModel(
        model,
        str(mv.version),
        tags.get(RUN_ID, mv.run_id),
        tags.get(HOLDOUT_KEY, ""),
        {"batches": tags.get(BATCHES, "")},
        metrics,
        {},
        reused=True,
    )
