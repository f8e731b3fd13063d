"""Property tests: any input to the readers, the config parser, the results loader and the
ledger either loads or raises obliviate's own error type (ObliviateError), never another
exception (Hypothesis)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obliviate.config import RunConfig, load_config
from obliviate.data import DataSpec, load_examples
from obliviate.errors import ObliviateError
from obliviate.evaluation.results import load_reference_results
from obliviate.ledger import read_ledger
from obliviate.reports.loading import load_run

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
records = st.dictionaries(st.sampled_from(["question", "answer", "text", "q", "a", ""]),
                          json_values, max_size=4)


def _loads_or_own_error(call) -> object:
    try:
        return call()
    except ObliviateError:
        return None


def _file(folder: str, name: str, content: bytes) -> Path:
    path = Path(folder) / name
    path.write_bytes(content)
    return path


@FUZZ
@given(content=st.binary(max_size=300), suffix=st.sampled_from([".jsonl", ".json", ".csv",
                                                                ".parquet"]),
       fmt=st.sampled_from(["qa", "text"]))
def test_readers_on_arbitrary_bytes(content, suffix, fmt):
    with tempfile.TemporaryDirectory() as folder:
        path = _file(folder, "data" + suffix, content)
        examples = _loads_or_own_error(lambda: load_examples(DataSpec(str(path), format=fmt)))
    assert examples is None or (isinstance(examples, list) and examples)


@FUZZ
@given(rows=st.lists(records | json_values, min_size=0, max_size=5),
       fmt=st.sampled_from(["qa", "text"]), as_array=st.booleans())
def test_readers_on_arbitrary_json_records(rows, fmt, as_array):
    text = json.dumps(rows) if as_array else "".join(json.dumps(r) + "\n" for r in rows)
    with tempfile.TemporaryDirectory() as folder:
        path = _file(folder, "data.json" if as_array else "data.jsonl", text.encode())
        examples = _loads_or_own_error(lambda: load_examples(DataSpec(str(path), format=fmt)))
    for e in examples or []:
        assert isinstance(e.target, str) and e.target.strip()


@FUZZ
@given(cells=st.lists(st.lists(st.text(max_size=6), max_size=4), max_size=5))
def test_csv_reader_on_ragged_tables(cells):
    text = "question,answer\n" + "".join(",".join(row) + "\n" for row in cells)
    with tempfile.TemporaryDirectory() as folder:
        path = _file(folder, "data.csv", text.encode())
        examples = _loads_or_own_error(lambda: load_examples(DataSpec(str(path))))
    for e in examples or []:
        assert e.prompt.strip() and e.target.strip()


override_keys = st.sampled_from([
    "model", "method", "optimizer", "output_dir", "overwrite", "eval", "data.forget",
    "data.forget.path", "data.forget.limit", "data.retain", "train.lr", "train.max_steps",
    "train.epochs", "train.batch_size", "train.scheduler", "train.save_every",
    "train.max_grad_norm", "lora.enabled", "lora.r", "localize.saliency", "localize.modules",
    "method_args.beta", "unknown", "train", "data", "", "a.b.c"])
override_values = st.text(max_size=12) | st.sampled_from(
    ["nan", "inf", "-1", "0", "1e-5", "[1, 2]", "{a: 1}", "null", "true", "!!python/none",
     "&a [*a]", "f.jsonl"])


@FUZZ
@given(items=st.lists(st.tuples(override_keys, override_values), max_size=6),
       raw=st.lists(st.text(max_size=15), max_size=2))
def test_config_overrides(items, raw):
    overrides = [f"{k}={v}" for k, v in items] + raw
    config = _loads_or_own_error(lambda: load_config(None, overrides))
    assert config is None or isinstance(config, RunConfig)


@FUZZ
@given(text=st.text(max_size=200))
def test_config_files(text):
    with tempfile.TemporaryDirectory() as folder:
        path = _file(folder, "c.yaml", text.encode())
        config = _loads_or_own_error(lambda: load_config(path, ["data.forget=f.jsonl"]))
    assert config is None or isinstance(config, RunConfig)


@FUZZ
@given(doc=json_values | st.dictionaries(
    st.sampled_from(["schema_version", "metrics", "before", "samples", "model"]),
    json_values | st.just("1"), max_size=5), raw=st.binary(max_size=50), use_raw=st.booleans())
def test_results_loaders(doc, raw, use_raw):
    with tempfile.TemporaryDirectory() as folder:
        content = raw if use_raw else json.dumps(doc).encode()
        path = _file(folder, "results.json", content)
        run = _loads_or_own_error(lambda: load_run(Path(folder)))
        ref = _loads_or_own_error(lambda: load_reference_results(path))
    assert run is None or isinstance(run.after, dict)
    assert ref is None or ref["schema_version"] == "1"


@FUZZ
@given(lines=st.lists(json_values.map(json.dumps) | st.text(max_size=30), max_size=4))
def test_ledger_reader(lines):
    with tempfile.TemporaryDirectory() as folder:
        _file(folder, "ledger.jsonl", "\n".join(lines).encode())
        entries = _loads_or_own_error(lambda: read_ledger(folder))
    assert entries is None or isinstance(entries, list)


@pytest.mark.parametrize("text", ["train.lr=", "=1", "train..lr=1", "data.forget.path.x=1"])
def test_config_override_edge_cases(text):
    assert _loads_or_own_error(lambda: load_config(None, ["data.forget=f.jsonl", text])) is None
