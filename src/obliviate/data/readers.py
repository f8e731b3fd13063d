"""Read records (a list of dicts, or of strings for raw text) from files and hub data sets.

The reader is chosen by the file extension; ``hf:org/name[:config][:split]`` reads a data set
with :func:`datasets.load_dataset` (a local folder works too). Every error names the file, and
for JSONL the line, so the user can go straight to the fault.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Callable

from obliviate.errors import DataError

HF_PREFIX = "hf:"
Record = Any  # a dict, or a plain string in a JSON array of texts
Located = tuple[str, Record]  # ("line 3" or "record 3", the record)


def read_records(path: str) -> list[Record]:
    """Read every record of ``path``; raise :class:`DataError` if it is missing or empty."""
    return [record for _, record in read_located(path)]


def read_located(path: str) -> list[Located]:
    """Like :func:`read_records`, each record paired with where it sits ("line 3" for JSONL
    and CSV, "record 3" otherwise), for error messages."""
    if path.startswith(HF_PREFIX):
        records = read_hf(path)
    else:
        file = Path(path).expanduser()
        if not file.exists():
            raise DataError(f"data file {path} does not exist. Check the path (or use hf:org/name).")
        if file.is_dir():
            raise DataError(f"data path {path} is a folder; give a file, or hf:{path} to read it "
                            "as a datasets folder.")
        reader = _reader_for(file)
        try:
            records = reader(file)
        except UnicodeDecodeError as err:
            raise DataError(f"data file {path} is not UTF-8 text (byte {err.start} is "
                            f"{err.object[err.start:err.start + 1]!r}); save it as UTF-8") from None
    if not records:
        raise DataError(f"data file {path} holds no records; it must contain at least one.")
    return records


def _numbered(records: list[Record]) -> list[Located]:
    return [(f"record {i}", record) for i, record in enumerate(records, start=1)]


def _reader_for(file: Path) -> Callable[[Path], list[Located]]:
    suffix = file.suffix.lower()
    if suffix not in READERS:
        supported = ", ".join(sorted(READERS))
        raise DataError(
            f"cannot read {file}: unsupported extension {suffix or '(none)'!r}. "
            f"Supported: {supported}, or hf:org/name[:config][:split]."
        )
    return READERS[suffix]


def read_jsonl(file: Path) -> list[Located]:
    """One JSON object per line; blank lines are skipped."""
    records = []
    with open(file, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                records.append((f"line {lineno}", json.loads(line)))
            except json.JSONDecodeError as err:
                raise DataError(f"{file}:{lineno}: malformed JSON line: {err}.") from None
    return records


def read_json(file: Path) -> list[Located]:
    """An array of objects (or strings), or an object that holds exactly one such list."""
    try:
        data = json.loads(file.read_text(encoding="utf-8") or "null")
    except json.JSONDecodeError as err:
        raise DataError(f"{file}: malformed JSON: {err}.") from None
    if data is None:
        return []
    if isinstance(data, dict):
        lists = [key for key, value in data.items() if isinstance(value, list)]
        if len(lists) != 1:
            raise DataError(
                f"{file}: a JSON object must hold exactly one list of records; found "
                f"{len(lists)} list fields ({', '.join(lists) or 'none'}). Use a top-level array."
            )
        data = data[lists[0]]
    if not isinstance(data, list):
        raise DataError(f"{file}: expected a JSON array of records, got {type(data).__name__}.")
    return _numbered(data)


def read_csv(file: Path) -> list[Located]:
    """A header row, then one record per row (every value a string)."""
    with open(file, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        try:
            rows = [(f"line {reader.line_num}", dict(row)) for row in reader]
        except csv.Error as err:
            raise DataError(f"{file}:{reader.line_num}: malformed CSV: {err}.") from None
        width = len(reader.fieldnames or [])
    for where, row in rows:
        if None in row or None in row.values():
            count = width + len(row.get(None) or []) - sum(v is None for v in row.values())
            raise DataError(f"{file}, {where}: {count} fields but the header has {width}; quote "
                            'values that contain commas ("a, b").')
    return rows


def read_parquet(file: Path) -> list[Located]:
    """A Parquet table, one record per row."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(file)
    except Exception as err:  # pyarrow raises several types for corrupt files
        raise DataError(f"{file}: cannot read Parquet file: {err}.") from None
    return _numbered(table.to_pylist())


def parse_hf_id(path: str) -> tuple[str, str | None, str]:
    """Split ``hf:org/name[:config][:split]`` into (name, config, split).

    One extra part is the config (``hf:locuslab/TOFU:forget10``); the split defaults to train.
    """
    parts = path[len(HF_PREFIX):].split(":")
    if not parts[0] or len(parts) > 3:
        raise DataError(f"bad hub data id {path!r}; write hf:org/name[:config][:split].")
    config = parts[1] or None if len(parts) >= 2 else None
    split = parts[2] or "train" if len(parts) == 3 else "train"
    return parts[0], config, split


def read_hf(path: str) -> list[Located]:
    """Load a hub data set (or a local datasets folder) with :func:`datasets.load_dataset`."""
    import datasets

    name, config, split = parse_hf_id(path)
    try:
        dataset = datasets.load_dataset(name, config, split=split)
    except Exception as err:  # network, missing split, unknown name...
        raise DataError(
            f"cannot load {path} (name={name!r}, config={config!r}, split={split!r}): {err}"
        ) from None
    return _numbered([dict(row) for row in dataset])


READERS: dict[str, Callable[[Path], list[Located]]] = {
    ".jsonl": read_jsonl,
    ".json": read_json,
    ".csv": read_csv,
    ".parquet": read_parquet,
}
