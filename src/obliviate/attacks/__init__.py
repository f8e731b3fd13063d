"""Robustness attacks: does unlearning remove knowledge or only hide it?

Each attack changes a copy of the model (relearning, quantization) or the prompts (in-context
relearning, paraphrases, other languages, composed questions, jailbreak templates), or reads
hidden states (logit lens, linear probes); the runner evaluates with the same suite and reports
recovery = (attacked - unlearned) / (original - unlearned) per metric. Registered in
:data:`ATTACKS`; importing this package registers them all.
"""
from obliviate.attacks import icl, probes, prompts, quantize, relearn  # noqa: F401 (register)
from obliviate.attacks.base import (
    ATTACKS, Attack, AttackContext, AttackSettings, AttackSkipped, AttackView, attack, recovery,
)
from obliviate.attacks.report import ATTACK_SCHEMA_VERSION, attack_table, write_attack_results
from obliviate.attacks.runner import DEFAULT_ATTACKS, EvalOptions, run_attacks

__all__ = [
    "ATTACKS", "ATTACK_SCHEMA_VERSION", "DEFAULT_ATTACKS", "Attack", "AttackContext",
    "AttackSettings", "AttackSkipped", "AttackView", "EvalOptions", "attack", "attack_table",
    "recovery", "run_attacks", "write_attack_results",
]
