"""Input-based unlearning baselines: change the prompt, not a single weight.

A prompt wrapper rewrites each question before it reaches the model, so these baselines are
scored by the same suites as weight-based methods (``obliviate eval --wrapper ...``):

- ``guardrail``: an instruction not to reveal the forget topic (the guardrail baseline of
  Thaker et al. 2024, "Guardrail Baselines for Unlearning in LLMs", arXiv:2403.03329);
- ``icul``: in-context unlearning (Pawelczyk et al. 2023, arXiv:2310.07579): forget examples
  with flipped labels (here refusals) and correctly labelled retain examples placed before the
  question.
"""
from obliviate.inputs.wrappers import (WRAPPERS, PromptWrapper, build_wrapper, describe_wrappers,
                                       wrap_datasets)

__all__ = ["WRAPPERS", "PromptWrapper", "build_wrapper", "describe_wrappers", "wrap_datasets"]
