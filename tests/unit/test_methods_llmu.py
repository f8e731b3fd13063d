"""LLMU: three terms (ascent, random answers, KL on retain) and the random-answer rows."""
import math

import pytest
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, frozen_copy, idk_batch,
                             retain_batch, run_step, tiny_llama)

from obliviate.data import Example
from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method
from obliviate.pipeline import RunSets, aligned_examples, random_answer_examples


def _inputs(model):
    return StepInputs(forget=forget_batch(), retain=retain_batch(), idk=idk_batch(),
                      reference=frozen_copy(model))


def test_llmu_step_combines_three_terms():
    model = tiny_llama()
    out = run_step(build_method("llmu", {}), model, _inputs(model))
    assert out.parts["retain_kl"] < 1e-8           # the model still equals its frozen copy
    expected = (-0.5 * out.parts["forget_nll"] + out.parts["random_loss"]
                + out.parts["retain_kl"])
    assert math.isclose(out.loss.item(), expected, rel_tol=1e-5)
    assert_all_trainable_have_grad(model)


def test_llmu_weights_and_errors():
    model = tiny_llama()
    method = build_method("llmu", {"forget_weight": 1.0, "random_weight": 0.0})
    out = run_step(method, model, _inputs(model))
    assert math.isclose(out.loss.item(), -out.parts["forget_nll"] + out.parts["retain_kl"],
                        rel_tol=1e-5)
    for bad in ({"forget_weight": -1}, {"random_weight": "a"}, {"retain_weight": float("inf")}):
        with pytest.raises(ConfigError):
            build_method("llmu", bad)
    with pytest.raises(ConfigError, match="random retain answers"):
        build_method("llmu", {}).loss(model, StepInputs(forget=forget_batch(),
                                                        retain=retain_batch(),
                                                        reference=frozen_copy(model)))


def _sets(fmt="qa", retain=True):
    forget = [Example("q1", "a1"), Example("q2", "a2"), Example("q3", "a3")]
    kept = [Example("r1", "x1"), Example("r2", "x2")] if retain else None
    return RunSets(forget=forget, forget_format=fmt, retain=kept)


def test_random_answers_are_seeded_retain_targets():
    a = random_answer_examples(_sets(), seed=0)
    assert [e.prompt for e in a] == ["q1", "q2", "q3"]
    assert all(e.target in ("x1", "x2") for e in a)
    assert a == random_answer_examples(_sets(), seed=0)
    with pytest.raises(ConfigError, match="QA"):
        random_answer_examples(_sets(fmt="text"), seed=0)
    with pytest.raises(ConfigError, match="retain"):
        random_answer_examples(_sets(retain=False), seed=0)


def test_pipeline_builds_random_answers_for_llmu():
    rows, fmt = aligned_examples(_config(), _sets(), False, build_method("llmu", {}))
    assert fmt == "qa" and [e.prompt for e in rows] == ["q1", "q2", "q3"]
    assert aligned_examples(_config(), _sets(), False, build_method("ga", {})) is None


def _config():
    from types import SimpleNamespace
    return SimpleNamespace(train=SimpleNamespace(seed=0), data=SimpleNamespace(refusals=None))


def test_llmu_logs_its_parts_and_names_what_is_missing():
    model = tiny_llama()
    out = run_step(build_method("llmu", {}), model, _inputs(model))
    assert list(out.parts) == ["forget_loss", "forget_nll", "random_loss", "retain_kl"]
    assert out.parts["forget_nll"] > 0 and out.parts["forget_loss"] == -out.parts["forget_nll"]
    method = build_method("llmu", {})
    with pytest.raises(ConfigError, match=r"^method 'llmu' needs a retain batch every step"):
        method.loss(model, StepInputs(forget=forget_batch()))
    with pytest.raises(ConfigError, match=r"^llmu needs the forget questions paired with random "
                       r"retain answers \(StepInputs\.idk, built by pipeline\.training_data for "
                       r"methods that declare needs\.random_answers\); use QA forget data and a "
                       r"retain set\.$"):
        method.loss(model, StepInputs(forget=forget_batch(), retain=retain_batch()))
    with pytest.raises(ConfigError, match=r"^method 'llmu' needs a frozen reference model"):
        method.loss(model, StepInputs(forget=forget_batch(), retain=retain_batch(),
                                      idk=idk_batch()))
