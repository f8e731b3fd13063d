"""The method registry: every method file registers; build_method and describe_methods."""
import pytest

from obliviate.errors import ConfigError
from obliviate.methods import METHODS, Needs, build_method, describe_methods

ALL = {"ga", "graddiff", "ga_kl", "npo", "simnpo", "idk", "dpo_idk", "rmu"}


def test_every_method_is_registered_with_metadata():
    assert ALL <= set(METHODS.names())
    for row in describe_methods():
        assert row["family"] and row["summary"] and row["paper"]
        assert set(row["needs"]) == set(Needs.__dataclass_fields__)


def test_needs_declared():
    assert METHODS.get("rmu").needs == Needs(retain=True, reference_model=True)
    assert METHODS.get("npo").needs.reference_logprobs
    assert METHODS.get("dpo_idk").needs == Needs(reference_logprobs=True, refusals=True)


def test_unknown_key_names_valid_ones():
    with pytest.raises(ConfigError, match=r"'betta'.*did you mean 'beta'.*Valid: beta, retain_weight"):
        build_method("npo", {"betta": 0.2})


def test_unknown_method_and_non_init_field():
    with pytest.raises(ConfigError, match="Did you mean 'npo'"):
        build_method("npoo", {})
    with pytest.raises(ConfigError, match="control"):
        build_method("rmu", {"control": None})


def test_unknown_keys_are_listed_together_and_a_method_without_fields_says_none():
    with pytest.raises(ConfigError) as info:
        build_method("npo", {"betta": 1, "zzz": 2})
    assert str(info.value) == ("method 'npo' has no hyper-parameter 'betta' (did you mean "
                               "'beta'?), 'zzz'. Valid: beta, retain_weight.")
    with pytest.raises(ConfigError) as info:
        build_method("ga", {"beta": 1})
    assert str(info.value) == "method 'ga' has no hyper-parameter 'beta'. Valid: none."


def test_a_value_of_an_unusable_type_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^method 'rmu': invalid hyper-parameter value \(.+\)\.$"):
        build_method("rmu", {"trainable_layers": 3})  # tuple(3) raises TypeError


def test_describe_methods_rows():
    rows = {row["name"]: row for row in describe_methods()}
    assert set(rows["npo"]) == {"name", "family", "summary", "paper", "needs", "hyperparameters"}
    assert rows["npo"]["hyperparameters"] == {"beta": 0.1, "retain_weight": 1.0}
    assert rows["ga"]["hyperparameters"] == {}


def test_is_one_shot():
    from obliviate.methods.base import is_one_shot
    assert is_one_shot(build_method("task_vector")) and is_one_shot(build_method("influence"))
    assert not is_one_shot(build_method("npo")) and not is_one_shot(object())
