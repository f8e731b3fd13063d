"""DataSpec validation and construction from config values."""
import pytest

from obliviate.data import DataSpec
from obliviate.errors import ConfigError


def test_defaults_and_string_value():
    spec = DataSpec.from_value("forget.jsonl")
    assert spec == DataSpec(path="forget.jsonl", format="qa")
    assert spec.question_field == "question" and spec.limit is None


def test_dict_value():
    spec = DataSpec.from_value({"path": "a.csv", "format": "text", "text_field": "body", "limit": 3})
    assert (spec.format, spec.text_field, spec.limit) == ("text", "body", 3)


def test_unknown_format_lists_known():
    with pytest.raises(ConfigError, match=r"'mcq'.*qa, text"):
        DataSpec(path="a.jsonl", format="mcq")


def test_unknown_key_named_with_valid_ones():
    with pytest.raises(ConfigError, match=r"'questoin_field'.*question_field"):
        DataSpec.from_value({"path": "a.jsonl", "questoin_field": "q"})


@pytest.mark.parametrize("value", [{"format": "qa"}, 3, {"path": ""}, {"path": "a", "limit": 0}])
def test_bad_values(value):
    with pytest.raises(ConfigError):
        DataSpec.from_value(value)
