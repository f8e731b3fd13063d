"""Per-method demo settings (steps, learning rate, batch size, hyper-parameters), chosen by
experiment on the embedded SmolLM2-135M-Instruct and the shipped Harry Potter sets.

Methods without an entry use :data:`GENERIC`. The table in the README lists what each tuned
entry reached.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MethodSettings:
    steps: int
    lr: float
    batch_size: int = 8
    args: dict[str, Any] = field(default_factory=dict)


GENERIC = MethodSettings(steps=30, lr=1e-5)

TUNED: dict[str, MethodSettings] = {
    "npo": MethodSettings(steps=30, lr=2e-5),
    "graddiff": MethodSettings(steps=30, lr=1e-5),
    "whp": MethodSettings(steps=30, lr=1e-5, args={"anchor_terms_path": "builtin:hp_anchors"}),
}


def method_settings(method: str) -> MethodSettings:
    return TUNED.get(method, GENERIC)
