"""The training engine, optimizers and parameter selection."""
from obliviate.training.engine import Engine, TrainingData, TrainResult

__all__ = ["Engine", "TrainingData", "TrainResult"]
