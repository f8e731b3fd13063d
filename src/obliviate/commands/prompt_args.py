"""``--prompt-format`` / ``--prompt-system``, shared by eval, run, attack and bench."""
from __future__ import annotations

import argparse
from typing import Any


def add_prompt_args(parser: argparse.ArgumentParser) -> None:
    """Add the two prompt-format options to ``parser``."""
    parser.add_argument("--prompt-format", help="chat (the tokenizer's template, default), "
                        "plain ('Question: {question}\\nAnswer: ') or a template with "
                        "{question}, e.g. '[INST] {question} [/INST]'")
    parser.add_argument("--prompt-system", help="system message for the chat template, e.g. "
                        "'You are a helpful assistant.' (open-unlearning's)")


def prompt_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~obliviate.data.prompting.PromptFormat` the options ask for, or None when
    neither is given."""
    from obliviate.data.prompting import PromptFormat

    fmt, system = getattr(args, "prompt_format", None), getattr(args, "prompt_system", None)
    if fmt is None and system is None:
        return None
    return PromptFormat(fmt or "chat", system)


def prompt_overrides(args: argparse.Namespace) -> list[str]:
    """The options as run-config overrides (``prompt.format=...``, ``prompt.system=...``)."""
    import json

    out = []
    if getattr(args, "prompt_format", None) is not None:
        out.append(f"prompt.format={json.dumps(args.prompt_format)}")
    if getattr(args, "prompt_system", None) is not None:
        out.append(f"prompt.system={json.dumps(args.prompt_system)}")
    return out
