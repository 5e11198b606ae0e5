"""Kill a task attempt at a chosen instant, for real: a child process that dies mid-step.

``RETRAINER_TEST_CRASH_AT`` names a boundary: the child makes that write and then calls
``os._exit`` (no ``finally``, no ``atexit``, no run ended: what SIGKILL leaves). A boundary
is ``[client.]<MlflowClient method>`` or ``storage.<write_bytes|create_new>:<key glob>``,
optionally ``@<n>`` for the n-th matching write (default the first)::

    create_model_version                      the first version registered
    client.set_registered_model_alias@1       the first alias move
    storage.create_new:locks/rainfall/*       the first claim of rainfall written
    storage.write_bytes:ledger/*@2            the second ledger write (``*`` spans "/")

Every lake write goes through ``write_bytes`` or ``create_new`` (``write_json`` and
``write_frame`` call ``write_bytes``), so wrapping those two sees them all, on
``LocalStorage`` and ``S3Storage`` alike. The production code has no hook: the child wraps
its client and storage here. :func:`record_boundaries` runs a step in-process with the
same wrappers, dying nowhere, and lists every boundary it crossed, so a test can
parametrize over the writes a clean run makes and a new write is covered by itself.

The steps a child can run (:data:`STEPS`): ``train``, ``land``, ``validate``,
``promote`` and ``rollback``, each the domain function its Airflow operator (or
``retrainer land``) calls. :func:`crash` runs one in a child forked from a server that
imported the heavy libraries once, so a crash costs a fraction of a second rather than
the imports; :func:`run_attempt` runs ``python -m tests.integration.crash_points``.
"""

from __future__ import annotations

import fnmatch
import json
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from mlflow import MlflowClient

CRASH_AT = "RETRAINER_TEST_CRASH_AT"
KILLED = 137  # the exit status of a SIGKILLed process, as the child reports its death
# MlflowClient methods that change the tracking store or the registry.
CLIENT_WRITES = ("create_", "set_", "delete_", "log_", "update_", "rename_", "copy_")
STORAGE_WRITES = ("write_bytes", "create_new")


def _client_label(name: str) -> str:
    return f"client.{name}"


def _storage_label(method: str, key: str) -> str:
    return f"storage.{method}:{key}"


class Boundaries:
    """Counts the writes a process makes; dies after the one ``spec`` names, if any."""

    def __init__(self, spec: str | None) -> None:
        self.crossed: list[str] = []
        self.pattern, self.nth = _parse(spec) if spec else (None, 0)
        self._hits = 0

    def crossed_one(self, label: str) -> None:
        self.crossed.append(label)
        if self.pattern is None or not fnmatch.fnmatchcase(label, self.pattern):
            return
        self._hits += 1
        if self._hits == self.nth:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(KILLED)

    def specs(self) -> list[str]:
        """Each crossed boundary as a spec that names it again in an identical run.

        Keys are generalised to their zone (``ledger/*``): ledger keys carry a time, the
        model's name may differ, and the n-th write into a zone is the same write in a
        run that does the same.
        """
        out: list[str] = []
        seen: dict[str, int] = {}
        for label in self.crossed:
            kind, _, key = label.partition(":")
            pattern = f"{kind}:{PurePosixPath(key).parts[0]}/*" if key else kind
            seen[pattern] = seen.get(pattern, 0) + 1
            out.append(f"{pattern}@{seen[pattern]}")
        return out


def _parse(spec: str) -> tuple[str, int]:
    target, _, nth = spec.rpartition("@") if "@" in spec else (spec, "", "1")
    if not target.startswith(("client.", "storage.")):
        target = _client_label(target)  # a bare MlflowClient method, as before
    if target.startswith("storage.") and ":" not in target:
        target += ":*"
    try:
        return target, int(nth)
    except ValueError:
        raise ValueError(f"{CRASH_AT}={spec!r}: the part after '@' must be a number") from None


class CrashingClient(MlflowClient):
    """An MlflowClient that reports each write to ``boundaries`` right after it returns."""

    boundaries: Boundaries

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if not name.startswith(CLIENT_WRITES) or not callable(attr):
            return attr
        boundaries = super().__getattribute__("boundaries")

        def then_report(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            boundaries.crossed_one(_client_label(name))
            return result

        return then_report


def crashing_client(uri: str, boundaries: Boundaries) -> CrashingClient:
    client = CrashingClient(uri, uri)
    client.boundaries = boundaries
    return client


def crashing_storage(storage: Any, boundaries: Boundaries) -> Any:
    """The same lake, as a subclass of its class whose two write primitives report."""
    base = type(storage)

    class Crashing(base):  # type: ignore[valid-type,misc]
        def write_bytes(self, key: str, data: bytes) -> str:
            uri = str(super().write_bytes(key, data))
            boundaries.crossed_one(_storage_label("write_bytes", key))
            return uri

        def create_new(self, key: str, data: bytes) -> bool:
            created = bool(super().create_new(key, data))
            boundaries.crossed_one(_storage_label("create_new", key))
            return created

    wrapped = object.__new__(Crashing)
    wrapped.__dict__.update(storage.__dict__)
    return wrapped


# --- the steps a child runs: each the domain function of its operator -------------------


def _world(config_dir: str, boundaries: Boundaries) -> tuple[Any, Any, Any]:
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    settings = load_settings(config_dir)
    connect(settings)  # sets the tracking URI the fluent run API uses
    client = crashing_client(settings.mlflow_tracking_uri, boundaries)
    storage = crashing_storage(open_storage(settings.storage_root), boundaries)
    return settings, client, storage


def _config(settings: Any, model: str) -> Any:
    from retrainer.config import load_model_config, model_file

    return load_model_config(model_file(settings.models_dir, model))


def _train(config_dir: str, args: dict[str, Any], boundaries: Boundaries) -> Any:
    from retrainer.training import train_challenger

    settings, client, storage = _world(config_dir, boundaries)
    return train_challenger(
        client,
        storage,
        settings,
        _config(settings, args["model"]),
        trigger="manual",
        reason=args.get("reason", "attempt 1"),
        context=args["context"],
    )


def _land(config_dir: str, args: dict[str, Any], boundaries: Boundaries) -> Any:
    """What ``retrainer land`` does to the lake (its Asset-event POST is not a lake write)."""
    from retrainer.lake import land_file

    settings, _, storage = _world(config_dir, boundaries)
    config = _config(settings, args["model"])
    return land_file(
        storage,
        args["model"],
        args["file"],
        args["batch_id"],
        max_bytes=config.validation.max_batch_bytes,
    )


def _validate(config_dir: str, args: dict[str, Any], boundaries: Boundaries) -> Any:
    from retrainer.monitoring.intake import IntakeRequest, validate_landed_batches

    settings, client, storage = _world(config_dir, boundaries)
    request = IntakeRequest(run=args["run"], batch_ids=tuple(args.get("batch_ids", ())))
    intake = validate_landed_batches(
        client, storage, _no_alert, _config(settings, args["model"]), request
    )
    return intake.to_xcom()


def _promote(config_dir: str, args: dict[str, Any], boundaries: Boundaries) -> Any:
    from retrainer.evaluation.challenger import Evaluation
    from retrainer.registry.steps import promote_challenger

    _, client, storage = _world(config_dir, boundaries)
    promotion = promote_challenger(
        client,
        storage,
        _no_alert,
        Evaluation(**args["evaluation"]),
        approval_mode="auto",
        actor="retrainer",
        context=args["context"],
    )
    return promotion.to_xcom()


def _rollback(config_dir: str, args: dict[str, Any], boundaries: Boundaries) -> Any:
    from retrainer.registry.steps import roll_back_champion

    _, client, storage = _world(config_dir, boundaries)
    change = roll_back_champion(
        client,
        storage,
        _no_alert,
        args["model"],
        target_version=args.get("target_version"),
        reason=args["reason"],
        actor="ops",
        context=args["context"],
    )
    return change.to_dict()


def _no_alert(*_: Any, **__: Any) -> None:
    """Alerts go to channels, not the lake or the registry: no boundary of the step."""


STEPS: dict[str, Callable[[str, dict[str, Any], Boundaries], Any]] = {
    "train": _train,
    "land": _land,
    "validate": _validate,
    "promote": _promote,
    "rollback": _rollback,
}


def record_boundaries(step: str, config_dir: str, args: dict[str, Any]) -> tuple[Any, list[str]]:
    """Run ``step`` in this process, dying nowhere; return its result and its boundaries."""
    boundaries = Boundaries(None)
    result = STEPS[step](config_dir, args, boundaries)
    return result, boundaries.specs()


def _child(step: str, config_dir: str, args: dict[str, Any], crash_at: str) -> None:
    os.environ[CRASH_AT] = crash_at
    STEPS[step](config_dir, args, Boundaries(crash_at))
    os._exit(0)  # not killed: the parent reports the crash point was never reached


_SERVER: Any = None


def _server() -> Any:
    """A forkserver that imported the heavy libraries once and opened no store."""
    global _SERVER
    if _SERVER is None:
        _SERVER = multiprocessing.get_context("forkserver")
        _SERVER.set_forkserver_preload(
            ["mlflow", "sklearn", "pandas", "great_expectations", "retrainer.validation"]
        )
    return _SERVER


def crash(step: str, config_dir: str, args: dict[str, Any], crash_at: str) -> None:
    """Run ``step`` in a child that dies after ``crash_at``; fail if it got past it."""
    child = _server().Process(target=_child, args=(step, config_dir, args, crash_at))
    child.start()
    child.join(300)
    if child.exitcode != KILLED:
        raise AssertionError(
            f"the {step} attempt did not die at {crash_at} (exit code {child.exitcode})"
        )


def run_attempt(config_dir: str, model: str, context: dict[str, str], crash_at: str) -> int:
    """Run one training attempt in a fresh ``python`` that dies after ``crash_at``."""
    env = {**os.environ, CRASH_AT: crash_at}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.crash_points",
            "train",
            config_dir,
            json.dumps({"model": model, "context": context}),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != KILLED:
        raise AssertionError(f"the attempt did not die at {crash_at}: {done.stderr[-3000:]}")
    return done.returncode


if __name__ == "__main__":
    STEPS[sys.argv[1]](sys.argv[2], json.loads(sys.argv[3]), Boundaries(os.environ.get(CRASH_AT)))
    sys.exit(0)  # not killed: the parent reports the crash point was never reached
