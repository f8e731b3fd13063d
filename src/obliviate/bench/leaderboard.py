"""The bench leaderboard: one row per (split, model) with the suite's headline numbers and
their bootstrap 95% intervals, written as CSV and Markdown."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from obliviate.row_tables import columns, to_csv, with_range
from obliviate.row_tables import to_markdown as rows_markdown

#: Headline metric keys per suite, in column order (a suite not listed shows every metric).
HEADLINES: dict[str, list[str]] = {
    "tofu": ["forget_quality", "model_utility", "forget_perturbed/truth_ratio",
             "forget/answer_prob", "forget/rouge_l_recall", "forget/privleak",
             "forget/extraction_strength", "retain/answer_prob", "retain/rouge_l_recall"],
    "muse": ["verbmem_forget", "knowmem_forget", "knowmem_retain", "privleak"],
}
SHORT = {"forget_perturbed/truth_ratio": "forget_truth_ratio",
         "forget/answer_prob": "forget_prob", "forget/rouge_l_recall": "forget_rouge",
         "forget/privleak": "privleak", "forget/extraction_strength": "extraction_strength",
         "retain/answer_prob": "retain_prob", "retain/rouge_l_recall": "retain_rouge"}
ID_COLUMNS = ["benchmark", "split", "method", "kind"]


def headline_keys(suite: str, results: list[dict[str, Any]]) -> list[str]:
    if suite in HEADLINES:
        return HEADLINES[suite]
    keys: list[str] = []
    for r in results:
        keys += [k for k in r.get("metrics", {}) if k not in keys]
    return keys


def make_row(benchmark: str, split: str, method: str, kind: str, results: dict[str, Any],
             keys: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A leaderboard row: ids, then value / ci_low / ci_high per headline metric."""
    row: dict[str, Any] = {"benchmark": benchmark, "split": split, "method": method,
                           "kind": kind}
    metrics = results.get("metrics", {})
    for key in keys:
        entry = metrics.get(key) or {}
        name = SHORT.get(key, key)
        row[name] = entry.get("value")
        row[f"{name}_ci_low"] = entry.get("ci_low")
        row[f"{name}_ci_high"] = entry.get("ci_high")
    row.update(extra or {})
    return row


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:.3f}"
    return str(value)


def to_markdown(rows: list[dict[str, Any]]) -> str:
    """Markdown table; each metric shown as ``value [ci_low, ci_high]``."""
    cols = [c for c in columns(rows) if not c.endswith(("_ci_low", "_ci_high"))]
    return rows_markdown(rows, cols, with_range("_ci_low", "_ci_high", _num))


def write_leaderboard(rows: list[dict[str, Any]], out_dir: Path) -> tuple[Path, Path]:
    """Write ``leaderboard.csv`` and ``leaderboard.md`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / "leaderboard.csv", out_dir / "leaderboard.md"
    csv_path.write_text(to_csv(rows), encoding="utf-8")
    md_path.write_text(to_markdown(rows), encoding="utf-8")
    return csv_path, md_path
