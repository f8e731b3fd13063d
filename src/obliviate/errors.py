"""Errors a user can cause. The CLI prints their message and exits with status 2."""


class ObliviateError(Exception):
    """Base class: the message says what was wrong and how to fix it."""


class ConfigError(ObliviateError):
    """A configuration file or key=value override is invalid."""


class DataError(ObliviateError):
    """A data file is missing, empty or malformed."""


class ModelError(ObliviateError):
    """A model cannot be found or loaded, or is not a causal language model."""


class TrainingError(ObliviateError):
    """Training cannot go on (for instance the loss became NaN or infinite)."""
