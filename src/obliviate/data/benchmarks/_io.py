"""Shared plumbing for the benchmark loaders: where a source points (hub id or local folder),
reading the JSON variants the benchmarks ship, hub loading, and field checks whose errors name
the file, the config, the record and the field.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

from obliviate.data.jsonlines import json_lines
from obliviate.errors import DataError

Record = dict[str, Any]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def local_folder(source: str | Path) -> Path | None:
    """The folder ``source`` names, or None when it is a hub id (``org/name``) to download.

    Raises DataError when it is neither an existing folder nor shaped like a hub id."""
    path = Path(source).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise DataError(f"benchmark source {source} is a file; give the folder that holds it.")
    if isinstance(source, str) and _HUB_ID.match(source):
        return None
    raise DataError(f"benchmark source {source!r} is neither an existing folder nor a hub id "
                    "of the form org/name. Check the path.")


def find_file(folder: Path, stem: str | Sequence[str], exts: Sequence[str]) -> Path:
    """The first ``folder/<stem><ext>`` that exists (stems and extensions tried in order)."""
    stems = [stem] if isinstance(stem, str) else list(stem)
    for name in stems:
        for ext in exts:
            candidate = folder / f"{name}{ext}"
            if candidate.is_file():
                return candidate
    tried = ", ".join(f"{name}{ext}" for name in stems for ext in exts)
    raise DataError(f"{folder} lacks the file for {stems[0]!r}: looked for {tried}.")


def read_json_any(file: Path) -> list[Any]:
    """Records from a JSON array, JSON lines, or several JSON arrays one per line.

    TOFU's hub files come in all three shapes, so each is accepted."""
    text = file.read_text(encoding="utf-8").strip()
    if not text:
        raise DataError(f"{file} is empty; it must hold at least one record.")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        return _read_lines(file, text)
    return whole if isinstance(whole, list) else [whole]


def _read_lines(file: Path, text: str) -> list[Any]:
    records: list[Any] = []
    for lineno, line in json_lines(text):
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{file}:{lineno}: not valid JSON ({err}); expected a JSON array, "
                            "JSON lines, or one JSON array per line.") from None
        records.extend(item if isinstance(item, list) else [item])
    return records


def read_table(file: Path) -> list[Any]:
    """Records from ``.json``/``.jsonl`` (any variant of :func:`read_json_any`) or ``.parquet``."""
    if file.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(file).to_pylist()
        except Exception as err:  # pyarrow raises several types for corrupt files
            raise DataError(f"{file}: cannot read Parquet file: {err}.") from None
    return read_json_any(file)


def load_hub(hub_id: str, config: str | None, split: str) -> list[Any]:
    """``datasets.load_dataset(hub_id, config, split=split)`` as a list of plain records."""
    import datasets

    try:
        dataset = datasets.load_dataset(hub_id, config, split=split)
    except Exception as err:  # network, offline mode, unknown config or split...
        raise DataError(f"cannot load {hub_id} (config={config!r}, split={split!r}) from the "
                        f"hub: {err}. Download it and pass the local folder instead (no local "
                        f"folder named {hub_id!r} exists here).") from None
    return [dict(row) if not isinstance(row, str) else row for row in dataset]


def check_records(records: Iterable[Any], fields: dict[str, Any], where: str) -> list[Record]:
    """Check each record has ``fields`` (name -> type, or ``("list", n)`` for a list of n
    strings, or ``"index"`` for an int 0..3); return the records as dicts."""
    checked = []
    need = ", ".join(fields)
    for i, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise DataError(f"{where}, record {i}: expected an object with fields {need}, "
                            f"got {type(record).__name__}.")
        for name, kind in fields.items():
            problem = _field_problem(record, name, kind)
            if problem:
                raise DataError(f"{where}, record {i}: field {name!r} {problem}. "
                                f"Each record needs: {need}.")
        checked.append(record)
    if not checked:
        raise DataError(f"{where} holds no records; it must contain at least one.")
    return checked


def _field_problem(record: Record, name: str, kind: Any) -> str | None:
    if name not in record:
        return f"is missing (present: {', '.join(map(str, record)) or 'none'})"
    value = record[name]
    if isinstance(kind, tuple):
        size = kind[1]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"must be a list of {size} strings, got {type(value).__name__}"
        if size is not None and len(value) != size:
            return f"must be a list of {size} strings, got a list of {len(value)}"
        return None
    if kind == "index":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3
        return None if ok else f"must be an integer index 0..3, got {value!r}"
    if not isinstance(value, kind):
        return f"must be a {kind.__name__}, got {type(value).__name__}"
    return None


def check_texts(records: Iterable[Any], where: str, field: str = "text") -> list[str]:
    """Plain strings, or records holding one under ``field``; non-empty list of strings."""
    texts = []
    for i, record in enumerate(records, start=1):
        value = record.get(field) if isinstance(record, dict) else record
        if not isinstance(value, str):
            raise DataError(f"{where}, record {i}: expected a string (or an object with a "
                            f"string field {field!r}), got {type(record).__name__}.")
        texts.append(value)
    if not texts:
        raise DataError(f"{where} holds no records; it must contain at least one.")
    return texts
