"""The constraint language of train.select and bench --criterion: parsed by hand, never eval'd."""
from __future__ import annotations

import math

import pytest

from obliviate.config import SelectConfig, TrainConfig
from obliviate.errors import ConfigError
from obliviate.training.select_expr import ExpressionError, parse_constraint


def test_bare_original_is_the_left_metrics_original_value():
    c = parse_constraint("model_utility >= 0.9 * original")
    assert c.names == {"model_utility"}
    assert c.holds({"model_utility": 0.45}, {"model_utility": 0.5})  # 0.45 >= 0.45
    assert not c.holds({"model_utility": 0.449}, {"model_utility": 0.5})


def test_precedence_parentheses_and_conjunction():
    c = parse_constraint("forget/answer_prob < (1 - 0.5) * original(forget/answer_prob) / 2 "
                         "and retain/answer_prob > -1 + 2 * 0.5")
    assert c.names == {"forget/answer_prob", "retain/answer_prob"}
    # right side: 0.5 * 0.8 / 2 = 0.2; second: -1 + 1 = 0
    assert c.holds({"forget/answer_prob": 0.19, "retain/answer_prob": 0.01},
                   {"forget/answer_prob": 0.8})
    assert not c.holds({"forget/answer_prob": 0.21, "retain/answer_prob": 0.01},
                       {"forget/answer_prob": 0.8})
    assert not c.holds({"forget/answer_prob": 0.19, "retain/answer_prob": 0.0},
                       {"forget/answer_prob": 0.8})


def test_nan_and_division_by_zero_never_hold():
    c = parse_constraint("a / b >= 1")
    assert not c.holds({"a": 1.0, "b": 0.0})
    assert not c.holds({"a": math.nan, "b": 1.0})
    assert c.holds({"a": 2.0, "b": 1.0})


@pytest.mark.parametrize("text, says", [
    ("model_utility >=", "ends too early"),
    ("model_utility", "expected a comparison"),
    ("__import__('os').system('x') > 0", "unexpected character"),
    ("a > 1 and", "ends too early"),
    ("2 * original > 1", "needs a metric name on the left"),
    ("(a > 1", "is not closed"),
    ("a > 1 b", "unexpected 'b'"),
    ("", "empty"),
])
def test_invalid_expressions_are_config_errors(text, says):
    with pytest.raises(ExpressionError, match=says) as info:
        parse_constraint(text)
    assert isinstance(info.value, ConfigError) and "\n" not in str(info.value)


def test_unknown_metric_at_evaluation_names_the_known_ones():
    with pytest.raises(ExpressionError, match="reads metric 'nope'.*it has: a"):
        parse_constraint("nope > 0").holds({"a": 1.0})


def test_select_config_checks_its_constraint_and_needs_eval_every():
    with pytest.raises(ConfigError, match="cannot read constraint"):
        SelectConfig(constraint="model_utility >> 1")
    with pytest.raises(ConfigError, match="set train.eval_every"):
        TrainConfig(select=SelectConfig())
    with pytest.raises(ConfigError, match="set train.select"):
        TrainConfig(eval_every=2, patience=2)
    with pytest.raises(ConfigError, match="train.eval_every must be a whole number >= 1"):
        TrainConfig(eval_every=0)
    cfg = TrainConfig(eval_every=2, select={"metric": "forget_quality", "mode": "max"})
    assert isinstance(cfg.select, SelectConfig)
