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
