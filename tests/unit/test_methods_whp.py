"""WHP: generic labels from a baseline and a reinforced model, with and without anchors."""
import json
import math

import pytest
import torch
from methods_testkit import (assert_all_trainable_have_grad, forget_batch, frozen_copy, make_batch,
                             run_step, tiny_llama)

from obliviate.data import Example
from obliviate.errors import ConfigError, DataError
from obliviate.methods import StepInputs, build_method
from obliviate.methods.losses import target_rows, whp_generic_logits


def _reinforced(model, seed=1):
    """A perturbed frozen copy stands in for the model fine-tuned on the forget data."""
    other = frozen_copy(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    return other


def test_whp_step_hard_labels_match_hand_computation():
    model = tiny_llama()
    reference, reinforced = frozen_copy(model), _reinforced(model)
    batch = forget_batch()
    out = run_step(build_method("whp", {}), model,
                   StepInputs(forget=batch, reference=reference, reinforced=reinforced))
    assert_all_trainable_have_grad(model)
    with torch.no_grad():
        logit = lambda m: m(input_ids=batch["input_ids"],  # noqa: E731
                            attention_mask=batch["attention_mask"]).logits
        rows, _ = target_rows(logit(model), batch["labels"])
        base, _ = target_rows(logit(reference), batch["labels"])
        reinf, _ = target_rows(logit(reinforced), batch["labels"])
        labels = whp_generic_logits(base, reinf, 5.0).argmax(-1)
        expected = torch.nn.functional.cross_entropy(rows, labels).item()
    assert math.isclose(out.parts["forget_loss"], expected, rel_tol=1e-5)
    assert out.parts["generic_positions"] == 6.0


def test_whp_soft_labels():
    model = tiny_llama()
    out = run_step(build_method("whp", {"soft_labels": True, "alpha": 1.0}), model,
                   StepInputs(forget=forget_batch(), reference=frozen_copy(model),
                              reinforced=_reinforced(model)))
    assert out.parts["forget_loss"] > 0


def test_whp_with_anchors_uses_translated_batch(tmp_path):
    path = tmp_path / "anchors.json"
    path.write_text(json.dumps({"Hogwarts": "the Academy"}))
    method = build_method("whp", {"anchor_terms_path": str(path)})
    rows = method.aligned_forget_examples([Example("Where?", "At Hogwarts.")])
    assert rows[0].target == "At the Academy."
    model = tiny_llama()
    # forget target 8 9 9 10 11 where "9 9" is the anchored term, translated to the single 30
    forget = make_batch([([5, 6, 7], [8, 9, 9, 10, 11]), ([12, 13], [14, 15])])
    generic = make_batch([([5, 6, 7], [8, 30, 10, 11]), ([12, 13], [14, 15])])
    out = run_step(method, model, StepInputs(forget=forget, idk=generic,
                                             reference=frozen_copy(model),
                                             reinforced=_reinforced(model)))
    # 7 target tokens, the second token of the anchored term is not trained
    assert out.parts["generic_positions"] == 6.0
    assert_all_trainable_have_grad(model)
    with pytest.raises(ConfigError, match="translated"):
        method.loss(model, StepInputs(forget=forget, reference=frozen_copy(model),
                                      reinforced=_reinforced(model)))


def test_whp_ignores_idk_rows_without_anchors():
    model = tiny_llama()
    method = build_method("whp", {})
    assert method.aligned_forget_examples([Example("q", "a")]) is None
    inputs = StepInputs(forget=forget_batch(), reference=frozen_copy(model),
                        reinforced=_reinforced(model))
    plain = method.loss(model, inputs).loss.item()
    inputs.idk = make_batch([([1], [2]), ([3], [4])])
    assert method.loss(model, inputs).loss.item() == plain


def test_whp_builtin_dictionary_and_errors(tmp_path):
    method = build_method("whp", {"anchor_terms_path": "builtin:hp_anchors"})
    assert len(method.anchors) >= 30 and method.anchors["Hogwarts"]
    assert method.reinforce_steps == 50 and method.reinforce_lr == 1e-5
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("- just\n- a list\n")
    with pytest.raises(DataError):
        build_method("whp", {"anchor_terms_path": str(bad_yaml)})
    for bad in ({"alpha": -1}, {"reinforce_steps": 0}, {"reinforce_steps": 2.5},
                {"reinforce_lr": 0}, {"soft_labels": "yes"},
                {"anchor_terms_path": str(tmp_path / "missing.json")},
                {"anchor_terms_path": "builtin:nope"}):
        with pytest.raises(ConfigError):
            build_method("whp", bad)
    model = tiny_llama()
    with pytest.raises(ConfigError, match="reinforced"):
        build_method("whp", {}).loss(model, StepInputs(forget=forget_batch(),
                                                       reference=frozen_copy(model)))


def test_whp_yaml_dictionary(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text("Hogwarts: the Academy\nHarry: Tom\n")
    assert build_method("whp", {"anchor_terms_path": str(path)}).anchors == {
        "Hogwarts": "the Academy", "Harry": "Tom"}
