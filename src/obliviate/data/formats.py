"""Turn raw records into :class:`Example` objects for the ``qa`` and ``text`` formats."""
from __future__ import annotations

from typing import Any

from obliviate.data.readers import Located
from obliviate.data.spec import DataSpec
from obliviate.data.types import Example
from obliviate.errors import DataError


def to_examples(located: list[Located], spec: DataSpec) -> list[Example]:
    """Build examples from ``(where, record)`` pairs as :func:`readers.read_located` returns them.

    QA: prompt = the question field, target = the answer field. Text: prompt = "", target = the
    text field (or the record itself when it is a plain string). Every other field goes into
    ``meta``. Only the first ``spec.limit`` examples are kept.
    """
    if spec.limit is not None:
        located = located[: spec.limit]
    return [_to_example(where, record, spec) for where, record in located]


def _to_example(where: str, record: Any, spec: DataSpec) -> Example:
    if spec.format == "text" and isinstance(record, str):
        return Example(prompt="", target=record)
    if not isinstance(record, dict):
        raise DataError(
            f"{spec.path}, {where}: expected an object with fields, got "
            f"{type(record).__name__}" + (
                "; plain strings are only accepted with format: text." if isinstance(record, str)
                else "."
            )
        )
    if spec.format == "qa":
        used = (spec.question_field, spec.answer_field)
        prompt = _field(record, spec.question_field, where, spec, "question_field")
        target = _field(record, spec.answer_field, where, spec, "answer_field")
    else:
        used = (spec.text_field,)
        prompt = ""
        target = _field(record, spec.text_field, where, spec, "text_field")
    meta = {key: value for key, value in record.items() if key not in used}
    return Example(prompt=prompt, target=target, meta=meta)


def _field(record: dict[str, Any], name: str, where: str, spec: DataSpec, option: str) -> str:
    present = ", ".join(repr(key) for key in record) or "none"
    if name not in record:
        raise DataError(
            f"{spec.path}, {where}: missing field {name!r} (fields present: {present}). "
            f"Set data {option} to the right name."
        )
    value = record[name]
    if not isinstance(value, str):
        raise DataError(
            f"{spec.path}, {where}: field {name!r} must be a string, got "
            f"{type(value).__name__} {_short(value)} (fields present: {present})."
        )
    if not value.strip():
        raise DataError(f"{spec.path}, {where}: field {name!r} is empty; fill it in or remove "
                        "the row.")
    return value


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
