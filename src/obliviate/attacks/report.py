"""The attack results document (``attack_results.json``) and its printed table.

Keys (schema_version "1", kind "obliviate.attack_results"): schema_version, kind,
obliviate_version, git_commit, environment, model {id, weights_hash}, original {id,
weights_hash, results}, data {name: {sha256, n}}, evaluation {suite, max_length, batch_size,
max_new_tokens}, settings (every attack setting), baseline {original: {key: value},
unlearned: {key: value}}, timings, and attacks {name: {summary, status ("ok" | "skipped"),
reason, time_s, primary, variants {variant: {family, settings, notes, metrics {key: {original,
unlearned, attacked, recovery, note}}, details}}, headline {key: {variant, original, unlearned,
attacked, recovery}}, families {family: {key: {variant, recovery}}}}}.

``headline`` is the primary variant's numbers (relearning: the held-out rows) or, for the
other attacks, per metric the variant with the highest recovery. Non-finite numbers are null.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from obliviate.attacks.base import AttackSettings, AttackView, recovery
from obliviate.data.types import Example
from obliviate.evaluation.results import dataset_hash, environment, git_commit, write_results

ATTACK_SCHEMA_VERSION = "1"
KIND = "obliviate.attack_results"


def metric_row(original: Any, unlearned: Any, attacked: Any, notes: list[str]) -> dict[str, Any]:
    value, why = recovery(original, unlearned, attacked)
    row = {"original": original, "unlearned": unlearned, "attacked": attacked, "recovery": value}
    reasons = list(dict.fromkeys(notes + ([why] if why else [])))
    if reasons:
        row["note"] = "; ".join(reasons)
    return row


def _best(variants: dict[str, dict[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
    """Per metric, the variant among ``names`` with the highest (non-null) recovery."""
    best: dict[str, dict[str, Any]] = {}
    for name in names:
        for key, row in variants[name]["metrics"].items():
            held = best.get(key)
            better = row["recovery"] is not None and (
                held is None or held["recovery"] is None or row["recovery"] > held["recovery"])
            if held is None or better:
                best[key] = {"variant": name, **row}
    return best


def attack_entry(spec: Any, variants: list[tuple[AttackView, dict[str, tuple]]], time_s: float,
                 skipped: str | None = None) -> dict[str, Any]:
    """One attack's section of the document."""
    entry: dict[str, Any] = {"summary": spec.summary, "status": "skipped" if skipped else "ok",
                             "reason": skipped, "time_s": round(time_s, 3),
                             "primary": spec.primary, "variants": {}, "headline": {},
                             "families": {}}
    for view, compared in variants:
        entry["variants"][view.variant] = {
            "family": view.family, "settings": view.settings, "notes": view.notes,
            "metrics": {k: metric_row(*v) for k, v in compared.items()},
            "details": view.details or None}
    names = list(entry["variants"])
    if spec.primary in entry["variants"]:
        entry["headline"] = {k: {"variant": spec.primary, **row} for k, row in
                             entry["variants"][spec.primary]["metrics"].items()}
    elif names:
        entry["headline"] = _best(entry["variants"], names)
    families: dict[str, list[str]] = {}
    for name in names:
        if entry["variants"][name]["family"]:
            families.setdefault(entry["variants"][name]["family"], []).append(name)
    entry["families"] = {fam: {k: {"variant": r["variant"], "recovery": r["recovery"]}
                               for k, r in _best(entry["variants"], members).items()}
                         for fam, members in families.items()}
    return entry


def build_document(attacks: dict[str, Any], original: dict[str, dict], unlearned: dict[str, dict],
                   datasets: dict[str, list[Example]], settings: AttackSettings,
                   evaluation: dict[str, Any], timings: dict[str, float],
                   info: dict[str, Any]) -> dict[str, Any]:
    """Assemble attack_results.json (see the module docstring); ``info`` carries model ids."""
    from obliviate import __version__
    return {
        "schema_version": ATTACK_SCHEMA_VERSION, "kind": KIND, "obliviate_version": __version__,
        "git_commit": git_commit(), "environment": environment(info.get("device")),
        "model": info.get("model", {}), "original": info.get("original", {}),
        "data": {name: {"sha256": dataset_hash(ex), "n": len(ex)} for name, ex in datasets.items()},
        "evaluation": evaluation, "settings": settings.public(),
        "baseline": {"original": {k: e.get("value") for k, e in original.items()},
                     "unlearned": {k: e.get("value") for k, e in unlearned.items()}},
        "timings": {k: round(v, 3) for k, v in timings.items()}, "attacks": attacks,
    }


def write_attack_results(path: str | Path, doc: dict[str, Any]) -> Path:
    """Write the document atomically (non-finite numbers become null)."""
    return write_results(path, doc)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value + 0.0:.3g}"  # + 0.0 turns -0.0 into 0.0


def _short(key: str) -> str:
    return key[len("forget/"):] if key.startswith("forget/") else key


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def attack_table(doc: dict[str, Any]) -> str:
    """The baselines, then the recovery of every forget metric per attack variant
    (``-`` = undefined or not computed; see attack_results.json for the notes)."""
    base = doc["baseline"]
    rows = [["metric", "original", "unlearned"]] + [
        [k, _fmt(base["original"].get(k)), _fmt(v)] for k, v in sorted(base["unlearned"].items())]
    keys: list[str] = []
    for entry in doc["attacks"].values():
        for variant in entry["variants"].values():
            keys += [k for k in variant["metrics"] if k.startswith("forget/") and k not in keys]
    table = [["attack", "variant", "time s"] + [_short(k) for k in keys]]
    skipped = []
    for name, entry in doc["attacks"].items():
        if entry["status"] != "ok":
            skipped.append(f"  {name}: skipped ({entry['reason']})")
        for i, (variant, body) in enumerate(entry["variants"].items()):
            mark = " *" if variant == entry["primary"] else ""
            table.append([name if i == 0 else "", variant + mark,
                          _fmt(entry["time_s"]) if i == 0 else ""] + [
                _fmt(body["metrics"].get(k, {}).get("recovery")) for k in keys])
    out = ["Baseline scores", *_grid(rows), "",
           "Recovery = (attacked - unlearned) / (original - unlearned); 0 = nothing came back, "
           "1 = all of it. * = headline variant"]
    out += _grid(table) if len(table) > 1 else ["(no attack produced results)"]
    return "\n".join(out + skipped)
