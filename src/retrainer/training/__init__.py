"""Training: pipeline from config, training window, train + log + register."""

from __future__ import annotations

from retrainer.training.pipeline import build_pipeline
from retrainer.training.train import TrainedModel, train_challenger
from retrainer.training.window import TrainingWindow, assemble_window

__all__ = [
    "TrainedModel",
    "TrainingWindow",
    "assemble_window",
    "build_pipeline",
    "train_challenger",
]
