"""The ``retrainer`` commands: demo, up, down, land, validate, land-labels, drift, status,
history, canary, doctor, check, replay.

Each command parses its options, calls the domain (or ``retrainer.dev`` for the local
stack) and prints through ``retrainer.cli.render``. Exit codes: 0 fine, 1 the data said no
(blocked, quarantined, drift), 2 the input or config could not be read, 3 (``land``) the
batch landed but Airflow could not be told (the next monitor run takes it in).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from retrainer.cli import render
from retrainer.errors import ConfigError, RetrainerError
from retrainer.settings import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Keep deployed scikit-learn models healthy with Airflow and MLflow.",
)

ConfigDir = Annotated[
    Path | None,
    typer.Option("--config-dir", help="Folder with retrainer.yaml and models/ (default ./config)"),
]


# `land`: the batch is safe in the lake, only its Asset event was not posted.
NOT_NOTIFIED = 3


def _settings(config_dir: Path | None) -> Settings:
    from retrainer.settings import load_settings

    return load_settings(config_dir)


def _fail(exc: Exception, code: int = 2) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


@app.command()
def demo(
    config_dir: ConfigDir = None,
    keep_running: Annotated[bool, typer.Option(help="Leave Airflow running")] = False,
) -> None:
    """Run the whole pipeline on the NOAA rainfall data through a real Airflow scheduler."""
    from retrainer.dev.demo import run_demo

    try:
        run_demo(_settings(config_dir), keep_running=keep_running)
    except RetrainerError as exc:
        _fail(exc, 1)


@app.command()
def up(config_dir: ConfigDir = None, airflow_port: int = 8080, mlflow_port: int = 5000) -> None:
    """Start the Airflow UI/API server, scheduler and the MLflow UI over the local state."""
    from retrainer.dev.airflow_api import AirflowAPI
    from retrainer.dev.local_stack import LocalStack, airflow_env, stop_pidfiles

    settings = _settings(config_dir)
    stop_pidfiles(settings.home / "pids")
    env = airflow_env(
        project_root=settings.project_root,
        home=settings.home,
        port=airflow_port,
        config_dir=settings.config_dir,
    )
    stack = LocalStack(settings.home, env)
    stack.start_mlflow_ui(settings.mlflow_tracking_uri, settings.mlflow_artifact_root, mlflow_port)
    stack.start_airflow()
    try:
        AirflowAPI(f"http://127.0.0.1:{airflow_port}", "admin", "admin").wait_healthy(240)
    except RetrainerError as exc:
        stack.stop()
        _fail(exc, 1)
    typer.echo(f"Airflow UI  http://127.0.0.1:{airflow_port}  (login admin / admin)")
    typer.echo(f"MLflow UI   http://127.0.0.1:{mlflow_port}")
    typer.echo(f"logs in {settings.home / 'logs'}; stop with `make down`")


@app.command()
def down(config_dir: ConfigDir = None) -> None:
    """Stop what `retrainer up` (or an interrupted demo) started."""
    from retrainer.dev.local_stack import stop_pidfiles

    stopped = stop_pidfiles(_settings(config_dir).home / "pids")
    typer.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@app.command()
def land(
    model: str,
    file: Path,
    batch_id: Annotated[str | None, typer.Option(help="Default: the file name")] = None,
    notify: Annotated[bool, typer.Option(help="Post the incoming Asset event")] = True,
    config_dir: ConfigDir = None,
) -> None:
    """Land a CSV/Parquet batch in incoming/ and tell Airflow (starts <model>_monitor)."""
    from retrainer.config import load_model_config, model_file
    from retrainer.dev.airflow_api import AirflowAPI, AirflowAPIError, notify_landing
    from retrainer.lake import land_file
    from retrainer.storage import open_storage

    try:
        settings = _settings(config_dir)
        config = load_model_config(model_file(settings.models_dir, model))
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        api = AirflowAPI(settings.airflow_url, settings.airflow_user, settings.airflow_password)
        key = land_file(
            storage,
            model,
            file,
            batch_id or file.stem,
            max_bytes=config.validation.max_batch_bytes,
        )
        typer.echo(f"landed {file} as {storage.uri(key)}")
        if notify:
            notify_landing(api, model, batch_id or file.stem, key)
            typer.echo(f"asset event posted: {model}_monitor will run")
    except AirflowAPIError as exc:
        # The data is landed: not a bad input (2); the caller may run the landing again.
        _fail(exc, NOT_NOTIFIED)
    except RetrainerError as exc:
        _fail(exc)


def _champion_run(settings: Settings, model: str) -> str | None:
    from retrainer.registry import champion_version, connect

    champion = champion_version(connect(settings), model)
    return None if champion is None else str(champion.run_id)


def _unreadable(model: str, file: Path, exc: Exception) -> None:
    """Say on stdout (JSON) and stderr why the input could not be read; exit 2."""
    typer.echo(render.unreadable_json(model, file, exc))
    _fail(exc)


@app.command()
def validate(
    model: str,
    file: Path,
    labels: Annotated[
        bool, typer.Option("--labels", help="FILE holds labels (join key + target)")
    ] = False,
    config_dir: ConfigDir = None,
) -> None:
    """Validate a CSV/Parquet file as the monitor would; print the outcome as JSON.

    Uses the champion's suite (learned from its training data), or the schema from the
    model config when there is no champion yet. Exit 0 accepted, 1 blocked or rows
    quarantined, 2 the file or config could not be read. Nothing is written.
    """
    from retrainer.config import load_model_config, model_file
    from retrainer.tables import read_table
    from retrainer.validation import (
        ValidationResult,
        apply_severities,
        labels_spec,
        load_suite_spec,
        size_check,
        validate_frame,
        width_check,
    )

    try:
        settings = _settings(config_dir)
        config = load_model_config(model_file(settings.models_dir, model))
        run_id = _champion_run(settings, model)
        spec = load_suite_spec(config, run_id)
        if labels:
            spec = labels_spec(spec, config)
    except RetrainerError as exc:
        _fail(exc)
        return
    try:
        # As the monitor does: the size and the header are checked before the rows are read.
        unread = size_check(file.stat().st_size, config.validation)
        if unread is None:
            raw = file.read_bytes()
            unread = width_check(raw, file.name, config.validation)
        frame = None if unread else read_table(raw, file.name, times=config.data)
    except (RetrainerError, OSError) as exc:
        _unreadable(model, file, exc)
        return
    if frame is None:
        assert unread is not None
        result = ValidationResult(False, file.name, 0, (unread,))
        decision: dict[str, Any] = {
            "status": "blocked",
            "blocking": [unread.describe()],
            "warnings": [],
            "quarantined_rows": 0,
            "reasons": {},
        }
    else:
        result = validate_frame(frame, spec, name=file.name, require_target=labels)
        decision = apply_severities(frame, result, spec, config, require_target=labels).to_dict()
    payload = {
        "model": model,
        "file": str(file),
        "kind": "labels" if labels else "batch",
        "outcome": decision["status"],
        "suite": "champion" if run_id else "config schema (no champion yet)",
        "rows": result.row_count,
        **decision,
        "failed_checks": render.checks_payload(result, config),
    }
    typer.echo(render.to_json(payload))
    raise typer.Exit(0 if decision["status"] == "accepted" else 1)


@app.command("land-labels")
def land_labels(
    model: str,
    file: Path,
    batch_id: Annotated[str | None, typer.Option(help="Default: the file name")] = None,
    notify: Annotated[bool, typer.Option(help="Post the labels Asset event")] = True,
    config_dir: ConfigDir = None,
) -> None:
    """Land a labels file: keep the original, validate it, accept or quarantine it.

    The original goes to incoming/<model>/labels/, accepted labels to labels/<model>/, and
    anything rejected to quarantine/<model>/labels-<batch>/. Accepted labels are announced
    to Airflow with a labels Asset event (<model>_monitor then computes realized
    performance). Prints the outcome as JSON; exit 0 accepted, 1 blocked or rows
    quarantined, 2 unreadable config or missing file.
    """
    from retrainer.config import load_model_config, model_file
    from retrainer.errors import LakeConflict, ValidationFailed
    from retrainer.lake import keys, land_file
    from retrainer.storage import open_storage
    from retrainer.validation import load_suite_spec, validate_labels

    batch = batch_id or file.stem
    try:
        settings = _settings(config_dir)
        config = load_model_config(model_file(settings.models_dir, model))
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        spec = load_suite_spec(config, _champion_run(settings, model))
        key = land_file(
            storage,
            model,
            file,
            batch,
            zone=keys.LABELS_ZONE,
            max_bytes=config.validation.max_batch_bytes,
        )
    except RetrainerError as exc:
        _fail(exc)
        return
    try:
        outcome = validate_labels(storage, config, batch, key, spec)
    except ValidationFailed as exc:
        typer.echo(
            render.to_json(
                {
                    "model": model,
                    "file": str(file),
                    "original": storage.uri(key),
                    "outcome": "blocked",
                    "blocking": exc.failed_checks,
                    "quarantine": storage.uri(exc.evidence.get("quarantine_prefix") or ""),
                }
            )
        )
        raise typer.Exit(1) from None
    except LakeConflict as exc:  # other labels of this batch were accepted already
        _fail(exc)
        return
    typer.echo(
        render.to_json(
            {"model": model, "file": str(file), "original": storage.uri(key)}
            | outcome.to_dict()
            | {"failed_checks": render.checks_payload(outcome.result, config)}
        )
    )
    if notify:
        _post_labels_event(settings, model, batch, outcome.batch_key)
    raise typer.Exit(0 if outcome.status == "accepted" else 1)


def _post_labels_event(settings: Settings, model: str, batch: str, key: str | None) -> None:
    """Tell Airflow labels landed; a warning (not a failure) when it cannot be reached."""
    from retrainer.dev.airflow_api import AirflowAPI, AirflowAPIError

    api = AirflowAPI(settings.airflow_url, settings.airflow_user, settings.airflow_password)
    if not api.healthy():
        typer.echo(
            f"note: Airflow at {settings.airflow_url} not reachable; the next "
            f"{model}_monitor run picks the labels up",
            err=True,
        )
        return
    try:
        # Not "batch_id": that key makes the monitor validate and score a batch again.
        api.post_asset_event(f"{model}_labels", {"labels_batch_id": batch, "key": key})
        typer.echo(f"asset event posted: {model}_monitor will assess batch {batch}", err=True)
    except AirflowAPIError as exc:
        typer.echo(
            f"warning: labels landed but Airflow was not told ({exc}); the next "
            f"{model}_monitor run picks them up",
            err=True,
        )


@app.command()
def drift(
    model: str,
    file: Path,
    reference: Annotated[
        Path | None, typer.Option(help="Compare with this file instead of the champion")
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Compare a file with the champion's reference profile (or another file); print JSON.

    The JSON holds every feature's statistics, threshold, adjusted p-value and reasons,
    and the verdict. Parquet and CSV files are profiled chunk by chunk. Exit 0 no drift,
    1 drift, 2 unreadable input or config.
    """
    from retrainer.config import load_model_config, model_file
    from retrainer.drift import build_reference_profile, detect_drift
    from retrainer.drift.files import champion_reference, profile_input, read_input

    try:
        settings = _settings(config_dir)
        config = load_model_config(model_file(settings.models_dir, model))
        importances: dict[str, float] | None = None
        if reference is not None:
            ref_frame = read_input(reference, config.data, config.features)
            profile = build_reference_profile(
                ref_frame,
                config.numeric_features,
                config.categorical_features,
                bins=config.drift.bins,
            )
            against = str(reference)
        else:
            run_id = _champion_run(settings, model)
            if run_id is None:
                raise RetrainerError(f"{model!r} has no champion: give --reference FILE")
            from retrainer.registry import connect

            profile, importances = champion_reference(connect(settings), run_id)
            against = f"champion (run {run_id})"
        current = profile_input(file, profile, config.features, config.data)
    except RetrainerError as exc:
        _fail(exc)
        return
    result = detect_drift(profile, current, config.drift, importances)
    typer.echo(
        render.to_json(
            {"model": model, "file": str(file), "reference": against, **result.to_dict()}
        )
    )
    raise typer.Exit(1 if result.drift else 0)


@app.command()
def status(
    model: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines")] = False,
    last: Annotated[int, typer.Option(min=1, help="How many recent batches to show")] = 10,
    config_dir: ConfigDir = None,
) -> None:
    """Print the champion, realized/estimated performance and the last trigger decisions."""
    from retrainer.config import load_model_config, model_file
    from retrainer.registry import connect
    from retrainer.status import model_status
    from retrainer.storage import open_storage

    try:
        settings = _settings(config_dir)
        config = load_model_config(model_file(settings.models_dir, model))
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        result = model_status(connect(settings), storage, config, last=last)
    except RetrainerError as exc:
        _fail(exc)
        return
    typer.echo(render.to_json(result.to_dict()) if as_json else render.status_table(result))


@app.command()
def history(
    model: str,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Print the champion at this ISO time instead (UTC if naive)"),
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Print every alias change from the ledger (when, what, who, why), or the champion at --at."""
    from datetime import datetime

    from retrainer.config import model_file
    from retrainer.registry import read_ledger
    from retrainer.registry.ledger import champion_at
    from retrainer.storage import open_storage

    try:
        when = datetime.fromisoformat(at) if at else None
    except ValueError:
        _fail(ValueError(f"--at {at!r} is not an ISO time such as 2026-11-23T10:00:00"))
        return
    try:
        settings = _settings(config_dir)
        model_file(settings.models_dir, model)  # the name becomes lake keys: check it first
        entries = read_ledger(
            open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url), model
        )
    except RetrainerError as exc:
        _fail(exc)
        return
    if when is not None:
        typer.echo(render.champion_at_line(model, str(at), champion_at(entries, when)))
        return
    if not entries:
        typer.echo(f"{model}: no alias changes recorded")
    for e in entries:
        typer.echo(render.ledger_line(e))


@app.command()
def canary(
    model: str,
    version: str,
    share: Annotated[
        float | None,
        typer.Option("--share", help="Share of live traffic for VERSION, between 0 and 1"),
    ] = None,
    stop: Annotated[bool, typer.Option("--stop", help="Take VERSION's traffic share away")] = False,
    reason: Annotated[str, typer.Option(help="Why (written to the ledger)")] = "",
    actor: Annotated[str | None, typer.Option(help="Who (default: the OS user)")] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Give a version a share of live traffic (the registry tag retrainer.traffic_share the
    serving side reads), or take it away with --stop. Each change is a ledger entry.

    Exit 0: done; 2: a bad share, an unknown version, the champion, or a store error.
    """
    import getpass

    from retrainer.config import model_file
    from retrainer.registry import connect
    from retrainer.registry.traffic import set_traffic_share, stop_traffic
    from retrainer.storage import open_storage

    if (share is None) == (not stop):
        _fail(ConfigError("give either --share SHARE or --stop"))
    who = actor or getpass.getuser()
    try:
        settings = _settings(config_dir)
        model_file(settings.models_dir, model)  # the name becomes lake keys: check it first
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        client = connect(settings)
        if stop:
            done = stop_traffic(
                client, storage, model, version, actor=who, reason=reason or "stopped by hand"
            )
            typer.echo(f"{model} v{version}: traffic share {done['previous_share']:g} cleared")
        else:
            assert share is not None
            done = set_traffic_share(
                client, storage, model, version, share, actor=who, reason=reason
            )
            typer.echo(f"{model} v{version}: traffic share {share:g} (champion serves the rest)")
    except RetrainerError as exc:
        _fail(exc)
        return
    typer.echo(f"ledger: {storage.uri(done['ledger_key'])}")


@app.command()
def doctor(
    model: str,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report, repair nothing")] = False,
    stale_after: Annotated[
        float,
        typer.Option(
            "--stale-after",
            min=0,
            help="Minutes after which a claim that never moved the alias is stale (default 60)",
        ),
    ] = 60.0,
    unchecked_after: Annotated[
        float,
        typer.Option(
            "--unchecked-after",
            min=0,
            help="Minutes after which a landed batch with no validation record is reported "
            "as never checked (default 15)",
        ),
    ] = 15.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines")] = False,
    config_dir: ConfigDir = None,
) -> None:
    """Find stale or empty claims, unrecorded moves, ledger gaps, unjudged versions and landed
    batches never checked; repair what is safe.

    Exit 0: nothing wrong, or all of it repaired; 1: problems remain (all of them with
    --dry-run); 2: the config or a store could not be read.
    """
    from datetime import timedelta

    from retrainer.config import model_file
    from retrainer.registry import connect
    from retrainer.registry.doctor import examine
    from retrainer.storage import open_storage

    try:
        settings = _settings(config_dir)
        model_file(settings.models_dir, model)  # the name becomes lake keys: check it first
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        checkup = examine(
            connect(settings),
            storage,
            model,
            repair=not dry_run,
            stale_after=timedelta(minutes=stale_after),
            unchecked_after=timedelta(minutes=unchecked_after),
        )
    except RetrainerError as exc:
        _fail(exc)
        return
    typer.echo(render.to_json(checkup.to_dict()) if as_json else render.checkup_lines(checkup))
    raise typer.Exit(1 if checkup.unrepaired else 0)


@app.command()
def check(
    model: str,
    offline: Annotated[
        bool, typer.Option("--offline", help="Check the YAML alone (no MLflow)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines")] = False,
    config_dir: ConfigDir = None,
) -> None:
    """Find policies that load but cannot work: floors above the champion's own metric,
    gate and trigger that contradict, slices too small to judge, thresholds never met.

    Exit 0: nothing found; 1: findings (each names the field and the fix); 2: the config
    or the registry could not be read.
    """
    from retrainer.config import load_model_config, model_file
    from retrainer.config.checks import check_policies

    try:
        settings = _settings(config_dir)
        config = load_model_config(model_file(settings.models_dir, model))
        if config.training.search is not None:
            # Searched names are checked against the built model (DAG parsing cannot).
            from retrainer.training.factory import build_model
            from retrainer.training.search import check_search_space

            check_search_space(build_model(config).estimator, config)
        baseline: dict[str, float] = {}
        champion = None
        if not offline:
            from retrainer.monitoring.signals import baseline_metrics
            from retrainer.registry import champion_version, connect

            client = connect(settings)
            champion = champion_version(client, config.name)
            if champion is not None:
                baseline = baseline_metrics(client, config.name, str(champion.version))
    except RetrainerError as exc:
        _fail(exc)
        return
    found = check_policies(config, baseline)
    if as_json:
        typer.echo(render.to_json({"model": model, "findings": [f.to_dict() for f in found]}))
    else:
        against = (
            "the YAML alone"
            if offline
            else f"champion v{champion.version}"
            if champion is not None
            else "the YAML (no champion yet)"
        )
        typer.echo(f"{model}: {len(found)} finding(s), checked against {against}")
        for finding in found:
            typer.echo(f"  - {finding.line()}")
    if found:
        raise typer.Exit(1)


@app.command()
def replay(
    model: str,
    folder: Annotated[Path, typer.Argument(help="Past batches with labels, named in time order")],
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Try another policy: key.path=value (YAML), repeatable"),
    ] = None,
    first: Annotated[
        int, typer.Option(min=1, help="How many leading batches train the first champion")
    ] = 1,
    reasons: Annotated[
        bool, typer.Option("--reasons", help="Print each decision's reasons")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines")] = False,
    config_dir: ConfigDir = None,
) -> None:
    """Backtest the model's policy on past batches: monitor, trigger, retrain and gate, as the
    DAGs would decide them, in one process against a scratch registry and lake.

    Exit 0: replayed; 2: the config, an override or the folder could not be used.
    """
    import yaml

    from retrainer.config import ModelConfig, anchor_code_path, model_file
    from retrainer.replay import apply_overrides, batch_files
    from retrainer.replay import replay as run_replay

    try:
        settings = _settings(config_dir)
        path = model_file(settings.models_dir, model)
        data = apply_overrides(yaml.safe_load(path.read_text(encoding="utf-8")), overrides or [])
        # The replay copies the YAML to a scratch folder: its code_path must not move with it.
        data = anchor_code_path(data, path) if isinstance(data, dict) else data
        try:
            ModelConfig.model_validate(data)
        except ValueError as exc:
            raise ConfigError(f"{path} with --set {overrides}: {exc}") from exc
        rows = run_replay(data, batch_files(folder), first=first)
    except RetrainerError as exc:
        _fail(exc)
        return
    if as_json:
        typer.echo(render.to_json({"model": model, "rows": [r.to_dict() for r in rows]}))
    else:
        typer.echo(render.replay_table(model, rows, reasons=reasons))
