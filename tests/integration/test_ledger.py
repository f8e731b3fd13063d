"""The deletion ledger: sequential requests chain their hashes; a broken ledger is reported."""
from __future__ import annotations

import json
from pathlib import Path

from obliviate.cli import main
from obliviate.ledger import LEDGER, entry_hash, weights_sha256


def _request(model: Path, forget: Path, out: Path, *extra: str) -> int:
    return main(["run", f"model={model}", f"data.forget={forget}", "method=ga",
                 "train.max_steps=1", "train.batch_size=2", "train.lr=1e-3",
                 f"output_dir={out}", *extra])


def _lines(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / LEDGER).read_text().splitlines()]


def test_three_sequential_requests_chain(model_dir, data_files, tmp_path, capsys):
    outs = [tmp_path / f"request-{i}" for i in (1, 2, 3)]
    models = [model_dir, *outs[:2]]
    for model, out in zip(models, outs):
        assert _request(model, data_files["forget"], out) == 0
    entries = _lines(outs[-1])
    assert [e["request"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev_entry_sha256"] is None
    for prev, entry in zip(entries, entries[1:]):
        assert entry["prev_entry_sha256"] == prev["entry_sha256"]
        assert entry["input"]["weights_sha256"] == prev["output"]["weights_sha256"]
    assert entries[0]["input"]["weights_sha256"] == weights_sha256(model_dir)
    for entry, out in zip(entries, outs):
        assert entry["output"]["weights_sha256"] == weights_sha256(out)
        assert entry["entry_sha256"] == entry_hash(entry)
        assert entry["forget"]["rows"] == 5 and entry["method"] == "ga"
    assert not (model_dir / LEDGER).exists(), "the input folder was written to"
    capsys.readouterr()
    assert main(["ledger", str(outs[-1])]) == 0
    table = capsys.readouterr().out
    assert "3 request(s)" in table and len(table.splitlines()) == 2 + 3 + 2


def test_a_corrupted_ledger_is_reported_not_rewritten(model_dir, data_files, tmp_path, capsys):
    first = tmp_path / "first"
    assert _request(model_dir, data_files["forget"], first) == 0
    ledger = first / LEDGER
    entry = json.loads(ledger.read_text())
    entry["method"] = "npo"  # edited after the fact: its entry hash no longer matches
    ledger.write_text(json.dumps(entry) + "\n")
    tampered = ledger.read_bytes()
    assert main(["ledger", str(first)]) == 2
    assert "corrupt at line 1" in capsys.readouterr().err
    assert _request(first, data_files["forget"], tmp_path / "second") == 2
    assert ledger.read_bytes() == tampered and not (tmp_path / "second").exists()


def test_weights_changed_after_the_last_request_are_reported(model_dir, data_files, tmp_path,
                                                             capsys):
    first = tmp_path / "first"
    assert _request(model_dir, data_files["forget"], first) == 0
    weights = first / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert main(["ledger", str(first)]) == 2
    assert "not the output its ledger records" in capsys.readouterr().err
