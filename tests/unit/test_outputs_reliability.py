"""outputs.py: inputs protected in every direction, umask modes, stale partial folders."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from obliviate.errors import ConfigError
from obliviate.outputs import (atomic_dir, check_not_input, check_writable_location,
                               stale_partials)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("relation, out", [
    ("is", lambda m: m), ("lies inside", lambda m: m / "sub" / "out"),
    ("contains", lambda m: m.parent),
])
def test_output_may_not_be_contain_or_lie_inside_an_input(tmp_path, relation, out):
    model = tmp_path / "inputs" / "model"
    model.mkdir(parents=True)
    with pytest.raises(ConfigError, match=f"{relation} the input folder"):
        check_not_input(out(model), [model])
    data = tmp_path / "inputs" / "forget.jsonl"
    data.write_text("{}")
    with pytest.raises(ConfigError, match="contains the input file"):
        check_not_input(tmp_path / "inputs", [data])
    check_not_input(tmp_path / "elsewhere", [model, data, None, tmp_path / "missing"])


def test_output_path_that_is_or_sits_under_a_file(tmp_path):
    afile = tmp_path / "f.txt"
    afile.write_text("x")
    for out in (afile, afile / "sub" / "deeper"):
        with pytest.raises(ConfigError, match="is a file"):
            check_writable_location(out)
    check_writable_location(tmp_path / "new" / "folder")


@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755),
                                                       (0o027, 0o640, 0o750)])
def test_atomic_dir_gives_files_the_umask_modes(tmp_path, mask, file_mode, dir_mode):
    old = os.umask(mask)
    try:
        with atomic_dir(tmp_path / "out") as tmp:
            fd, name = tempfile.mkstemp(dir=tmp)  # 0600, as safetensors / mkstemp writers do
            os.close(fd)
            Path(name).rename(tmp / "model.safetensors")
            (tmp / "sub").mkdir(mode=0o700)
            (tmp / "sub" / "x.json").write_text("{}")
            os.chmod(tmp / "sub" / "x.json", 0o600)
    finally:
        os.umask(old)
    out = tmp_path / "out"
    assert _mode(out / "model.safetensors") == file_mode
    assert _mode(out / "sub" / "x.json") == file_mode
    assert _mode(out / "sub") == dir_mode and _mode(out) == dir_mode


def test_results_json_honours_the_umask(tmp_path):
    from obliviate.evaluation import write_results

    old = os.umask(0o022)
    try:
        path = write_results(tmp_path / "r" / "results.json", {"metrics": {}})
    finally:
        os.umask(old)
    assert _mode(path) == 0o644


def _dead_pid() -> int:
    pid = 2 ** 22 - 1
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        pid -= 1


def test_stale_partials_of_dead_processes_are_swept(tmp_path):
    dead = tmp_path / f".out.partial-{_dead_pid()}"
    live = tmp_path / f".out.partial-{os.getppid()}"
    other = tmp_path / f".other.partial-{_dead_pid()}"
    for folder in (dead, live, other):
        folder.mkdir()
    assert stale_partials(tmp_path / "out") == [dead]
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "f").write_text("x")
    assert not dead.exists() and live.exists() and other.exists()
    assert (tmp_path / "out" / "f").is_file()
