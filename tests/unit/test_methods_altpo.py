"""AltPO's own code: its checks, what it hands to DPO-IdK, and the renamed log part (the
alternates' generation and the formula are tested in tests/integration/test_altpo.py)."""
import math

import pytest
from methods_testkit import (forget_batch, idk_batch, mean_nll, retain_batch, run_step, tiny_llama,
                             with_ref_logp)

from obliviate.errors import ConfigError
from obliviate.methods import StepInputs, build_method


@pytest.mark.parametrize("args, message", [
    ({"alternates": 0}, "altpo: alternates must be an integer >= 1, got 0."),
    ({"alt_max_new_tokens": 0}, "altpo: alt_max_new_tokens must be an integer >= 1, got 0."),
    ({"alt_temperature": 0}, "altpo: alt_temperature must be > 0, got 0."),
    ({"beta": 0}, "dpo_idk: beta must be > 0, got 0."),
])
def test_altpo_hyper_parameter_errors(args, message):
    with pytest.raises(ConfigError) as info:
        build_method("altpo", args)
    assert str(info.value) == message


def test_altpo_passes_beta_and_retain_weight_to_dpo_idk():
    method = build_method("altpo", {"beta": 2, "retain_weight": 0, "alternates": 1,
                                    "alt_max_new_tokens": 1, "alt_temperature": 0.5})
    assert (method.inner.beta, method.inner.retain_weight) == (2.0, 0.0)
    assert (method.beta, method.retain_weight, method.alternates) == (2.0, 0.0, 1)
    assert isinstance(method.beta, float) and method.alt_temperature == 0.5


def test_altpo_step_logs_the_alternates_nll_and_needs_them():
    model = tiny_llama()
    inputs = StepInputs(forget=with_ref_logp(model, forget_batch()),
                        idk=with_ref_logp(model, idk_batch()), retain=retain_batch())
    out = run_step(build_method("altpo", {"beta": 0.5, "retain_weight": 2.0}), model, inputs)
    assert list(out.parts) == ["forget_loss", "forget_nll", "retain_loss", "alternate_nll"]
    # at the reference: -(2 / 0.5) log sigmoid(0) = 4 ln 2, plus 2 x the retain NLL
    assert math.isclose(out.parts["forget_loss"], 4 * math.log(2), rel_tol=1e-5)
    assert math.isclose(out.parts["alternate_nll"], mean_nll(model, idk_batch()).item(),
                        rel_tol=1e-5)
    assert math.isclose(out.loss.item(), 4 * math.log(2) + 2.0 * out.parts["retain_loss"],
                        rel_tol=1e-5)
    with pytest.raises(ConfigError) as info:
        build_method("altpo", {}).loss(model, StepInputs(forget=forget_batch()))
    assert str(info.value) == (
        "altpo needs the forget questions paired with generated alternate answers "
        "(StepInputs.idk); run it through `obliviate run` or pipeline.training_data with the "
        "model, on QA forget data.")
