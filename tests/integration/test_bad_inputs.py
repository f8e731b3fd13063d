"""A catalogue of bad inputs, tried as a user would, across every command.

Each case: exit status 2, one error line that names the file / key / flag and says what to do,
no traceback, nothing written where the output would go, and the inputs untouched.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from obliviate.cli import main
from obliviate.evaluation import write_results
from tests.conftest import tree_hash


@dataclass
class World:
    tmp: Path
    model: Path
    forget: Path
    retain: Path
    out: Path

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    def model_copy(self, name: str, change: Callable[[Path], None]) -> Path:
        folder = self.tmp / name
        shutil.copytree(self.model, folder)
        change(folder)
        return folder


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, tiny_tokenizer):
    from obliviate.models.tiny import build_tiny_model

    folder = tmp_path_factory.mktemp("model") / "tiny-model"
    model = build_tiny_model(len(tiny_tokenizer), seed=0, num_hidden_layers=2,
                             pad_token_id=tiny_tokenizer.pad_token_id)
    model.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def world(tmp_path, saved_model, data_files) -> World:
    model = tmp_path / "tiny-model"
    shutil.copytree(saved_model, model)
    return World(tmp_path, model, data_files["forget"], data_files["retain"], tmp_path / "out")


def run(w: World, *extra: str, model: Path | None = None, forget: Path | None = None) -> list:
    return ["run", f"model={model or w.model}", f"data.forget={forget or w.forget}",
            "method=ga", "train.max_steps=1", "train.batch_size=2", f"output_dir={w.out}",
            *extra]


def data_case(content: str | bytes, name: str = "bad.jsonl") -> Callable[[World], list]:
    return lambda w: run(w, forget=w.write(name, content))


def model_case(change: Callable[[Path], None]) -> Callable[[World], list]:
    return lambda w: run(w, model=w.model_copy("broken-model", change))


def _drop(*names: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        for pattern in names:
            for f in folder.glob(pattern):
                f.unlink()
    return change


def _truncate(folder: Path) -> None:
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])


def _pickle_only(folder: Path) -> None:
    weights = folder / "model.safetensors"
    from safetensors.torch import load_file
    torch.save(load_file(str(weights)), folder / "pytorch_model.bin")
    weights.unlink()


def _adapter_without_base(w: World) -> list:
    folder = w.tmp / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps(
        {"base_model_name_or_path": str(w.tmp / "gone-base"), "peft_type": "LORA"}))
    save_file({"x": torch.zeros(2)}, str(folder / "adapter_model.safetensors"))
    return run(w, model=folder)


def _results(w: World, version: str) -> Path:
    folder = w.tmp / "other-run"
    folder.mkdir()
    path = folder / "results.json"
    path.write_text(json.dumps({"schema_version": version, "metrics": {}}))
    return folder


def _valid_run(w: World) -> Path:
    from obliviate.evaluation.results import build_results

    folder = w.tmp / "a-run"
    write_results(folder / "results.json", build_results({}, model_id="tiny"))
    return folder


def _eval(w: World, *extra: str) -> list:
    return ["eval", str(w.model), "--forget", str(w.forget), "--out", str(w.out), *extra]


def _attack(w: World, *extra: str) -> list:
    return ["attack", str(w.model), "--original", str(w.model), "--forget", str(w.forget),
            "--out", str(w.out), *extra]


def _a_file(w: World) -> Path:
    return w.write("a-file.txt", "not a folder")


def _other_models_results(w: World) -> list:
    folder = w.tmp / "eval-results" / w.model.name
    folder.mkdir(parents=True)
    write_results(folder / "results.json", {"schema_version": "1", "metrics": {},
                                            "model": {"id": "/elsewhere/tiny-model"}})
    w.out = folder / "never-written"  # what must stay absent
    return ["eval", str(w.model), "--forget", str(w.forget)]


CASES: dict[str, tuple[Callable[[World], list], str]] = {
    # data files
    "run: missing data file": (lambda w: run(w, forget=w.tmp / "nope.jsonl"), "does not exist"),
    "run: empty data file": (data_case(""), "holds no records"),
    "run: binary data file": (data_case(b"\x89PNG\r\n\x1a\n\x00\xff\xfe"), "not UTF-8"),
    "run: latin-1 data file": (data_case('{"question": "caf\xe9?", "answer": "oui"}\n'
                                         .encode("latin-1")), "not UTF-8"),
    "run: wrong field names": (data_case('{"q": "a?", "a": "b."}\n'), "missing field 'question'"),
    "run: empty answer": (data_case('{"question": "a?", "answer": " "}\n'), "'answer' is empty"),
    "run: empty question": (data_case('{"question": "", "answer": "b."}\n'),
                            "'question' is empty"),
    "run: malformed JSONL": (data_case('{"question": "a?"\n'), "malformed JSON line"),
    "run: CSV row with an unquoted comma": (
        data_case("question,answer\nWho?,Ilsa, the warden\n", "bad.csv"), "quote values"),
    "run: CSV row with a missing field": (data_case("question,answer\nWho?\n", "bad.csv"),
                                          "header has 2"),
    "run: unsupported extension": (data_case("x", "bad.txt"), "unsupported extension"),
    # config files and keys
    "run: YAML that is a list": (lambda w: ["run", str(w.write("c.yaml", "- a\n- b\n"))],
                                 "must hold a mapping"),
    "run: invalid YAML": (lambda w: ["run", str(w.write("c.yaml", "a: [1,\n"))],
                          "not valid YAML"),
    "run: missing config file": (lambda w: ["run", str(w.tmp / "none.yaml")], "does not exist"),
    "run: unknown key": (lambda w: run(w, "train.lrr=1"), "Did you mean 'lr'"),
    "run: mistyped value": (lambda w: run(w, "train.max_steps=many"), "train.max_steps must be"),
    "run: lr nan": (lambda w: run(w, "train.lr=nan"), "train.lr must be positive"),
    "run: lr zero": (lambda w: run(w, "train.lr=0"), "train.lr must be positive"),
    "run: zero steps": (lambda w: run(w, "train.max_steps=0"), "train.max_steps must be"),
    "run: negative steps": (lambda w: run(w, "train.max_steps=-3"), "train.max_steps must be"),
    "run: zero batch size": (lambda w: run(w, "train.batch_size=0"), "train.batch_size must"),
    "run: zero save_every": (lambda w: run(w, "train.save_every=0"), "train.save_every"),
    "run: unknown method": (lambda w: run(w, "method=nop"), "unknown method 'nop'"),
    "run: unknown optimizer": (lambda w: run(w, "optimizer=adamm"), "adamm"),
    "run: bad scheduler": (lambda w: run(w, "train.scheduler=step"), "train.scheduler must be"),
    "run: --resume without output_dir": (
        lambda w: ["run", f"model={w.model}", f"data.forget={w.forget}", "--resume"],
        "--resume needs"),
    # output folders
    "run: output is a file": (lambda w: run(w, f"output_dir={_a_file(w)}"), "is a file"),
    "run: output under a file": (lambda w: run(w, f"output_dir={_a_file(w)}/sub"), "is a file"),
    "run: output is the input model": (
        lambda w: run(w, f"output_dir={w.model}", "overwrite=true"), "is the input model"),
    "run: output contains the input model": (
        lambda w: run(w, f"output_dir={w.tmp}", "overwrite=true"), "contains the input"),
    "run: output contains the data": (
        lambda w: run(w, f"output_dir={w.forget.parent}", "overwrite=true"),
        "contains the input"),
    "run: output inside the model": (
        lambda w: run(w, f"output_dir={w.model}/sub", "overwrite=true"), "lies inside"),
    # models
    "run: missing model path": (lambda w: run(w, model=w.tmp / "no-model"), "not found"),
    "run: model without weights": (model_case(_drop("*.safetensors")), "no weight file"),
    "run: model without tokenizer": (model_case(_drop("tokenizer*", "special_tokens*")),
                                     "no tokenizer files"),
    "run: truncated safetensors": (model_case(_truncate), "is truncated"),
    "run: pickle weights only": (model_case(_pickle_only), "--allow-pickle"),
    "run: adapter without its base": (_adapter_without_base, "needs its base model"),
    # eval
    "eval: negative limit": (lambda w: _eval(w, "--limit", "-1"), "--limit"),
    "eval: zero batch size": (lambda w: _eval(w, "--batch-size", "0"), "--batch-size"),
    "eval: negative max-new-tokens": (lambda w: _eval(w, "--max-new-tokens", "-5"),
                                      "--max-new-tokens"),
    "eval: --out is a file": (lambda w: ["eval", str(w.model), "--forget", str(w.forget),
                                         "--out", str(_a_file(w))], "is a file"),
    "eval: --out inside the model": (lambda w: ["eval", str(w.model), "--forget",
                                                str(w.forget), "--out", str(w.model / "ev")],
                                     "lies inside the input model"),
    "eval: non-UTF-8 data": (lambda w: ["eval", str(w.model), "--forget",
                                        str(w.write("b.jsonl", b"\xff\xfe")), "--out",
                                        str(w.out)], "b.jsonl is not UTF-8"),
    "eval: default output holds another model's results": (
        _other_models_results, "holds the results of another model"),
    "eval: retain results of another schema": (
        lambda w: _eval(w, "--retain-results", str(_results(w, "0") / "results.json")),
        "schema_version"),
    # attack
    "attack: negative limit": (lambda w: _attack(w, "--limit", "-1"), "--limit"),
    "attack: unknown attack": (lambda w: _attack(w, "--attacks", "relern"), "relern"),
    "attack: unknown quantization scheme": (lambda w: _attack(w, "--quant-schemes", "int3"),
                                            "int3"),
    "attack: --out inside the model": (
        lambda w: ["attack", str(w.model), "--original", str(w.model), "--forget",
                   str(w.forget), "--out", str(w.model / "a")], "lies inside the input model"),
    # report
    "report: results of another schema version": (
        lambda w: ["report", str(_results(w, "0")), "-o", str(w.out)], "schema_version '0'"),
    "report: -o is a file": (lambda w: ["report", str(_valid_run(w)), "-o", str(_a_file(w))],
                             "is a file"),
    "report: -o under a file": (
        lambda w: ["report", str(_valid_run(w)), "-o", str(_a_file(w) / "sub")], "is a file"),
    "report: missing run folder": (lambda w: ["report", str(w.tmp / "nope"), "-o", str(w.out)],
                                   "does not exist"),
    "report: results.json not JSON": (
        lambda w: ["report", str(w.write("results.json", "{oops").parent / "results.json"),
                   "-o", str(w.out)], "cannot read"),
    # bench / finetune
    "bench: misspelled method": (lambda w: ["bench", "synthetic", "--methods", "npo,graddif",
                                            "--workdir", str(w.out)], "graddif"),
    "bench: zero steps": (lambda w: ["bench", "synthetic", "--methods", "npo", "--steps", "0",
                                     "--workdir", str(w.out)], "--steps"),
    "finetune: zero batch size": (lambda w: ["finetune", "synthetic", "--batch-size", "0",
                                             "--out", str(w.out)], "--batch-size"),
    "finetune: lr nan": (lambda w: ["finetune", "synthetic", "--lr", "nan", "--out",
                                    str(w.out)], "--lr"),
    "finetune: bad --data": (lambda w: ["finetune", "synthetic", "--data", "retainXX", "--out",
                                        str(w.out)], "--data must be"),
    "finetune: --out is a file": (lambda w: ["finetune", "synthetic", "--out",
                                             str(_a_file(w))], "is a file"),
    # demo
    "demo: zero steps": (lambda w: ["demo", "--steps", "0", "--out", str(w.out)], "--steps"),
    "demo: zero lr": (lambda w: ["demo", "--lr", "0", "--out", str(w.out)], "--lr"),
    "demo: --out is a file": (lambda w: ["demo", "--out", str(_a_file(w))], "is a file"),
    # ledger
    "ledger: folder without a ledger": (lambda w: ["ledger", str(w.model)], "no ledger.jsonl"),
}


def _check_one_line(err: str, expected: str) -> None:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert expected in lines[0], lines[0]


def _exit_code(argv: list[str]) -> int:
    """main()'s status, also when argparse stops the command (SystemExit)."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case, world, capsys, monkeypatch):
    monkeypatch.chdir(world.tmp)
    build, expected = CASES[case]
    argv = build(world)
    inputs = tree_hash(world.model), world.forget.read_bytes()
    assert _exit_code(argv) == 2, case
    _check_one_line(capsys.readouterr().err, expected)
    assert not world.out.exists(), "something was written where the output would go"
    assert not list(world.tmp.glob(".*.partial-*"))
    assert (tree_hash(world.model), world.forget.read_bytes()) == inputs, "an input changed"


def test_disk_full_leaves_nothing(world, capsys, monkeypatch):
    """ENOSPC while the model is saved: one line, exit 2, no output, no partial folder."""
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(world.out))

    monkeypatch.setattr("obliviate.pipeline.save_model", full)
    before = tree_hash(world.model)
    assert main(run(world)) == 2
    _check_one_line(capsys.readouterr().err, "No space left on device")
    assert not world.out.exists() and not list(world.tmp.glob(".*.partial-*"))
    assert tree_hash(world.model) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_output_folder(world, capsys):
    parent = world.tmp / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        assert main(run(world, f"output_dir={parent / 'out'}")) == 2
    finally:
        parent.chmod(0o755)
    _check_one_line(capsys.readouterr().err, "cannot be written")
    assert not (parent / "out").exists()


def test_read_only_file_system(world, capsys, monkeypatch):
    """EROFS (a read-only mount; also what root meets there) is one line, exit 2."""
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(world.out))

    monkeypatch.setattr("obliviate.pipeline.save_model", read_only)
    assert main(run(world)) == 2
    _check_one_line(capsys.readouterr().err, "Read-only file system")
    assert not world.out.exists() and not list(world.tmp.glob(".*.partial-*"))


def test_catalogue_is_large_enough():
    commands = {case.split(":")[0] for case in CASES}
    assert len(CASES) >= 40
    assert {"run", "eval", "attack", "report", "bench", "finetune", "demo"} <= commands
