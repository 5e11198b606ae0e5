"""Backtest a policy: the monitor, trigger and gate over a folder of past batches.

The same domain calls the DAGs make (validate -> accept -> check -> decide; on
``retrain``: train -> evaluate -> promote), in one process, in time order, against a
scratch MLflow store and lake in a temporary folder: the model's real registry and lake are
never touched. A team chooses a policy on its own past before it goes live, and
``overrides`` (``--set key=value``) tries another one on the same batches.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrainer.errors import ConfigError, InputDataError, ValidationFailed

if TYPE_CHECKING:
    from retrainer.config import ModelConfig

__all__ = ["ReplayRow", "apply_overrides", "batch_files", "replay"]

log = logging.getLogger(__name__)

_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass
class ReplayRow:
    """One batch as the live pipeline would have decided it."""

    batch_id: str
    champion: str | None
    drift: bool | None = None
    drift_score: float | None = None
    metric: str = ""
    realized: float | None = None
    estimated: float | None = None
    decision: str = ""  # retrain | none | suppressed | blocked | champion
    event: str | None = None
    reasons: list[str] = field(default_factory=list)
    action: str = ""  # what the retrain and the gate did

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def batch_files(folder: Path) -> list[Path]:
    """The batch files of ``folder`` in name order (name them so that it is time order).

    Raises:
        InputDataError: the folder is missing or holds no CSV/Parquet file.
    """
    if not folder.is_dir():
        raise InputDataError(f"{folder} is not a folder of batch files")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES)
    if not files:
        raise InputDataError(f"{folder} holds no .csv or .parquet batch file")
    return files


def _parse_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set value {text!r} is not YAML: {exc}") from exc


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``key.sub=value`` pairs (YAML values; ``null`` removes a section's tuning) applied.

    Raises:
        ConfigError: a pair without ``=`` or a key path through a non-mapping.
    """
    out: dict[str, Any] = {**data}
    for pair in overrides:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r}: expected key=value, e.g. trigger.max_drop=0.1")
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
            elif not isinstance(child, dict):
                raise ConfigError(f"--set {pair!r}: {part!r} is not a section")
            node[part] = child = dict(child)
            node = child
        node[parts[-1]] = _parse_value(raw)
    return out


@contextmanager
def _scratch(model_yaml: dict[str, Any]) -> Iterator[tuple[Any, Any, Any, ModelConfig]]:
    """Settings, storage, client and config of a throw-away home for one replay."""
    import yaml

    from retrainer.config import load_model_config
    from retrainer.registry import connect
    from retrainer.settings import load_settings
    from retrainer.storage import open_storage

    with tempfile.TemporaryDirectory(prefix="retrainer-replay-") as tmp:
        root = Path(tmp)
        (root / "config" / "models").mkdir(parents=True)
        name = model_yaml["name"]
        path = root / "config" / "models" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(model_yaml))
        (root / "config" / "retrainer.yaml").write_text(
            yaml.safe_dump({"home": str(root / "home"), "approval_mode": "auto"})
        )
        settings = load_settings(root / "config")
        config = load_model_config(path)
        yield settings, open_storage(settings.storage_root), connect(settings), config


def _accept(storage: Any, client: Any, config: ModelConfig, batch_id: str, file: Path) -> None:
    from retrainer.lake import accept_batch, find_incoming, land_file
    from retrainer.registry import champion_version
    from retrainer.validation import load_suite_spec, validate_batch

    land_file(storage, config.name, file, batch_id)
    champion = champion_version(client, config.name)
    spec = load_suite_spec(config, champion.run_id if champion else None, client=client)
    outcome = validate_batch(
        storage, config, batch_id, find_incoming(storage, config.name, batch_id), spec
    )
    assert outcome.batch_key is not None
    accept_batch(storage, config, batch_id, outcome.batch_key)


def _retrain(
    storage: Any,
    client: Any,
    settings: Any,
    config: ModelConfig,
    trigger: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
) -> str:
    from retrainer.evaluation import evaluate_challenger
    from retrainer.registry import promote
    from retrainer.training import train_challenger

    try:
        trained = train_challenger(
            client,
            storage,
            settings,
            config,
            trigger=trigger,
            reason=reason,
            trigger_evidence=evidence,
        )
    except ValidationFailed as exc:
        return f"retrain refused: {exc}"
    evaluation = evaluate_challenger(client, storage, settings, config, trained.version)
    if not evaluation.promote:
        return f"v{trained.version} rejected by the gate: {evaluation.decision['reason']}"
    promote(
        client,
        storage,
        config.name,
        trained.version,
        expected_champion=evaluation.champion_version,
        reason=evaluation.decision["reason"],
        actor="replay",
    )
    return f"v{trained.version} promoted"


def _first_champion(
    storage: Any, client: Any, settings: Any, config: ModelConfig
) -> tuple[str, str]:
    """Train the first champion: (``champion``, what the gate did) or (``waiting``, why not).

    Live, a scheduled retrain that finds too few rows fails and the next one tries again;
    the replay tries after every batch the same way, so small batches (a month of daily
    rows) make a champion once enough of them are in. A first model the gate refuses is
    final, as live: with no champion, nothing is judged and nothing retrains.
    """
    try:
        action = _retrain(storage, client, settings, config, "manual", "replay: first champion")
    except InputDataError as exc:
        # The retrain's own words: how many rows the window has and how many it needs.
        log.info("replay %s: no first champion yet: %s", config.name, exc)
        return "waiting", f"no champion yet: {exc}"
    return "champion", action


def replay(model_yaml: dict[str, Any], files: Sequence[Path], *, first: int = 1) -> list[ReplayRow]:
    """Decide every batch of ``files`` as live would; the first ``first`` train the champion.

    When the first ``first`` batches hold too few rows to train on, each next batch is
    accepted and the first champion is tried again (decision ``waiting``) until the rows
    are enough.

    Raises:
        InputDataError: fewer files than ``first`` + 1.
    """
    from retrainer.monitoring import check_batch
    from retrainer.monitoring.signals import decide_batch
    from retrainer.registry import champion_version

    if len(files) <= first:
        raise InputDataError(
            f"{len(files)} batch file(s): need more than --first {first} (the champion's)"
        )
    rows: list[ReplayRow] = []
    with _scratch(model_yaml) as (settings, storage, client, config):
        metric = config.trigger_metric
        for file in files[:first]:
            _accept(storage, client, config, file.stem, file)
        decided, action = _first_champion(storage, client, settings, config)
        waiting = decided == "waiting"
        rows.append(
            ReplayRow(
                ",".join(f.stem for f in files[:first]),
                None,
                decision=decided,
                metric=metric,
                action=action,
            )
        )
        for file in files[first:]:
            batch_id = file.stem
            champion = champion_version(client, config.name)
            row = ReplayRow(batch_id, str(champion.version) if champion else None, metric=metric)
            rows.append(row)
            try:
                _accept(storage, client, config, batch_id, file)
            except ValidationFailed as exc:
                row.decision, row.reasons = "blocked", [str(exc)]
                continue
            if waiting:
                row.decision, row.action = _first_champion(storage, client, settings, config)
                waiting = row.decision == "waiting"
                continue
            check_batch(client, storage, settings, config, batch_id)
            decision = decide_batch(client, storage, config, batch_id)
            signals = decision.signals
            row.drift, row.drift_score = signals.drift, signals.drift_score
            row.realized = signals.realized.get(metric)
            row.estimated = signals.estimated.get(metric)
            row.decision, row.event = decision.decision, decision.event
            row.reasons = list(decision.reasons)
            if decision.suppressed_by:
                row.action = f"suppressed by {decision.suppressed_by}"
            if decision.decision == "retrain" and decision.event is not None:
                row.action = _retrain(
                    storage,
                    client,
                    settings,
                    config,
                    decision.event,
                    "; ".join(decision.reasons),
                    decision.to_dict(),
                )
    return rows
