"""Pure tensor functions that unlearning losses are made of.

Conventions: ``logits`` are ``[B, T, V]`` from a causal LM, ``labels`` are ``[B, T]`` with
``-100`` (:data:`obliviate.data.types.IGNORE_INDEX`) at prompt and padding positions. As in
Hugging Face causal LMs, position ``t`` of the logits predicts ``labels[:, t + 1]``. Nothing here
ever averages over a masked position.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from obliviate.data.types import IGNORE_INDEX


def shift_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability of every next label token: ``(logp [B, T-1], mask [B, T-1] bool)``.

    ``logp[b, t] = log softmax(logits[b, t])[labels[b, t+1]]`` where the label is a target and 0
    elsewhere. Computed as ``gather - logsumexp`` so no ``[B, T, V]`` log-softmax is stored.
    """
    logits = logits[:, :-1].float()
    targets = labels[:, 1:]
    mask = targets != IGNORE_INDEX
    index = targets.masked_fill(~mask, 0).unsqueeze(-1)
    picked = torch.gather(logits, -1, index).squeeze(-1)
    logp = picked - torch.logsumexp(logits, dim=-1)
    return logp.masked_fill(~mask, 0.0), mask


def sequence_logprob(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probability of each sequence's target tokens and their count, both ``[B]``.

    This is ``log pi(y|x)`` of NPO / DPO (Rafailov et al. 2023, arXiv:2305.18290).
    """
    logp, mask = shift_logprobs(logits, labels)
    return logp.sum(dim=-1), mask.sum(dim=-1)


def masked_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood over all target tokens of the batch (token-level average,
    as ``CrossEntropyLoss(ignore_index=-100)``). A batch without targets gives 0."""
    logp, mask = shift_logprobs(logits, labels)
    return -logp.sum() / mask.sum().clamp(min=1)


def npo_loss(logp: torch.Tensor, ref_logp: torch.Tensor, beta: float) -> torch.Tensor:
    """Negative Preference Optimization (Zhang et al. 2024, arXiv:2404.05868), eq. (3):

    ``L = mean_b  -(2/beta) * log sigmoid(-beta * (log pi(y|x) - log pi_ref(y|x)))``.
    """
    return (-(2.0 / beta) * F.logsigmoid(-beta * (logp - ref_logp))).mean()


def simnpo_loss(
    logp_sum: torch.Tensor, n_tokens: torch.Tensor, beta: float, gamma: float
) -> torch.Tensor:
    """SimNPO (Fan et al. 2024, "Simplicity Prevails: Rethinking Negative Preference
    Optimization for LLM Unlearning", arXiv:2410.07163), reference-free and length-normalised:

    ``L = mean_b  -(2/beta) * log sigmoid(-(beta/|y|) * log pi(y|x) - gamma)``.
    """
    length = n_tokens.to(logp_sum.dtype).clamp(min=1)
    return (-(2.0 / beta) * F.logsigmoid(-(beta / length) * logp_sum - gamma)).mean()


def dpo_loss(
    chosen_logp: torch.Tensor,
    rejected_logp: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """Direct Preference Optimization (Rafailov et al. 2023, arXiv:2305.18290), eq. (7):

    ``L = mean_b  -log sigmoid(beta * ((chosen - ref_chosen) - (rejected - ref_rejected)))``.
    """
    margin = (chosen_logp - ref_chosen) - (rejected_logp - ref_rejected)
    return (-F.logsigmoid(beta * margin)).mean()


def token_kl(logits: torch.Tensor, ref_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over target positions of ``KL(p_ref || p_model)`` over the vocabulary, the retain
    regulariser of the KL baseline in TOFU (Maini et al. 2024, arXiv:2401.06121):

    ``KL = sum_v p_ref(v) * (log p_ref(v) - log p_model(v))``. Only positions that predict a
    target token count; only those rows are ever normalised.
    """
    mask = labels[:, 1:] != IGNORE_INDEX
    log_q = F.log_softmax(logits[:, :-1][mask].float(), dim=-1)
    log_p = F.log_softmax(ref_logits[:, :-1][mask].float(), dim=-1)
    kl = F.kl_div(log_q, log_p, reduction="none", log_target=True).sum(dim=-1)
    return kl.sum() / mask.sum().clamp(min=1)


def _masked_mse(h: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    per_position = (h.float() - target.float()).pow(2).mean(dim=-1)
    keep = mask.to(per_position.dtype)
    return (per_position * keep).sum() / keep.sum().clamp(min=1)


def rmu_forget_loss(h: torch.Tensor, control: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """RMU forget term (Li et al. 2024, "The WMDP Benchmark", arXiv:2403.03218), eq. (1):
    mean over unmasked positions of ``(1/D) * ||h_t - c||^2`` with ``c = steering * u/||u||``."""
    return _masked_mse(h, control.expand_as(h), mask)


def rmu_retain_loss(h: torch.Tensor, h_ref: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """RMU retain term (Li et al. 2024, arXiv:2403.03218), eq. (2): mean over unmasked positions
    of ``(1/D) * ||h_t - h_ref_t||^2``, ``h_ref`` from the frozen original model."""
    return _masked_mse(h, h_ref.detach(), mask)
