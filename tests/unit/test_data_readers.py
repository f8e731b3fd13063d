"""Every reader on small files, and every reader error."""
import json

import pandas as pd
import pytest

from obliviate.data.readers import parse_hf_id, read_located, read_records
from obliviate.errors import DataError

ROWS = [{"question": "q1", "answer": "a1"}, {"question": "q2", "answer": "a2"}]


def test_jsonl(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n\n" + json.dumps(ROWS[1]) + "\n")
    assert read_records(str(path)) == ROWS
    assert [where for where, _ in read_located(str(path))] == ["line 1", "line 3"]


def test_json_array_object_and_strings(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(ROWS))
    assert read_records(str(path)) == ROWS
    path.write_text(json.dumps({"version": 1, "data": ROWS}))
    assert read_records(str(path)) == ROWS
    path.write_text(json.dumps(["one text", "two"]))
    assert read_records(str(path)) == ["one text", "two"]


def test_csv(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    assert read_records(str(path)) == ROWS
    assert read_located(str(path))[1][0] == "line 3"


def test_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    pd.DataFrame(ROWS).to_parquet(path)
    assert read_records(str(path)) == ROWS


def test_hf_local_folder(tmp_path):
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS))
    assert read_records(f"hf:{tmp_path}") == ROWS


def test_parse_hf_id():
    assert parse_hf_id("hf:org/name") == ("org/name", None, "train")
    assert parse_hf_id("hf:org/name:forget10") == ("org/name", "forget10", "train")
    assert parse_hf_id("hf:org/name:cfg:test") == ("org/name", "cfg", "test")
    assert parse_hf_id("hf:org/name::test") == ("org/name", None, "test")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.jsonl"
    with pytest.raises(DataError, match=rf"{path}.*does not exist"):
        read_records(str(path))


@pytest.mark.parametrize("name,text", [("e.jsonl", "\n\n"), ("e.json", "[]"), ("e.csv", "a,b\n")])
def test_empty(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match="no records"):
        read_records(str(path))


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + '{"question": "q2", answer}\n')
    with pytest.raises(DataError, match=rf"{path}:2: malformed JSON line: .*"):
        read_records(str(path))


def test_unsupported_extension(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("hello")
    with pytest.raises(DataError, match=r"'\.txt'.*\.csv, \.json, \.jsonl, \.parquet"):
        read_records(str(path))
