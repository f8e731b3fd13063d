"""JSON-lines files whose string values hold U+2028 / U+2029 / U+0085 (legal inside JSON
strings) are read whole: the readers split on "\\n" only, as iterating a file does."""
from __future__ import annotations

import json

from obliviate.attacks.prompts import load_multilingual
from obliviate.data.benchmarks import load_tofu_config
from obliviate.data.benchmarks._io import read_json_any
from obliviate.data.jsonlines import json_lines
from obliviate.reports.loading import read_steps

ODD = "first\u2028second\u2029third\u0085fourth\x1cfifth"


def _write(path, rows):
    # ensure_ascii=False keeps the separators raw, as many real benchmark files do
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_json_lines_splits_on_newline_only():
    text = '{"a": "x\u2028y"}\r\n\n{"a": "z"}\n'
    assert json_lines(text) == [(1, '{"a": "x\u2028y"}'), (3, '{"a": "z"}')]


def test_benchmark_reader_keeps_separator_inside_strings(tmp_path):
    rows = [{"question": f"Q{i} {ODD}?", "answer": f"A{i} {ODD}."} for i in range(3)]
    file = _write(tmp_path / "forget01.jsonl", rows)
    assert read_json_any(file) == rows
    assert load_tofu_config(tmp_path, "forget01")[1]["answer"] == f"A1 {ODD}."


def test_multilingual_probes_and_step_log_keep_separators(tmp_path):
    probes = _write(tmp_path / "probes.jsonl", [{"question": f"Wer {ODD}?", "language": "de"}])
    assert load_multilingual(probes)[0]["question"] == f"Wer {ODD}?"
    steps = _write(tmp_path / "steps.jsonl", [{"step": 1, "note": ODD}, {"step": 2}])
    assert [r["step"] for r in read_steps(steps)] == [1, 2]
