"""Replay a stream of batches through the monitor's domain steps and the trigger policy.

The same calls the monitor and retrain operators make (validate → accept → check →
decide; on ``retrain``: train → evaluate → promote), without a scheduler, so a two-year
stream runs in about a minute against a real MLflow SQLite store and a local lake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import make_config_dir


@dataclass
class Row:
    batch_id: str
    champion: str | None
    drift: bool
    drift_score: float | None
    metric: str
    realized: float | None
    decision: str
    event: str | None
    suppressed_by: str | None
    reasons: list[str]
    action: str = ""


@dataclass
class Stream:
    model: str
    config: Any
    settings: Any
    storage: Any
    client: Any
    data: Path
    rows: list[Row] = field(default_factory=list)

    @classmethod
    def open(cls, root: Path, model: str, overrides: dict[str, Any] | None = None) -> Stream:
        from retrainer.config import load_model_config
        from retrainer.registry import connect
        from retrainer.settings import load_settings
        from retrainer.storage import open_storage

        config_dir = make_config_dir(root, models=(model,), overrides={model: overrides or {}})
        settings = load_settings(config_dir)
        data = root / "data"
        data.mkdir(exist_ok=True)
        return cls(
            model,
            load_model_config(settings.models_dir / f"{model}.yaml"),
            settings,
            open_storage(settings.storage_root),
            connect(settings),
            data,
        )

    def accept(self, batch_id: str, frame: Any, *, validate: bool = True) -> None:
        """Land and validate a batch with the champion's suite, as validate_batch does.

        ``validate=False`` accepts it as it is (validation has its own tests; a long
        stream of known-good batches need not pay for it).
        """
        from retrainer.lake import accept_batch, find_incoming, land_file
        from retrainer.registry import champion_version
        from retrainer.validation import load_suite_spec, validate_batch

        if not validate:
            key = f"batches/{self.model}/{batch_id}/data.parquet"
            self.storage.write_frame(key, frame)
            accept_batch(self.storage, self.config, batch_id, key)
            return
        path = self.data / f"{batch_id}.parquet"
        frame.to_parquet(path, index=False)
        land_file(self.storage, self.model, path, batch_id)
        champion = champion_version(self.client, self.model)
        spec = load_suite_spec(self.config, champion.run_id if champion else None)
        key = find_incoming(self.storage, self.model, batch_id)
        outcome = validate_batch(self.storage, self.config, batch_id, key, spec)
        assert outcome.batch_key is not None
        accept_batch(self.storage, self.config, batch_id, outcome.batch_key)

    def retrain(
        self,
        trigger: str,
        reason: str,
        evidence: dict[str, Any] | None = None,
        window: Any = None,
    ) -> tuple[str, bool]:
        """Train, evaluate and (if the gate says so) promote; return (version, promoted)."""
        from retrainer.evaluation import evaluate_challenger
        from retrainer.registry import promote
        from retrainer.training import train_challenger

        trained = train_challenger(
            self.client,
            self.storage,
            self.settings,
            self.config,
            trigger=trigger,
            reason=reason,
            trigger_evidence=evidence,
            window=window,
        )
        evaluation = evaluate_challenger(
            self.client, self.storage, self.settings, self.config, trained.version
        )
        if evaluation.promote:
            promote(
                self.client,
                self.storage,
                self.model,
                trained.version,
                expected_champion=evaluation.champion_version,
                reason=evaluation.decision["reason"],
                actor="test",
            )
        return trained.version, evaluation.promote

    def step(self, batch_id: str, frame: Any, *, validate: bool = True) -> Row:
        """One monitor run on a batch, then the retrain it asks for (if any)."""
        from retrainer.monitoring import check_batch
        from retrainer.monitoring.signals import decide_batch

        self.accept(batch_id, frame, validate=validate)
        check_batch(self.client, self.storage, self.settings, self.config, batch_id)
        decision = decide_batch(self.client, self.storage, self.config, batch_id)
        signals = decision.signals
        metric = self.config.trigger_metric
        row = Row(
            batch_id,
            signals.champion_version,
            signals.drift,
            signals.drift_score,
            metric,
            signals.realized.get(metric),
            decision.decision,
            decision.event,
            decision.suppressed_by,
            list(decision.reasons),
        )
        if decision.decision == "retrain":
            assert decision.event is not None
            version, promoted = self.retrain(
                decision.event, "; ".join(decision.reasons), decision.to_dict()
            )
            row.action = f"v{version} {'promoted' if promoted else 'rejected by the gate'}"
        self.rows.append(row)
        return row

    def table(self, title: str) -> str:
        metric = self.config.trigger_metric
        lines = [
            title,
            f"{'batch':<10} {'champion':>8}  {'drift (score)':<13} {metric:>8}  "
            f"{'decision':<10} {'event':<6} action / suppressed by",
        ]
        for r in self.rows:
            score = "-" if r.drift_score is None else f"{r.drift_score:.2f}"
            value = "-" if r.realized is None else f"{r.realized:.2f}"
            detail = r.action or r.suppressed_by or ""
            lines.append(
                f"{r.batch_id:<10} {'v' + (r.champion or '-'):>8}  "
                f"{str(r.drift).lower() + ' (' + score + ')':<13} {value:>8}  "
                f"{r.decision:<10} {r.event or '-':<6} {detail}"
            )
            lines.append(f"{'':<12}reasons: {'; '.join(r.reasons)}")
        return "\n".join(lines)
