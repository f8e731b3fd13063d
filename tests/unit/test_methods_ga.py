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
