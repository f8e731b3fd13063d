"""The localize: and lora: config sections: parsing, defaults and errors."""
import pytest

from obliviate.config import LocalizeConfig, LoraSettings, load_config
from obliviate.errors import ConfigError

BASE = ["data.forget=f.jsonl"]


def test_defaults_and_overrides():
    cfg = load_config(None, BASE)
    assert cfg.localize == LocalizeConfig() and not cfg.lora.enabled
    cfg = load_config(None, [*BASE, r"localize.modules=.*layers\.[23]\..*mlp.*",
                             "localize.saliency=0.1", "lora.enabled=true", "lora.r=4",
                             "lora.target_modules=all-linear", "lora.merge=true"])
    assert cfg.localize.saliency == 0.1 and cfg.localize.modules.startswith(".*layers")
    assert cfg.lora == LoraSettings(enabled=True, r=4, target_modules="all-linear", merge=True)
    assert load_config(None, [*BASE, "lora.enabled=true", "lora.target_modules=[q_proj,o_proj]"]
                       ).lora.target_modules == ["q_proj", "o_proj"]


@pytest.mark.parametrize("override, message", [
    ("localize.saliency=0", "localize.saliency must be a fraction"),
    ("localize.saliency=1.5", "localize.saliency must be a fraction"),
    ("localize.modules=layers.[", "not a valid regular expression"),
    ("localize.module=x", "Did you mean 'modules'"),
    ("lora.r=4", "add lora.enabled=true"),
    ("lora.alpah=8", "Did you mean 'alpha'"),
])
def test_errors(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(None, [*BASE, override])


def test_lora_value_errors():
    with pytest.raises(ConfigError, match="lora.r"):
        LoraSettings(enabled=True, r=0)
    with pytest.raises(ConfigError, match="lora.dropout"):
        LoraSettings(enabled=True, dropout=1.0)
    with pytest.raises(ConfigError, match="target_modules"):
        LoraSettings(enabled=True, target_modules=[])
