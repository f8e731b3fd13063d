"""The tables of a run report, as plain data that the HTML and Markdown writers both render:
the summary card, metrics before/after with intervals and verdicts, samples, attacks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from obliviate.reports.attacks import AttackRow
from obliviate.reports.direction import VERDICT_TEXT, compare, unit
from obliviate.reports.loading import RunData, number

GOAL_TEXT = {"higher": "higher", "lower": "lower", "target": "closer to target", "none": "-"}


@dataclass
class Cell:
    text: str
    tag: str = ""  # better | worse | unclear | best | "" (styling hint only)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)  # columns aligned right
    layout: str = ""  # "nowrap": short cells on one line (wide tables scroll); "text": long
    #                     free text, fixed column widths, wrapped anywhere


def fmt(value: Any, digits: int = 4) -> str:
    v = number(value)
    if v is None:
        return "n/a"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.{max(1, digits - 2)}e}"
    return f"{v:.{digits}g}"


def with_ci(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "-"
    value, low, high = (number(entry.get(k)) for k in ("value", "ci_low", "ci_high"))
    if value is None:
        return "n/a"
    if low is None or high is None or low == high:
        return fmt(value)
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def _signed(value: float | None) -> str:
    return "-" if value is None else ("+" if value > 0 else "") + fmt(value)


def summary_card(run: RunData) -> list[tuple[str, str]]:
    """(label, value) pairs: method, model, data, time, memory and provenance."""
    r, info = run.results, run.run_info
    timings = r.get("timings") or {}
    wall = number(info.get("wall_time_s")) or number(timings.get("train_s"))
    before_timings = (r.get("before") or {}).get("timings") or {}
    eval_s = sum(v for v in (number(x) for x in [*timings.values(), *before_timings.values()])
                 if v is not None)
    memory = number(info.get("peak_memory_mb")) or number(r.get("peak_memory_mb"))
    trainable, total = number(info.get("trainable_parameters")), number(info.get("total_parameters"))
    card = [("method", run.method), ("model", run.model_id),
            ("data", ", ".join(sorted(r.get("data") or {})) or "-"),
            ("steps", str(info.get("steps", len(run.steps) or "-"))),
            ("training time", f"{wall:.1f} s" if wall is not None else "-"),
            ("evaluation time", f"{eval_s:.1f} s" if timings else "-"),
            ("peak memory", f"{memory:,.0f} MB" if memory is not None else "-")]
    if trainable is not None and total:
        share = 100 * trainable / total
        card.append(("trainable parameters", f"{trainable:,.0f} of {total:,.0f} "
                     f"({share:.0f}%)" if share >= 10 else f"{trainable:,.0f} of "
                     f"{total:,.0f} ({share:.2g}%)"))
    env = r.get("environment") or {}
    card += [("device", str(env.get("device") or "-")),
             ("obliviate", f"{r.get('obliviate_version', '-')} (commit "
                           f"{str(r.get('git_commit') or '-')[:10]})"),
             ("run directory", str(run.path))]
    return card


def metrics_table(run: RunData, retain_metrics: dict[str, Any] | None) -> Table:
    """Every metric before and after, the change, and whether it went the right way."""
    has_before = bool(run.before)
    headers = ["metric", "unit", "goal"] + (["before [95% CI]"] if has_before else [])
    headers += ["after [95% CI]" if has_before else "value [95% CI]"]
    headers += ["change", "verdict"] if has_before else []
    headers += ["target"]
    table = Table(headers, numeric={3, 4, 5} if has_before else {3})
    for key in sorted(set(run.after) | set(run.before)):
        change = compare(key, run.before.get(key), run.after.get(key) or {}, retain_metrics)
        row = [Cell(key), Cell(unit(key)), Cell(GOAL_TEXT[change.goal])]
        if has_before:
            row.append(Cell(with_ci(run.before.get(key))))
        row.append(Cell(with_ci(run.after.get(key))))
        if has_before:
            row += [Cell(_signed(change.delta)),
                    Cell(VERDICT_TEXT[change.verdict] or "-", change.verdict)]
        target = ("-" if change.target is None
                  else f"{fmt(change.target)} ({change.target_source})")
        row.append(Cell(target))
        table.rows.append(row)
    return table


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clip(text: Any, limit: int = 300) -> str:
    """A sample's text, control characters shown as U+FFFD, cut to ``limit`` characters."""
    text = CONTROL.sub("\ufffd", str(text))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _sample_id(sample: dict[str, Any]) -> tuple[str, str]:
    return str(sample.get("key", "")), str(sample.get("prompt", ""))


def samples_table(run: RunData, limit: int = 12) -> Table:
    """Sample answers, paired by (metric key, prompt): before and after when both exist."""
    before = {_sample_id(s): s for s in run.samples_before}
    has_before = bool(before)
    headers = ["set", "prompt", "reference"] + (["before", "after"] if has_before else ["answer"])
    table = Table(headers, layout="text")
    seen: set[str] = set()
    for sample in run.samples_after:
        ident = _sample_id(sample)
        if ident[1] in seen or len(table.rows) >= limit:
            continue
        seen.add(ident[1])
        row = [Cell(ident[0].rsplit("/", 1)[0] or "-"), Cell(clip(ident[1])),
               Cell(clip(sample.get("reference", "")))]
        if has_before:
            row.append(Cell(clip((before.get(ident) or {}).get("generation", "-"))))
        row.append(Cell(clip(sample.get("generation", ""))))
        table.rows.append(row)
    return table


def attacks_table(rows: list[AttackRow]) -> Table:
    table = Table(["attack", "metric", "original", "unlearned", "attacked", "recovery", "note"],
                  numeric={2, 3, 4, 5})
    for r in rows:
        tag = "" if r.recovery is None else ("worse" if r.recovery >= 0.5 else
                                             "unclear" if r.recovery >= 0.1 else "better")
        table.rows.append([Cell(r.attack), Cell(r.metric), Cell(fmt(r.original)),
                           Cell(fmt(r.unlearned)), Cell(fmt(r.attacked)),
                           Cell(fmt(r.recovery), tag), Cell(r.note)])
    return table
