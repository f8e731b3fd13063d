"""The search space of ``obliviate sweep``: a YAML mapping of config keys (dotted, as in
``key=value`` overrides) to distributions::

    train.lr: loguniform(1e-6, 1e-4)     # log-uniform float
    method_args.beta: [0.05, 0.1, 0.2]   # one of these values
    train.max_steps: int(20, 200)        # whole number, both ends included
    train.warmup_steps: uniform(0, 10)   # uniform float (int(...) for whole numbers)

Parsed with a regular expression, never evaluated.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obliviate.config import read_yaml
from obliviate.errors import ConfigError

_DIST = re.compile(r"^\s*(loguniform|uniform|int|logint)\s*\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)\s*$")


@dataclass(frozen=True)
class Dimension:
    """One searched key: ``kind`` is loguniform, uniform, int, logint or choice."""

    key: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple = ()

    def describe(self) -> str:
        if self.kind == "choice":
            return f"{list(self.choices)}"
        return f"{self.kind}({self.low:g}, {self.high:g})"


def load_space(path: str | Path) -> list[Dimension]:
    """Read and check a space YAML file."""
    return parse_space(read_yaml(path), str(path))


def parse_space(raw: dict[str, Any], where: str = "the space") -> list[Dimension]:
    if not raw:
        raise ConfigError(f"{where} is empty; give at least one key, e.g. "
                          "train.lr: loguniform(1e-6, 1e-4)")
    return [_dimension(str(key), value, where) for key, value in raw.items()]


def _dimension(key: str, value: Any, where: str) -> Dimension:
    if isinstance(value, list):
        if not value:
            raise ConfigError(f"{where}: {key} lists no values")
        return Dimension(key, "choice", choices=tuple(value))
    match = _DIST.match(str(value))
    if match is None:
        raise ConfigError(f"{where}: {key}: {value!r} is not a distribution; write "
                          "loguniform(a, b), uniform(a, b), int(a, b), logint(a, b) or a list "
                          "of values")
    kind, low, high = match.group(1), _number(match.group(2), key, where), \
        _number(match.group(3), key, where)
    if not low < high:
        raise ConfigError(f"{where}: {key}: the low end {low:g} must be below the high end "
                          f"{high:g}")
    if kind.startswith("log") and low <= 0:
        raise ConfigError(f"{where}: {key}: {kind} needs a positive low end, got {low:g}")
    if kind in ("int", "logint") and (low != int(low) or high != int(high)):
        raise ConfigError(f"{where}: {key}: {kind} takes whole numbers, got {low:g}, {high:g}")
    return Dimension(key, kind, low, high)


def _number(text: str, key: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{where}: {key}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{where}: {key}: {text!r} is not a finite number")
    return value


def suggest(trial: Any, space: list[Dimension]) -> dict[str, Any]:
    """Draw one value per dimension from an Optuna trial."""
    values: dict[str, Any] = {}
    for d in space:
        if d.kind == "choice":
            values[d.key] = trial.suggest_categorical(d.key, list(d.choices))
        elif d.kind in ("int", "logint"):
            values[d.key] = trial.suggest_int(d.key, int(d.low), int(d.high),
                                              log=d.kind == "logint")
        else:
            values[d.key] = trial.suggest_float(d.key, d.low, d.high, log=d.kind == "loguniform")
    return values


def apply(raw: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of the nested config dict ``raw`` with dotted ``values`` set."""
    import copy

    out = copy.deepcopy(raw)
    for key, value in values.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[leaf] = value
    return out
