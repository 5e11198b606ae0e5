"""The ``retrainer`` command: demo, up, down, land, status, history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from retrainer.errors import RetrainerError
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
    from retrainer.demo import run_demo

    try:
        run_demo(_settings(config_dir), keep_running=keep_running)
    except RetrainerError as exc:
        _fail(exc, 1)


@app.command()
def up(config_dir: ConfigDir = None, airflow_port: int = 8080, mlflow_port: int = 5000) -> None:
    """Start the Airflow UI/API server, scheduler and the MLflow UI over the local state."""
    from retrainer.airflow_api import AirflowAPI
    from retrainer.local_stack import LocalStack, airflow_env, stop_pidfiles

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
    from retrainer.local_stack import stop_pidfiles

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
    from retrainer.airflow_api import AirflowAPI, AirflowAPIError
    from retrainer.config import load_model_config
    from retrainer.demo import land_and_notify
    from retrainer.storage import open_storage

    try:
        settings = _settings(config_dir)
        load_model_config(settings.models_dir / f"{model}.yaml")
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        api = AirflowAPI(settings.airflow_url, settings.airflow_user, settings.airflow_password)
        key = land_and_notify(None, storage, model, file, batch_id or file.stem)
        typer.echo(f"landed {file} as {storage.uri(key)}")
        if notify:
            try:
                api.post_asset_event(
                    f"{model}_incoming", {"batch_id": batch_id or file.stem, "key": key}
                )
                typer.echo(f"asset event posted: {model}_monitor will run")
            except AirflowAPIError as exc:
                typer.echo(
                    f"warning: file landed but Airflow was not told ({exc}); trigger "
                    f"{model}_monitor with batch_id={batch_id or file.stem}",
                    err=True,
                )
    except RetrainerError as exc:
        _fail(exc)


def _read_input(path: Path, time_column: str | None) -> Any:
    """Read a CSV/Parquet file for the CLI; unreadable input exits with code 2."""
    from retrainer.tables import read_table

    try:
        return read_table(path.read_bytes(), path.name, time_column=time_column)
    except FileNotFoundError:
        _fail(RetrainerError(f"{path}: file not found"))
    except (RetrainerError, OSError) as exc:
        _fail(exc)


def _champion_run(settings: Settings, model: str) -> str | None:
    from retrainer.registry import champion_version, connect

    champion = champion_version(connect(settings), model)
    return None if champion is None else str(champion.run_id)


def _checks_payload(result: Any, config: Any) -> list[dict[str, Any]]:
    return [
        c.__dict__
        | {"examples": list(c.examples), "severity": config.validation.severity(c.check, c.column)}
        for c in result.failed_checks
    ]


def _unreadable(model: str, file: Path, exc: Exception) -> None:
    """Say on stdout (JSON) and stderr why the input could not be read; exit 2."""
    typer.echo(
        json.dumps({"model": model, "file": str(file), "outcome": "unreadable", "error": str(exc)})
    )
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
    from retrainer.config import load_model_config
    from retrainer.tables import read_table
    from retrainer.validation import decide, labels_spec, load_suite_spec, validate_frame

    try:
        settings = _settings(config_dir)
        config = load_model_config(settings.models_dir / f"{model}.yaml")
        run_id = _champion_run(settings, model)
        spec = load_suite_spec(config, run_id)
        if labels:
            spec = labels_spec(spec, config)
    except RetrainerError as exc:
        _fail(exc)
        return
    try:
        frame = read_table(file.read_bytes(), file.name, time_column=config.data.time_column)
    except (RetrainerError, OSError) as exc:
        _unreadable(model, file, exc)
        return
    result = validate_frame(frame, spec, name=file.name, require_target=labels)
    decision = decide(frame, result, spec, config, require_target=labels)
    payload = {
        "model": model,
        "file": str(file),
        "kind": "labels" if labels else "batch",
        "outcome": decision.status,
        "suite": "champion" if run_id else "config schema (no champion yet)",
        "rows": result.row_count,
        **decision.to_dict(),
        "failed_checks": _checks_payload(result, config),
    }
    typer.echo(json.dumps(payload, indent=2, default=str))
    raise typer.Exit(0 if decision.status == "accepted" else 1)


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
    from retrainer.config import load_model_config
    from retrainer.errors import ValidationFailed
    from retrainer.lake import land_file
    from retrainer.storage import open_storage
    from retrainer.validation import load_suite_spec, validate_labels

    batch = batch_id or file.stem
    try:
        settings = _settings(config_dir)
        config = load_model_config(settings.models_dir / f"{model}.yaml")
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        spec = load_suite_spec(config, _champion_run(settings, model))
        key = land_file(storage, model, file, batch, zone="labels")
    except RetrainerError as exc:
        _fail(exc)
        return
    try:
        outcome = validate_labels(storage, config, batch, key, spec)
    except ValidationFailed as exc:
        typer.echo(
            json.dumps(
                {
                    "model": model,
                    "file": str(file),
                    "original": storage.uri(key),
                    "outcome": "blocked",
                    "blocking": exc.failed_checks,
                    "quarantine": storage.uri(exc.evidence.get("quarantine_prefix") or ""),
                },
                indent=2,
                default=str,
            )
        )
        raise typer.Exit(1) from None
    typer.echo(
        json.dumps(
            {"model": model, "file": str(file), "original": storage.uri(key)}
            | outcome.to_dict()
            | {"failed_checks": _checks_payload(outcome.result, config)},
            indent=2,
            default=str,
        )
    )
    if notify:
        _post_labels_event(settings, model, batch, outcome.batch_key)
    raise typer.Exit(0 if outcome.status == "accepted" else 1)


def _post_labels_event(settings: Settings, model: str, batch: str, key: str | None) -> None:
    """Tell Airflow labels landed; a warning (not a failure) when it cannot be reached."""
    from retrainer.airflow_api import AirflowAPI, AirflowAPIError

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


def _profile_input(path: Path, reference: Any, features: list[str], time_column: Any) -> Any:
    """Profile a batch file for `drift`: Parquet and CSV stream in bounded memory."""
    from retrainer.drift import profile_batch, profile_file
    from retrainer.drift.stream import columns_of

    if path.suffix.lower() not in {".parquet", ".pq", ".csv"}:
        frame = _read_input(path, time_column)
        columns = list(frame.columns)
    else:
        if not path.is_file():
            _fail(RetrainerError(f"{path}: file not found"))
        if path.stat().st_size == 0:
            _fail(RetrainerError(f"{path}: empty (0 bytes)"))
        frame = None
        try:
            columns = columns_of(path)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            _fail(RetrainerError(f"{path}: unreadable ({exc})"))
    missing = [f for f in features if f not in columns]
    if missing:
        _fail(RetrainerError(f"{path}: missing feature column(s) {missing}"))
    if frame is not None:
        return profile_batch(frame, reference)
    try:
        return profile_file(path, reference)
    except (OSError, ValueError) as exc:
        _fail(RetrainerError(f"{path}: unreadable ({exc})"))


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
    from retrainer.config import load_model_config
    from retrainer.drift import Profile, build_reference_profile, detect_drift

    try:
        settings = _settings(config_dir)
        config = load_model_config(settings.models_dir / f"{model}.yaml")
        importances: dict[str, float] | None = None
        if reference is not None:
            ref_frame = _read_input(reference, config.data.time_column)
            profile = build_reference_profile(
                ref_frame,
                config.numeric_features,
                config.categorical_features,
                bins=config.drift.bins,
            )
            against = str(reference)
        else:
            import mlflow

            from retrainer.training import ARTIFACTS

            run_id = _champion_run(settings, model)
            if run_id is None:
                raise RetrainerError(f"{model!r} has no champion: give --reference FILE")
            profile = Profile.from_dict(
                mlflow.artifacts.load_dict(f"runs:/{run_id}/{ARTIFACTS['profile']}")
            )
            importances = mlflow.artifacts.load_dict(f"runs:/{run_id}/{ARTIFACTS['importance']}")
            against = f"champion (run {run_id})"
    except RetrainerError as exc:
        _fail(exc)
        return
    current = _profile_input(file, profile, config.features, config.data.time_column)
    result = detect_drift(profile, current, config.drift, importances)
    typer.echo(
        json.dumps(
            {"model": model, "file": str(file), "reference": against, **result.to_dict()},
            indent=2,
            default=str,
        )
    )
    raise typer.Exit(1 if result.drift else 0)


def _metric(values: Any, metric: str) -> str:
    value = (values or {}).get(metric)
    return "-" if value is None else f"{value:.3f}"


def _status_table(status: Any) -> str:
    """The human view of a ModelStatus: champion line, batch table, decisions with reasons."""
    lines = []
    champion = status.champion
    if champion is None:
        lines.append(f"{status.model}: no champion yet")
    else:
        lines.append(
            f"{status.model}: champion v{champion.version} since {champion.since or '?'} "
            f"({champion.event or '?'} by {champion.by or '?'}; trigger "
            f"{champion.trigger or '?'}: {champion.reason or '-'})"
        )
    lines.append("")
    m = status.metric
    header = (
        f"{'batch':<22} {'checked at':<19} {'champ':>5}  {'drift':<13} "
        f"{'realized ' + m:>16} {'estimated ' + m:>17}  decision"
    )
    lines.append(header)
    decided = {d.batch_id: d for d in status.decisions}
    for b in status.batches:
        drift = "-" if b.drift is None else ("DRIFT" if b.drift else "ok")
        if b.drift_score is not None:
            drift += f" {b.drift_score:.2f}"
        estimated = _metric(b.estimated, m) + (" (broken)" if b.estimate_broken else "")
        d = decided.get(b.batch_id)
        decision = "-" if d is None else d.decision + (f" ({d.event})" if d.event else "")
        lines.append(
            f"{b.batch_id:<22.22} {(b.checked_at or '-')[:19]:<19} "
            f"{('v' + b.champion_version) if b.champion_version else '-':>5}  {drift:<13} "
            f"{_metric(b.realized, m):>16} {estimated:>17}  {decision}"
        )
    if not status.batches:
        lines.append("  (no batch checked yet)")
    lines.append("")
    lines.append("last trigger decisions:" if status.decisions else "no trigger decisions yet")
    for d in reversed(status.decisions):
        what = d.decision + (f" ({d.event})" if d.event else "")
        if d.suppressed_by:
            what += f", suppressed by {d.suppressed_by}"
        lines.append(f"  {d.decided_at or '?'}  {d.batch_id}: {what}")
        lines.extend(f"      - {reason}" for reason in d.reasons)
    lines.extend(f"warning: {p}" for p in status.problems)
    return "\n".join(lines)


@app.command()
def status(
    model: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines")] = False,
    last: Annotated[int, typer.Option(min=1, help="How many recent batches to show")] = 10,
    config_dir: ConfigDir = None,
) -> None:
    """Print the champion, realized/estimated performance and the last trigger decisions."""
    from retrainer.config import load_model_config
    from retrainer.registry import connect
    from retrainer.status import model_status
    from retrainer.storage import open_storage

    try:
        settings = _settings(config_dir)
        config = load_model_config(settings.models_dir / f"{model}.yaml")
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        result = model_status(connect(settings), storage, config, last=last)
    except RetrainerError as exc:
        _fail(exc)
        return
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        typer.echo(_status_table(result))


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
        entries = read_ledger(
            open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url), model
        )
    except RetrainerError as exc:
        _fail(exc)
        return
    if when is not None:
        entry = champion_at(entries, when)
        if entry is None:
            typer.echo(f"{model} at {at}: no champion")
        else:
            typer.echo(
                f"{model} at {at}: champion v{entry['version']} since {entry['time']} "
                f"({entry['event']} by {entry.get('actor')}: {entry.get('reason')})"
            )
        return
    if not entries:
        typer.echo(f"{model}: no alias changes recorded")
    for e in entries:
        previous = f" (was v{e['previous_version']})" if e.get("previous_version") else ""
        run = f" [run {e['airflow_run_id']}]" if e.get("airflow_run_id") else ""
        typer.echo(
            f"{e['time']}  {e['event']:<8} v{e['version']}{previous}  by {e.get('actor')}: "
            f"{e.get('reason')}{run}"
        )
