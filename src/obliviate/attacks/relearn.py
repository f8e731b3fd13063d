"""Relearning attack: fine-tune a copy of the unlearned model on a few forget examples (or on
related but distinct data) for a few steps, then evaluate the whole forget set and, separately,
the held-out part that relearning never saw. Only the held-out number is honest: the relearned
rows were shown their answers.

Hu et al. 2024, "Jogging the Memory of Unlearned LLMs Through Targeted Relearning Attacks"
(arXiv:2406.13356); Deeb and Roger 2024, "Do Unlearning Methods Remove Information from
Language Model Weights?" (arXiv:2410.08827), who fine-tune on one part of the forget facts and
test on the other.

Defaults: k = max(2, ceil(0.1 * n_forget)) examples (at most n_forget - 1), 20 steps of AdamW
at lr 2e-5, batch size min(4, k), constant schedule, no weight decay (the plain ``sft`` method
in the one training engine).
"""
from __future__ import annotations

import copy
import math
from typing import Any

from obliviate.attacks.base import AttackContext, AttackSkipped, AttackView, attack
from obliviate.config import TrainConfig
from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import Example
from obliviate.evaluation.generation import pad_id


def relearn_count(n_forget: int, k: int | None, fraction: float) -> int:
    """How many forget examples to relearn on: ``k`` or ``max(2, ceil(fraction * n))``,
    capped at ``n - 1`` so at least one row stays held out."""
    if n_forget < 2:
        raise AttackSkipped("relearning needs at least 2 forget examples (one to relearn on, "
                            "one held out).")
    wanted = k if k is not None else max(2, math.ceil(fraction * n_forget))
    return max(1, min(wanted, n_forget - 1))


def model_copy(model: Any) -> Any:
    """A deep copy of ``model`` to attack; a PEFT model is merged into plain weights first (on
    the copy), so every weight can be changed."""
    twin = copy.deepcopy(model)
    if hasattr(twin, "merge_and_unload"):
        twin = twin.merge_and_unload()
    return twin


def relearn(model: Any, tokenizer: Any, examples: list[Example], fmt: str, *, steps: int,
            lr: float, batch_size: int, seed: int = 0, max_length: int = 512) -> Any:
    """Fine-tune a copy of ``model`` on ``examples`` (NLL, engine method ``sft``) and return
    the copy; ``model`` itself is untouched."""
    from obliviate.methods import build_method
    from obliviate.training import Engine, TrainingData

    twin = model_copy(model)
    for p in twin.parameters():
        p.requires_grad_(True)
    cfg = TrainConfig(lr=lr, max_steps=steps, batch_size=batch_size, seed=seed,
                      scheduler="constant", weight_decay=0.0, max_length=max_length,
                      mixed_precision="no")
    items = tokenize_examples(examples, tokenizer, max_length, fmt)
    Engine(build_method("sft"), cfg, progress=False).fit(twin, TrainingData(forget=items),
                                                         pad_id(tokenizer))
    twin.eval()
    return twin


@attack("relearn", "fine-tune a copy on a few forget examples (or related data), evaluate the "
        "held-out rest", primary="heldout")
def relearn_attack(ctx: AttackContext) -> list[AttackView]:
    """Two views of one relearned copy: ``all`` (the whole data, relearned rows included) and
    ``heldout`` (the forget rows not used for relearning: the headline)."""
    s = ctx.settings
    forget = ctx.datasets.get("forget") or []
    fmt = "qa" if forget and all(e.prompt for e in forget) else "text"
    if s.relearn_data is not None:
        train, fmt, used = s.relearn_data, s.relearn_data_format, []
        source = "relearn_data (related data, no forget row)"
    else:
        k = relearn_count(len(forget), s.relearn_k, s.relearn_fraction)
        used = sorted(ctx.rng("relearn").sample(range(len(forget)), k))
        train, source = [forget[i] for i in used], f"{k} forget rows"
    heldout = [i for i in range(len(forget)) if i not in set(used)]
    batch = min(s.relearn_batch_size, len(train))
    twin = relearn(ctx.model, ctx.tokenizer, train, fmt, steps=s.relearn_steps, lr=s.relearn_lr,
                   batch_size=batch, seed=s.seed, max_length=ctx.max_length)
    settings = {"trained_on": source, "k": len(train), "steps": s.relearn_steps,
                "lr": s.relearn_lr, "batch_size": batch, "relearned_rows": used,
                "heldout_rows": len(heldout)}
    whole = AttackView("all", twin, dict(ctx.datasets), {}, settings,
                       ["includes the rows relearning trained on: an upper bound, not a "
                        "measure of hidden knowledge"] if used else [])
    rest = dict(ctx.datasets, forget=[forget[i] for i in heldout])
    held = AttackView("heldout", twin, rest, {"forget": heldout}, settings,
                      ["forget rows never seen by relearning: the honest number"])
    return [whole, held]
