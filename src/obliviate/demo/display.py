"""The demo's terminal summary: before/after table, three examples, the acceptance checks."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

SETS = (("forget", "Harry Potter questions"), ("probes", "the same, paraphrased"),
        ("retain", "other fantasy + general"), ("holdout", "unseen general questions"))


def _v(metrics: dict, key: str) -> float | None:
    return (metrics.get(key) or {}).get("value")


def _pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:5.0%}"


def _change(x0: float | None, x1: float | None) -> str:
    if x0 is None or x1 is None or x0 == 0:
        return "   n/a"
    return f"{(x1 - x0) / x0:+6.0%}"


def table(results: dict[str, Any]) -> str:
    b, a = results["before"]["metrics"], results["metrics"]
    lines = [f"{'set':8} {'':24} {'keyword accuracy':>24}   {'answer probability':>24}",
             f"{'':8} {'':24} {'before':>7} {'after':>7} {'change':>8}   "
             f"{'before':>7} {'after':>7} {'change':>8}"]
    for name, what in SETS:
        k0, k1 = _v(b, f"{name}/keyword_accuracy"), _v(a, f"{name}/keyword_accuracy")
        p0, p1 = _v(b, f"{name}/answer_prob"), _v(a, f"{name}/answer_prob")
        lines.append(f"{name:8} {what:24} {_pct(k0):>7} {_pct(k1):>7} {_change(k0, k1):>8}   "
                     f"{_pct(p0):>7} {_pct(p1):>7} {_change(p0, p1):>8}")
    return "\n".join(lines)


def _first_sample(results: dict, key: str) -> dict | None:
    return next((s for s in results.get("samples", []) if s.get("key") == key), None)


def examples(results: dict[str, Any]) -> str:
    out = []
    for name, _ in SETS:
        key = f"{name}/keyword_accuracy"
        before, after = _first_sample(results["before"], key), _first_sample(results, key)
        if not before or not after:
            continue
        out.append(f"  [{name}] {before['prompt']}")
        for label, sample in (("before", before), ("after", after)):
            text = " ".join(sample["generation"].split()) or "(empty answer)"
            out.append(textwrap.fill(text, 96, initial_indent=f"    {label:7}",
                                     subsequent_indent=" " * 11))
    return "\n".join(out)


def checks(demo: dict[str, Any]) -> str:
    lines = []
    for name, check in demo["criteria"].items():
        mark = "pass" if check["passed"] else "FAIL"
        shown = ", ".join(f"{k} {v:.3g}" for k, v in check.items()
                          if k != "passed" and isinstance(v, (int, float)))
        lines.append(f"  [{mark}] {name}  ({shown})")
    return "\n".join(lines)


def show(results: dict[str, Any], out: Path) -> str:
    demo = results["demo"]
    s, cfg = demo["settings"], results["config"]
    flu = results["metrics"].get("retain/fluency", {})
    head = (f"{s['model']} unlearned Harry Potter with {s['method']} "
            f"({cfg['train']['max_steps']} steps, lr {cfg['train']['lr']:g}): training "
            f"{demo['train_time_s']:.0f} s, whole demo {demo['total_time_s']:.0f} s")
    fluency = (f"retain answers: {flu.get('value', 0):.0%} distinct tokens, perplexity "
               f"{flu.get('extra', {}).get('perplexity', float('nan')):.1f} under the original "
               "model")
    report = out / "report.html"
    saved = [f"{out}/ (model, steps.jsonl, run.json)", str(out / "results.json")]
    if report.is_file():
        saved.append(str(report))
    return "\n\n".join([head, table(results), fluency, "Examples\n" + examples(results),
                        "Checks\n" + checks(demo), "Saved: " + ", ".join(saved)])
