"""Atomic output folders, the output-dir checks and the registry."""
import pytest

from obliviate.errors import ConfigError
from obliviate.outputs import atomic_dir, check_output_dir
from obliviate.registry import Registry


def test_atomic_dir_renames_on_success_and_cleans_on_error(tmp_path):
    out = tmp_path / "run"
    with atomic_dir(out) as tmp:
        assert tmp != out and not out.exists()
        (tmp / "a.txt").write_text("x")
    assert (out / "a.txt").read_text() == "x"
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "broken") as tmp:
            (tmp / "half.txt").write_text("x")
            raise RuntimeError("crash")
    assert not (tmp_path / "broken").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_atomic_dir_replaces_an_existing_folder(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with atomic_dir(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]


def test_check_output_dir(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="inside the input model"):
        check_output_dir(model / "out", False, [model])
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "f").write_text("x")
    with pytest.raises(ConfigError, match="overwrite=true"):
        check_output_dir(tmp_path / "taken", False)
    check_output_dir(tmp_path / "taken", True)
    check_output_dir(tmp_path / "fresh", False)


def test_registry_suggests_close_names():
    reg: Registry[int] = Registry("widget")
    reg.register("alpha")(1)
    reg.register("beta")(2)
    assert reg.get("beta") == 2 and reg.names() == ["alpha", "beta"] and "alpha" in reg
    with pytest.raises(ConfigError, match="unknown widget 'alpah'. Did you mean 'alpha'"):
        reg.get("alpah")
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("alpha")(3)
