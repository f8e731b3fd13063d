"""Supervised fine-tuning: the loss is the forget slot's mean token NLL, logged as forget_nll."""
import math

from methods_testkit import forget_batch, mean_nll, run_step, tiny_llama

from obliviate.methods import StepInputs, build_method


def test_sft_loss_is_the_mean_token_nll():
    model = tiny_llama()
    out = run_step(build_method("sft", {}), model, StepInputs(forget=forget_batch()))
    assert list(out.parts) == ["forget_nll"]
    assert math.isclose(out.loss.item(), mean_nll(tiny_llama(), forget_batch()).item(),
                        rel_tol=1e-5)
    assert math.isclose(out.parts["forget_nll"], out.loss.item(), rel_tol=1e-6)
