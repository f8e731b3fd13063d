"""The prompt format: one setting that training, evaluation, attacks and benchmarks all read.

``format`` is ``"chat"`` (the tokenizer's chat template, with an optional ``system`` message;
a tokenizer without a template falls back to plain), ``"plain"`` (``"Question: {question}\\n
Answer: "``) or a custom template string holding ``{question}``, e.g. TOFU's Llama-2 prompt
``"[INST] {question} [/INST]"``. Published numbers depend on the exact prompt, so the format is
recorded in run_config.yaml and results.json, and reference-based metrics refuse results made
with another one. open-unlearning's prompt for instruct models is
``PromptFormat("chat", system="You are a helpful assistant.")``.

The format travels with the tokenizer (:func:`set_prompt_format` after loading a model), so
every tokenisation of that model's data follows it without threading it through every call;
tokenizers without one follow the process default (:func:`set_default_prompt_format`, which
the CLI sets from ``--prompt-format`` / ``--prompt-system``), else ``chat``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from obliviate.errors import ConfigError

PLAIN_PROMPT = "Question: {question}\nAnswer: "
NAMED = ("chat", "plain")
_ATTRIBUTE = "obliviate_prompt_format"
_DEFAULT: list["PromptFormat"] = []


@dataclass(frozen=True)
class PromptFormat:
    """``format``: "chat", "plain" or a template with ``{question}``; ``system``: a system
    message for the chat template (None = the template's own default)."""

    format: str = "chat"
    system: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.format, str) or not self.format:
            raise ConfigError(f"prompt.format must be 'chat', 'plain' or a template string "
                              f"with {{question}}, got {self.format!r}.")
        if self.format not in NAMED and "{question}" not in self.format:
            raise ConfigError(f"prompt.format {self.format!r} is neither 'chat' nor 'plain' "
                              f"and has no {{question}} placeholder; write a template such as "
                              f"'[INST] {{question}} [/INST]'.")
        if self.system is not None and (not isinstance(self.system, str) or not self.system):
            raise ConfigError(f"prompt.system must be a non-empty string or null, got "
                              f"{self.system!r}.")
        if self.system is not None and self.format != "chat":
            raise ConfigError("prompt.system only applies to prompt.format=chat; put the "
                              "system text into your template instead.")

    def as_dict(self) -> dict[str, Any]:
        """The JSON form recorded in results.json."""
        return asdict(self)

    def uses_template(self, tokenizer: Any) -> bool:
        """True when prompts go through the tokenizer's chat template."""
        return self.format == "chat" and bool(getattr(tokenizer, "chat_template", None))

    def messages(self, question: str, answer: str | None = None) -> list[dict[str, str]]:
        """The chat messages of one QA pair (system first when set)."""
        chat = [{"role": "system", "content": self.system}] if self.system else []
        chat.append({"role": "user", "content": question})
        if answer is not None:
            chat.append({"role": "assistant", "content": answer})
        return chat

    def render(self, tokenizer: Any, question: str) -> str:
        """The prompt text for ``question`` (chat: through the template, generation prompt
        added; plain and custom: the template filled in)."""
        if self.uses_template(tokenizer):
            return tokenizer.apply_chat_template(self.messages(question), tokenize=False,
                                                 add_generation_prompt=True)
        template = PLAIN_PROMPT if self.format in NAMED else self.format
        return template.replace("{question}", question)


def prompt_format(value: "PromptFormat | dict[str, Any] | str | None") -> PromptFormat:
    """A :class:`PromptFormat` from itself, a dict of its fields, a format string or None."""
    if value is None:
        return PromptFormat()
    if isinstance(value, PromptFormat):
        return value
    if isinstance(value, str):
        return PromptFormat(value)
    if isinstance(value, dict):
        unknown = set(value) - {"format", "system"}
        if unknown:
            raise ConfigError(f"unknown prompt key(s) {sorted(unknown)}; valid: format, system.")
        return PromptFormat(**value)
    raise ConfigError(f"prompt must be a mapping with format/system, got {value!r}.")


def set_prompt_format(tokenizer: Any, fmt: "PromptFormat | dict[str, Any] | str | None") -> PromptFormat:
    """Attach ``fmt`` to ``tokenizer``: every later tokenisation with it follows the format."""
    fmt = prompt_format(fmt)
    setattr(tokenizer, _ATTRIBUTE, fmt)
    return fmt


def set_default_prompt_format(fmt: "PromptFormat | dict[str, Any] | str | None") -> PromptFormat:
    """Make ``fmt`` the format of every tokenizer that has none attached (None: back to chat)."""
    _DEFAULT.clear()
    if fmt is not None:
        _DEFAULT.append(prompt_format(fmt))
    return _DEFAULT[0] if _DEFAULT else PromptFormat()


def prompt_format_of(tokenizer: Any) -> PromptFormat:
    """The format attached to ``tokenizer``, else the process default, else chat (with the
    template's own system message)."""
    fmt = getattr(tokenizer, _ATTRIBUTE, None)
    if isinstance(fmt, PromptFormat):
        return fmt
    return _DEFAULT[0] if _DEFAULT else PromptFormat()
