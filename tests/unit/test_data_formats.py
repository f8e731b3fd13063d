"""Records -> Examples, field errors, meta and limit."""
import json

import pytest

from obliviate.data import DataSpec, Example, load_examples
from obliviate.errors import DataError


def _write(tmp_path, rows, name="d.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return str(path)


def test_qa_with_meta_and_limit(tmp_path):
    rows = [{"q": "Who?", "a": "Me.", "id": i} for i in range(5)]
    spec = DataSpec(path=_write(tmp_path, rows), question_field="q", answer_field="a", limit=2)
    assert load_examples(spec) == [Example("Who?", "Me.", {"id": 0}), Example("Who?", "Me.", {"id": 1})]


def test_text_from_dicts_and_strings(tmp_path):
    spec = DataSpec(path=_write(tmp_path, [{"text": "A passage.", "src": "x"}]), format="text")
    assert load_examples(spec) == [Example("", "A passage.", {"src": "x"})]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(["one", "two"]))
    assert [e.target for e in load_examples(DataSpec(str(path), format="text"))] == ["one", "two"]


def test_missing_field_names_file_line_field_and_present(tmp_path):
    path = _write(tmp_path, [{"question": "q", "answer": "a"}, {"question": "q", "ans": "a"}])
    with pytest.raises(DataError, match=r"d\.jsonl, line 2: missing field 'answer'.*'question', 'ans'"):
        load_examples(DataSpec(path))


def test_non_string_field(tmp_path):
    path = _write(tmp_path, [{"question": "q", "answer": 42}])
    with pytest.raises(DataError, match=r"line 1: field 'answer' must be a string, got int 42"):
        load_examples(DataSpec(path))


def test_plain_string_in_qa_format(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(["just text"]))
    with pytest.raises(DataError, match=r"record 1.*format: text"):
        load_examples(DataSpec(str(path)))
