"""Attack results as table rows.

An ``attack_results.json`` of kind "obliviate.attack_results" (:mod:`obliviate.attacks.report`)
gives one row per attack and metric from ``attacks.<name>.headline`` (the primary variant, or
the variant with the highest recovery), and one row per skipped attack with its ``reason``.
Any other document may nest attacks, variants and metric keys in any way: every object holding
``original``, ``unlearned`` and ``attacked`` numbers is one row, named by the keys on the path
to it (``metrics``/``variants`` levels are skipped; the last key is the metric)."""
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


def headline_rows(document: dict[str, Any]) -> list[AttackRow]:
    """The headline rows of an obliviate attack results document."""
    rows = []
    for name, entry in (document.get("attacks") or {}).items():
        if not isinstance(entry, dict):
            continue
        if entry.get("status") == "skipped":
            rows.append(AttackRow(name, "-", None, None, None, None,
                                  f"skipped: {entry.get('reason') or 'no reason given'}"))
            continue
        for key, row in (entry.get("headline") or {}).items():
            if isinstance(row, dict):
                label = f"{name} ({row['variant']})" if row.get("variant") else name
                rows.append(_row([label, key], row))
    return rows


def attack_rows(document: Any) -> list[AttackRow]:
    """The rows of an attack results document (see the module docstring)."""
    if isinstance(document, dict) and document.get("kind") == "obliviate.attack_results":
        return headline_rows(document)
    rows: list[AttackRow] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            if all(f in node for f in FIELDS):
                rows.append(_row(path, node))
                return
            for key, value in node.items():
                if key not in ("settings", "config", "environment", "baseline", "families"):
                    walk(value, path + [str(key)])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + [_name(value, str(i))])

    walk(document, [])
    return rows
