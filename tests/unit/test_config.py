"""Config files, key=value overrides and their errors."""
import pytest
import yaml

from obliviate.config import apply_override, load_config, to_dict
from obliviate.errors import ConfigError


def test_overrides_nest_and_parse_yaml_scalars(tmp_path):
    cfg = load_config(None, ["data.forget=f.jsonl", "data.forget.format=text", "train.lr=1e-5",
                             "train.max_steps=3", "method_args.beta=0.2", "eval=before_after"])
    assert cfg.data.forget.path == "f.jsonl" and cfg.data.forget.format == "text"
    assert cfg.train.lr == 1e-5 and isinstance(cfg.train.lr, float)
    assert cfg.train.max_steps == 3 and cfg.method_args == {"beta": 0.2}
    assert cfg.eval == "before_after"


def test_file_then_overrides_and_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"method": "npo", "data": {"forget": "a.jsonl"},
                                    "train": {"lr": 2e-5}}))
    cfg = load_config(path, ["train.lr=3e-5"])
    assert cfg.method == "npo" and cfg.train.lr == 3e-5
    dumped = tmp_path / "d.yaml"
    dumped.write_text(yaml.safe_dump(to_dict(cfg)))
    assert to_dict(load_config(dumped)) == to_dict(cfg)


@pytest.mark.parametrize("overrides, message", [
    (["data.forget=f.jsonl", "trian.lr=1"], "unknown config key 'trian'. Did you mean 'train'?"),
    (["data.forget=f.jsonl", "train.lr=fast"], "train.lr must be a number"),
    (["data.forget=f.jsonl", "train.max_steps=0"], "train.max_steps must be at least 1"),
    (["data.forget=f.jsonl", "eval=sometimes"], "eval must be one of none, after, before_after"),
    (["data.forget=f.jsonl", "train.batch_size=two"], "train.batch_size must be int"),
    ([], "data.forget is required"),
    (["noequals"], "must look like key=value"),
])
def test_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("'", ".")):
        load_config(None, overrides)


def test_missing_and_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(listy)


def test_apply_override_turns_a_path_into_a_spec():
    raw = {"data": {"forget": "f.jsonl"}}
    apply_override(raw, "data.forget.limit=5")
    assert raw["data"]["forget"] == {"path": "f.jsonl", "limit": 5}


def test_shipped_configs_parse():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "configs").glob("*.yaml")):
        cfg = load_config(path)
        assert (root / cfg.data.forget.path).is_file(), path

