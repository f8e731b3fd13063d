"""Where a data set lives and how to read it: one small, validated dataclass."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from obliviate.errors import ConfigError

KNOWN_FORMATS = ("qa", "text")


@dataclass
class DataSpec:
    """A forget / retain / holdout set.

    ``path`` is a local file (``.jsonl``, ``.json``, ``.csv``, ``.parquet``) or a hub data set
    written ``hf:org/name[:config][:split]``. ``format`` is ``"qa"`` (question -> answer, the loss
    covers the answer) or ``"text"`` (raw passages, the loss covers every token). The ``*_field``
    names say which record keys hold the question, the answer and the text. ``limit`` keeps only
    the first N examples.
    """

    path: str
    format: Literal["qa", "text"] = "qa"
    question_field: str = "question"
    answer_field: str = "answer"
    text_field: str = "text"
    limit: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.strip():
            raise ConfigError(f"data path must be a non-empty string, got {self.path!r}.")
        if self.format not in KNOWN_FORMATS:
            known = ", ".join(KNOWN_FORMATS)
            raise ConfigError(f"unknown data format {self.format!r}. Known formats: {known}.")
        for name in ("question_field", "answer_field", "text_field"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"data {name} must be a non-empty string, got {value!r}.")
        if self.limit is not None:
            if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
                raise ConfigError(
                    f"data limit must be a positive integer or null, got {self.limit!r}."
                )

    @classmethod
    def from_value(cls, value: "str | dict[str, Any] | DataSpec") -> "DataSpec":
        """Build a spec from a plain path string, a dict of fields, or an existing spec."""
        if isinstance(value, DataSpec):
            return value
        if isinstance(value, str):
            return cls(path=value)
        if isinstance(value, dict):
            valid = [f.name for f in fields(cls)]
            for key in value:
                if key not in valid:
                    raise ConfigError(
                        f"unknown data key {key!r}. Valid keys: {', '.join(valid)}."
                    )
            if "path" not in value:
                raise ConfigError("data entry has no 'path'; give the file or hf: id to read.")
            return cls(**value)
        raise ConfigError(
            f"data must be a path string or a mapping with a 'path' key, got "
            f"{type(value).__name__}."
        )
