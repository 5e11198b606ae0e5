"""What every retrainer task needs at run time: settings, config, lake and MLflow client."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from retrainer.config import ModelConfig
    from retrainer.settings import Settings
    from retrainer.storage import LocalStorage, S3Storage

__all__ = ["TaskRuntime"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskRuntime:
    settings: Settings
    config: ModelConfig
    storage: LocalStorage | S3Storage
    client: MlflowClient

    @classmethod
    def open(cls, config_dir: str | Path, model: str) -> TaskRuntime:
        from retrainer.config import load_model_config
        from retrainer.registry import connect
        from retrainer.settings import load_settings
        from retrainer.storage import open_storage

        settings = load_settings(config_dir)
        config = load_model_config(settings.models_dir / f"{model}.yaml")
        storage = open_storage(settings.storage_root, endpoint_url=settings.s3_endpoint_url)
        return cls(settings, config, storage, connect(settings))

    def alert(
        self, title: str, text: str, details: dict[str, Any] | None = None, *, event: str = "other"
    ) -> bool:
        """Deliver an alert a domain step raised (the ``AlertSink`` domain functions take)."""
        from retrainer.orchestration.notifiers import send_alert

        return send_alert(self.settings, title, text, details, event=event)
