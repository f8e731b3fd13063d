"""The deletion ledger: one entry per unlearning request, carried in the model folder.

``ledger.jsonl`` is the audit trail of a model (MUSE's sequential requests, C6, Shi et al. 2024,
arXiv:2407.06460; and the evidence a data-protection officer asks for). A run whose input model
folder has a ledger copies it into its output and appends one entry:

``request`` (1, 2, ...), ``request_id``, ``time`` (UTC), ``obliviate_version``, ``method``,
``config_sha256``, ``forget`` {path, sha256 of the file (None for a hub set), examples_sha256
(of the examples read from it, as results.json's data hashes), rows}, ``input`` {model, weights_sha256},
``output`` {weights_sha256}, ``metrics`` {key: value} (empty without evaluation),
``prev_entry_sha256`` and ``entry_sha256`` (sha256 of the entry's canonical JSON without it).

Hashes chain twice: each entry's ``prev_entry_sha256`` is the previous ``entry_sha256``, and its
input weights are the previous entry's output weights. A ledger that breaks either chain, or
whose last output hash does not match the folder's weights, is reported, never rewritten.
Appends write a new file and rename it over the old one (atomic).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from obliviate.errors import DataError
from obliviate.models.hashing import weight_files

LEDGER = "ledger.jsonl"
REQUIRED = ("request", "request_id", "time", "method", "config_sha256", "forget", "input",
            "output", "metrics", "prev_entry_sha256", "entry_sha256")


class LedgerError(DataError):
    """A ledger is malformed, or its hash chain is broken."""


def weights_sha256(folder: Path) -> str:
    """Full sha256 over the names and bytes of the weight files directly in ``folder``."""
    digest = hashlib.sha256()
    for path in weight_files(Path(folder)):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "entry_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def _bad(path: Path, line: int, why: str) -> LedgerError:
    return LedgerError(f"ledger {path} is corrupt at line {line}: {why}. It was not changed; "
                       "restore it from a backup, or move it away to start a new ledger")


def _parse(path: Path, line: int, text: str) -> dict[str, Any]:
    try:
        entry = json.loads(text)
    except json.JSONDecodeError as err:
        raise _bad(path, line, f"not JSON ({err})") from None
    if not isinstance(entry, dict):
        raise _bad(path, line, "an entry must be a JSON object")
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise _bad(path, line, f"missing {', '.join(missing)}")
    return entry


def _check_link(path: Path, line: int, entry: dict, prev: dict | None) -> None:
    if entry["entry_sha256"] != entry_hash(entry):
        raise _bad(path, line, "entry_sha256 does not match the entry (edited?)")
    if entry["request"] != (prev["request"] + 1 if prev else 1):
        raise _bad(path, line, f"request number {entry['request']!r} is out of sequence")
    if entry["prev_entry_sha256"] != (prev["entry_sha256"] if prev else None):
        raise _bad(path, line, "prev_entry_sha256 does not chain to the entry before")
    if prev and _sha(entry, "input") != _sha(prev, "output"):
        raise _bad(path, line, "its input weights are not the previous request's output")


def _sha(entry: dict, side: str) -> Any:
    block = entry.get(side)
    return block.get("weights_sha256") if isinstance(block, dict) else None


def read_ledger(folder: str | Path) -> list[dict[str, Any]]:
    """The validated entries of ``folder/ledger.jsonl`` ([] when there is none)."""
    path = Path(folder) / LEDGER
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise LedgerError(f"cannot read ledger {path}: {err}") from None
    entries: list[dict[str, Any]] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            raise _bad(path, number, "blank line")
        entry = _parse(path, number, text)
        _check_link(path, number, entry, entries[-1] if entries else None)
        entries.append(entry)
    return entries


def check_folder_matches(folder: Path, entries: list[dict[str, Any]]) -> None:
    """The folder's weights must be the last request's output."""
    if entries and _sha(entries[-1], "output") != weights_sha256(folder):
        raise LedgerError(f"the weights in {folder} are not the output its ledger records "
                          f"(request {entries[-1]['request']}): the folder was changed after "
                          "its last request. Move ledger.jsonl away to start a new ledger")


def new_entry(previous: list[dict[str, Any]], *, method: str, config_sha256: str,
              forget: dict[str, Any], input_model: str, input_sha256: str, output_sha256: str,
              metrics: dict[str, Any]) -> dict[str, Any]:
    """The next entry after ``previous``, with its hashes filled in."""
    from obliviate import __version__

    entry = {"request": len(previous) + 1, "request_id": uuid.uuid4().hex,
             "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "obliviate_version": __version__, "method": method,
             "config_sha256": config_sha256, "forget": forget,
             "input": {"model": input_model, "weights_sha256": input_sha256},
             "output": {"weights_sha256": output_sha256}, "metrics": metrics,
             "prev_entry_sha256": previous[-1]["entry_sha256"] if previous else None}
    entry["entry_sha256"] = entry_hash(entry)
    return entry


def write_ledger(folder: Path, entries: list[dict[str, Any]]) -> Path:
    """Write ``entries`` as ``folder/ledger.jsonl`` through a temporary file and a rename."""
    path = Path(folder) / LEDGER
    tmp = path.with_name(f".{LEDGER}.tmp-{os.getpid()}")
    tmp.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in entries),
                   encoding="utf-8")
    os.replace(tmp, path)
    return path


def headline(results: dict[str, Any] | None) -> dict[str, Any]:
    """Each metric's value from a results document ({} without one)."""
    metrics = (results or {}).get("metrics") or {}
    return {k: v.get("value") for k, v in sorted(metrics.items()) if isinstance(v, dict)}


def ledger_table(entries: list[dict[str, Any]]) -> str:
    """Plain aligned text, one row per request."""
    rows = [("#", "time", "method", "forget rows", "forget sha256", "input", "output",
             "metrics")]
    for e in entries:
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, (int, float)) else f"{k}={v}"
                          for k, v in list(e["metrics"].items())[:3])
        rows.append((str(e["request"]), e["time"], e["method"],
                     str(e["forget"].get("rows", "-")), str(e["forget"].get("sha256", ""))[:12],
                     str(_sha(e, "input"))[:12], str(_sha(e, "output"))[:12], shown or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
