"""The efficiency metric read from a run.json, through a real EvalContext (no model needed)."""
from __future__ import annotations

import json

import pytest

from obliviate.errors import DataError
from obliviate.evaluation.context import EvalContext
from obliviate.evaluation.metrics.efficiency import efficiency, load_run_info

RUN = {"wall_time_s": 12.5, "peak_memory_mb": 300, "tokens_processed": 1000,
       "trainable_parameters": 10, "total_parameters": 100, "steps": 4}


def _ctx(run_info) -> EvalContext:
    return EvalContext(None, None, {}, run_info=run_info)


def test_efficiency_from_a_run_file(tmp_path) -> None:
    # N = 100, N_trainable = 10, D = 1000: 6ND = 6e5, (4N + 2N_t) D = 4.2e5 (Kaplan et al.)
    path = tmp_path / "run.json"
    path.write_text(json.dumps({**RUN, "note": "caf\u00e9"}), encoding="utf-8")
    result = efficiency(_ctx(str(path)), "", {})
    assert (result.value, result.per_sample, result.ci_low, result.ci_high) == (12.5, [12.5],
                                                                                12.5, 12.5)
    assert result.extra == {"wall_time_s": 12.5, "peak_memory_mb": 300.0,
                            "tokens_processed": 1000.0, "trainable_parameters": 10.0,
                            "total_parameters": 100.0, "steps": 4.0,
                            "flops_6nd": 6e5, "flops_frozen_aware": 4.2e5}
    assert all(type(v) is float for v in result.extra.values())
    assert efficiency(_ctx(path), "", {}).extra == result.extra        # a Path works too
    assert efficiency(_ctx(dict(RUN)), "", {}).extra == result.extra   # and the dict itself


def test_efficiency_names_the_missing_keys(tmp_path) -> None:
    partial = {k: v for k, v in RUN.items() if k not in ("tokens_processed", "steps")}
    with pytest.raises(DataError, match=r"^run info lacks tokens_processed, steps\.$"):
        efficiency(_ctx(partial), "", {})
    path = tmp_path / "run.json"
    path.write_text(json.dumps(partial))
    with pytest.raises(DataError, match=r"^run file .*run\.json lacks tokens_processed, steps\.$"):
        load_run_info(path)
    with pytest.raises(DataError, match="lacks tokens_processed, steps"):
        efficiency(_ctx(str(path)), "", {})


def test_unreadable_run_files_are_data_errors(tmp_path) -> None:
    with pytest.raises(DataError, match=r"^cannot read run file .*absent\.json: "):
        load_run_info(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match=r"^cannot read run file .*bad\.json: Expecting"):
        load_run_info(bad)
    assert load_run_info(_write(tmp_path / "ok.json"))["steps"] == 4


def _write(path):
    path.write_text(json.dumps(RUN))
    return path
