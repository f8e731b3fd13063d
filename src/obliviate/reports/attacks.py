"""Attack results as table rows. ``attack_results.json`` may nest attacks, variants and metric
keys in any way: every object holding ``original``, ``unlearned`` and ``attacked`` numbers is
one row, named by the keys on the path to it (``metrics``/``results`` levels are skipped; the
last key is the metric, the rest the attack and variant)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from obliviate.reports.loading import number

FIELDS = ("original", "unlearned", "attacked")
SKIP = {"metrics", "results", "attacks", "views", "variants", "scores"}


@dataclass
class AttackRow:
    attack: str
    metric: str
    original: float | None
    unlearned: float | None
    attacked: float | None
    recovery: float | None
    note: str = ""


def _label(path: list[str]) -> tuple[str, str]:
    names = [p for p in path if p not in SKIP]
    if not names:
        return "attack", "-"
    if len(names) == 1:
        return names[0], "-"
    return " / ".join(names[:-1]), names[-1]


def _row(path: list[str], node: dict[str, Any]) -> AttackRow:
    attack, metric = _label(path)
    metric = str(node.get("metric") or node.get("key") or metric)
    note = node.get("note") or node.get("recovery_note") or node.get("why") or ""
    return AttackRow(attack, metric, *(number(node.get(f)) for f in FIELDS),
                     number(node.get("recovery")), str(note))


def _name(node: Any, fallback: str) -> str:
    if isinstance(node, dict):
        for key in ("variant", "name", "attack"):
            if isinstance(node.get(key), str):
                return node[key]
    return fallback


def attack_rows(document: Any) -> list[AttackRow]:
    """Every row of an attack results document (depth-first, in document order)."""
    rows: list[AttackRow] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            if all(f in node for f in FIELDS):
                rows.append(_row(path, node))
                return
            for key, value in node.items():
                if key not in ("settings", "config", "environment"):
                    walk(value, path + [str(key)])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + [_name(value, str(i))])

    walk(document, [])
    return rows
