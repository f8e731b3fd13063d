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


def _hard_label_loss(student, base, reinforced, alpha):
    """Cross-entropy of the student rows towards argmax(v_base - alpha relu(v_reinf - v_base))."""
    generic = base - alpha * torch.relu(reinforced - base)
    return torch.nn.functional.cross_entropy(student, generic.argmax(-1))


def test_whp_soft_labels_match_hand_computation():
    model = tiny_llama()
    reference, reinforced, batch = frozen_copy(model), _reinforced(model), forget_batch()
    out = build_method("whp", {"soft_labels": True, "alpha": 1.0}).loss(
        model, StepInputs(forget=batch, reference=reference, reinforced=reinforced))
    with torch.no_grad():
        rows = [target_rows(m(input_ids=batch["input_ids"],
                              attention_mask=batch["attention_mask"]).logits, batch["labels"])[0]
                for m in (model, reference, reinforced)]
        q = torch.softmax(rows[1] - torch.relu(rows[2] - rows[1]), dim=-1)
        want = -(q * torch.log_softmax(rows[0], dim=-1)).sum(-1).mean()
    assert math.isclose(out.loss.item(), want.item(), rel_tol=1e-5)


def test_whp_without_target_positions_gives_a_zero_loss_with_a_graph():
    model = tiny_llama()
    batch = make_batch([([5, 6, 7], []), ([12, 13], [])])  # no target token at all
    out = build_method("whp", {}).loss(model, StepInputs(forget=batch, reference=frozen_copy(model),
                                                         reinforced=_reinforced(model)))
    assert out.loss.item() == 0.0 and out.loss.requires_grad
    assert out.parts["generic_positions"] == 0.0 and out.parts["forget_loss"] == 0.0


def test_whp_anchor_alignment_uses_the_first_generic_position(tmp_path):
    """One-token prompt: the first target token is predicted at generic position 0."""
    path = tmp_path / "anchors.json"
    path.write_text(json.dumps({"Hogwarts": "the Academy"}))
    method = build_method("whp", {"anchor_terms_path": str(path), "alpha": 2.0})
    model = tiny_llama()
    reference, reinforced = frozen_copy(model), _reinforced(model)
    # forget 5 | 8 9 9 10, the term "9 9" translated to 30: generic 5 | 8 30 10
    forget, generic = make_batch([([5], [8, 9, 9, 10])]), make_batch([([5], [8, 30, 10])])
    out = method.loss(model, StepInputs(forget=forget, idk=generic, reference=reference,
                                        reinforced=reinforced))
    assert out.parts["generic_positions"] == 3.0  # 8, 9 (the term's first token) and 10
    with torch.no_grad():
        logit = lambda m, b: m(input_ids=b["input_ids"],  # noqa: E731
                               attention_mask=b["attention_mask"]).logits[0]
        kept = [0, 1, 3]  # forget positions predicting 8, 9 and 10
        want = _hard_label_loss(logit(model, forget)[kept], logit(reference, generic)[[0, 1, 2]],
                                logit(reinforced, forget)[kept], 2.0)
    assert math.isclose(out.loss.item(), want.item(), rel_tol=1e-5)


def test_whp_error_messages_name_the_field(tmp_path):
    for args, message in (({"reinforce_steps": 0}, "reinforce_steps must be an integer >= 1, got 0"),
                          ({"soft_labels": "yes"}, "soft_labels must be true or false, got 'yes'"),
                          ({"anchor_terms_path": ""}, "anchor_terms_path must be a file path or "
                                                      "'builtin:hp_anchors', got ''"),
                          ({"anchor_terms_path": 5}, "anchor_terms_path must be a file path or "
                                                     "'builtin:hp_anchors', got 5")):
        with pytest.raises(ConfigError, match=rf"^whp: {message}\.$"):
            build_method("whp", args)
    assert build_method("whp", {"reinforce_steps": 1}).reinforce_steps == 1
    model = tiny_llama()
    with pytest.raises(ConfigError, match=r"^method 'whp' needs a frozen reference model"):
        build_method("whp", {}).loss(model, StepInputs(forget=forget_batch()))
    with pytest.raises(ConfigError, match=r"^whp needs the reinforced model \(StepInputs\.reinforced, "
                       r"needs\.reinforced_model\): the engine fine-tunes a frozen copy on the "
                       r"forget data for reinforce_steps steps first\.$"):
        build_method("whp", {}).loss(model, StepInputs(forget=forget_batch(),
                                                       reference=frozen_copy(model)))
    path = tmp_path / "anchors.json"
    path.write_text(json.dumps({"Hogwarts": "the Academy"}))
    with pytest.raises(ConfigError, match=r"^whp: anchor_terms_path is set but no translated "
                       r"forget batch arrived \(StepInputs\.idk\); build the data with "
                       r"pipeline\.training_data\(\.\.\., method=method\)\.$"):
        build_method("whp", {"anchor_terms_path": str(path)}).loss(
            model, StepInputs(forget=forget_batch(), reference=frozen_copy(model),
                              reinforced=_reinforced(model)))
