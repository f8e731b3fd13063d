"""Gradient ascent: loss is exactly -NLL(forget)."""
import math

from methods_testkit import assert_all_trainable_have_grad, forget_batch, run_step, tiny_llama

from obliviate.methods import StepInputs, build_method


def test_ga_step():
    model = tiny_llama()
    method = build_method("ga", {})
    out = run_step(method, model, StepInputs(forget=forget_batch()))
    assert math.isclose(out.loss.item(), -out.parts["forget_nll"], rel_tol=1e-6)
    assert_all_trainable_have_grad(model)


def test_ga_logs_the_negated_nll_as_forget_loss():
    out = run_step(build_method("ga", {}), tiny_llama(), StepInputs(forget=forget_batch()))
    assert list(out.parts) == ["forget_loss", "forget_nll"] and out.parts["forget_nll"] > 0
    assert out.parts["forget_loss"] == -out.parts["forget_nll"]
