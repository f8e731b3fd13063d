"""Unlearning methods: one file per method, each a registered dataclass.

Importing this package imports every method module, so :data:`METHODS` is complete. Use
:func:`build_method` to turn a name and a dict of hyper-parameters into a method, and
:func:`describe_methods` to list them.
"""
from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from obliviate.errors import ConfigError
from obliviate.methods import (altpo, ce_u, dpo_idk, ga, ga_kl, graddiff, idk,  # noqa: F401
                               influence, llmu, npo, pdu, rmu, rmu_lat, satimp, simnpo, sft,
                               task_vector, undial, wga, whp)
from obliviate.methods.base import (METHODS, LossOutput, Needs, StepInputs, UnlearningMethod,
                                    register_method)

__all__ = ["METHODS", "LossOutput", "Needs", "StepInputs", "UnlearningMethod", "build_method",
           "describe_methods", "hyperparameters", "register_method"]


def hyperparameters(cls: type) -> dict[str, Any]:
    """The user-settable fields of a method class and their defaults."""
    return {f.name: f.default for f in dataclasses.fields(cls) if f.init}


def _with_hint(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    return f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key)


def build_method(name: str, args: dict[str, Any] | None = None) -> UnlearningMethod:
    """Instantiate method ``name`` with hyper-parameters ``args`` (the rest keep defaults).

    Raises ConfigError for an unknown method, an unknown hyper-parameter (naming the valid
    ones) or an invalid value (from the method's ``__post_init__``).
    """
    cls = METHODS.get(name)
    args = dict(args or {})
    valid = hyperparameters(cls)
    unknown = sorted(set(args) - set(valid))
    if unknown:
        listed = ", ".join(_with_hint(k, list(valid)) for k in unknown)
        known = ", ".join(valid) if valid else "none"
        raise ConfigError(f"method {name!r} has no hyper-parameter {listed}. Valid: {known}.")
    try:
        return cls(**args)
    except TypeError as exc:  # e.g. a value of an unusable type reaching a comparison
        raise ConfigError(f"method {name!r}: invalid hyper-parameter value ({exc}).") from exc


def describe_methods() -> list[dict[str, Any]]:
    """One dict per method for ``obliviate list methods``: name, family, summary, paper, needs
    (the Needs flags as a dict) and hyperparameters (defaults)."""
    return [
        {"name": n, "family": cls.family, "summary": cls.summary, "paper": cls.paper,
         "needs": dataclasses.asdict(cls.needs), "hyperparameters": hyperparameters(cls)}
        for n, cls in METHODS
    ]
