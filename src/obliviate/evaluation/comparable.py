"""When two results may be compared: same prompt format and same data (by content hash).

Reference-based metrics (forget quality, PrivLeak) read a retain model's results.json; its
numbers mean something next to ours only when both evaluations saw the same prompts on the same
data sets. results.json records ``prompt`` (the prompt format) and ``eval_data`` (the SHA-256 of
each evaluated data set's examples, see :func:`obliviate.evaluation.results.dataset_hash`)."""
from __future__ import annotations

from typing import Any

from obliviate.errors import ConfigError


def _show(prompt: Any) -> str:
    if not isinstance(prompt, dict):
        return "none recorded"
    system = prompt.get("system")
    return f"format={prompt.get('format')!r}" + (f", system={system!r}" if system else "")


def check_comparable(reference: dict[str, Any], prompt: dict[str, Any],
                     hashes: dict[str, str]) -> None:
    """Raise ConfigError when ``reference`` was made with another prompt format than
    ``prompt`` or on data sets whose hashes differ from ``hashes`` (name -> sha256)."""
    theirs = reference.get("prompt")
    if theirs != prompt:
        raise ConfigError(
            f"the reference (retain) results were made with prompt {_show(theirs)}, this "
            f"evaluation uses {_show(prompt)}; numbers are comparable only with the same prompt. "
            f"Re-evaluate the retain model with the same --prompt-format / --prompt-system.")
    recorded = reference.get("eval_data") or {}
    for name, digest in hashes.items():
        if recorded.get(name) != digest:
            seen = (recorded.get(name) or "no hash recorded")[:12]
            raise ConfigError(
                f"the reference (retain) results' data set {name!r} differs from this one "
                f"(sha256 {seen} vs {digest[:12]}); evaluate the retain model on the same data "
                f"(same source, split and --limit).")
