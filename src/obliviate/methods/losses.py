"""Pure tensor functions that unlearning losses are made of.

Conventions: ``logits`` are ``[B, T, V]`` from a causal LM, ``labels`` are ``[B, T]`` with
``-100`` (:data:`obliviate.data.types.IGNORE_INDEX`) at prompt and padding positions. As in
Hugging Face causal LMs, position ``t`` of the logits predicts ``labels[:, t + 1]``. Nothing here
ever averages over a masked position. Functions that work position by position also accept one
unbatched sequence (``logits [T, V]``, ``labels [T]``) or more leading axes; the row functions
take any ``[..., V]``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from obliviate.data.types import IGNORE_INDEX


def shift_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability of every next label token: ``(logp [B, T-1], mask [B, T-1] bool)``.

    ``logp[b, t] = log softmax(logits[b, t])[labels[b, t+1]]`` where the label is a target and 0
    elsewhere. Computed as ``gather - logsumexp`` so no ``[B, T, V]`` log-softmax is stored.
    """
    logits = logits[..., :-1, :].float()
    targets = labels[..., 1:]
    mask = targets != IGNORE_INDEX
    index = targets.clamp(min=0).unsqueeze(-1)  # -100 -> any valid index; masked below
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
    length = n_tokens.clamp(min=1)
    return (-(2.0 / beta) * F.logsigmoid(-(beta / length) * logp_sum - gamma)).mean()


def dpo_loss(
    chosen_logp: torch.Tensor,
    rejected_logp: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """Direct Preference Optimization (Rafailov et al. 2023, arXiv:2305.18290) as the unlearning
    literature runs it (NPO authors' code, open-unlearning's DPO, TOFU's IdkDPO):

    ``L = mean_b  -(2/beta) * log sigmoid(beta * ((chosen - ref_chosen) - (rejected - ref_rejected)))``.

    Rafailov et al.'s eq. (7) has no ``2/beta`` factor; with it the gradient keeps its size as
    beta shrinks (at margin 0 it is ``-(chosen - rejected)`` gradients, whatever beta), which is
    what the published unlearning runs used.
    """
    margin = (chosen_logp - ref_chosen) - (rejected_logp - ref_rejected)
    return (-(2.0 / beta) * F.logsigmoid(beta * margin)).mean()


def token_kl(logits: torch.Tensor, ref_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean over target positions of ``KL(p_ref || p_model)`` over the vocabulary, the retain
    regulariser of the KL baseline in TOFU (Maini et al. 2024, arXiv:2401.06121):

    ``KL = sum_v p_ref(v) * (log p_ref(v) - log p_model(v))``. Only positions that predict a
    target token count; only those rows are ever normalised.
    """
    rows, targets = target_rows(logits, labels)
    ref_rows, _ = target_rows(ref_logits, labels)
    kl = F.kl_div(log_probs(rows), log_probs(ref_rows), reduction="sum", log_target=True)
    return kl / max(targets.numel(), 1)


def _masked_mse(h: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per sequence, the mean over its unmasked positions of ``(1/D) ||h_t - target_t||^2``;
    then the mean over sequences (open-unlearning's RMU). A sequence without unmasked
    positions contributes 0."""
    per_position = (h.float() - target.float()).pow(2).mean(dim=-1)
    keep = mask.float()
    per_sequence = (per_position * keep).sum(dim=-1) / keep.sum(dim=-1).clamp(min=1)
    return per_sequence.mean()


def rmu_forget_loss(h: torch.Tensor, control: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """RMU forget term (Li et al. 2024, "The WMDP Benchmark", arXiv:2403.03218), eq. (1):
    mean over sequences of the mean over their unmasked positions of ``(1/D) * ||h_t - c||^2``
    with ``c = steering * u/||u||``."""
    return _masked_mse(h, control.expand_as(h), mask)


def rmu_retain_loss(h: torch.Tensor, h_ref: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """RMU retain term (Li et al. 2024, arXiv:2403.03218), eq. (2): as the forget term, with the
    target ``h_ref`` from the frozen original model."""
    return _masked_mse(h, h_ref.detach(), mask)


# --- token-distribution objectives (WHP, UNDIAL, CE-U, WGA) ------------------------------------

def log_probs(logits: torch.Tensor) -> torch.Tensor:
    """``log softmax`` over the vocabulary (the last axis) in float32, for any ``[..., V]``."""
    return F.log_softmax(logits.float(), dim=-1)


def target_rows(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows of ``logits`` that predict a target token, and those tokens: ``([N, V], [N])``.

    Row ``n`` is ``logits[b, t]`` for every ``(b, t)`` with ``labels[b, t + 1] != -100``, in
    row-major order, so rows taken from two models on the same batch line up.
    """
    targets = labels[..., 1:]
    mask = targets != IGNORE_INDEX
    return logits[..., :-1, :][mask], targets[mask]


def soft_cross_entropy(logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    """Mean over rows of ``-sum_v q(v) log softmax(logits)(v)`` for rows ``[N, V]`` (or any
    ``[..., V]``: the mean is over all positions); the targets ``q`` are treated as constants.
    Zero rows give 0."""
    log_p = log_probs(logits)
    q = target_probs.detach().float()
    # q log p with q = 0 and log p = -inf would be nan; such entries contribute nothing.
    terms = torch.where(q > 0, q * log_p, 0.0)
    return -terms.sum() / max(log_p.shape[:-1].numel(), 1)


def whp_generic_logits(base: torch.Tensor, reinforced: torch.Tensor, alpha: float) -> torch.Tensor:
    """Who's Harry Potter (Eldan and Russinovich 2023, arXiv:2310.02238), section 3:

    ``v_generic = v_baseline - alpha * ReLU(v_reinforced - v_baseline)``: every token the
    reinforced model likes more than the baseline is pushed down, in proportion to the gain.
    """
    base, reinforced = base.float(), reinforced.float()
    return base - alpha * torch.relu(reinforced - base)


def undial_targets(ref_logits: torch.Tensor, targets: torch.Tensor, gamma: float) -> torch.Tensor:
    """UNDIAL (Dong et al. 2024, arXiv:2402.10052), self-distillation with adjusted logits: the
    teacher distribution ``softmax(z_ref - gamma * onehot(y))`` for rows ``[N, V]`` and target
    tokens ``[N]`` (or any ``[..., V]`` and ``[...]``)."""
    z = ref_logits.detach().float()
    index = targets.unsqueeze(-1)
    adjusted = z.scatter(-1, index, z.gather(-1, index) - gamma)
    return F.softmax(adjusted, dim=-1)


def ceu_targets(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """CE-U (Yang et al. 2025, arXiv:2503.01224): the model's own distribution with the true
    token removed, ``q = softmax(z with z_y := -inf)``, detached; rows ``[N, V]`` (or any
    ``[..., V]`` with targets ``[...]``)."""
    masked = logits.detach().float().scatter(-1, targets.unsqueeze(-1), -math.inf)
    return F.softmax(masked, dim=-1)


def wga_loss(logits: torch.Tensor, labels: torch.Tensor, beta: float) -> torch.Tensor:
    """Weighted gradient ascent (Wang et al. 2025, "Rethinking LLM Unlearning Objectives",
    arXiv:2502.19301): ``L = mean_t  sg[p_t^beta] * log p_t`` over target tokens, with
    ``p_t = pi(y_t | y_<t, x)`` and ``sg`` stop-gradient. Minimising it is gradient ascent on the
    NLL in which tokens the model already finds unlikely get vanishing weight."""
    logp, mask = shift_logprobs(logits, labels)
    weight = (beta * logp.detach()).exp() * mask
    return (weight * logp).sum() / mask.sum().clamp(min=1)


def drop_first_targets(labels: torch.Tensor, n: int) -> torch.Tensor:
    """``labels`` with the first ``n`` target tokens of every row set to -100 (CE-U leaves out
    the first answer token: Yang et al. 2025, arXiv:2503.01224, footnote in section 4).
    ``n <= 0`` drops nothing."""
    targets = labels != IGNORE_INDEX
    first = targets & (targets.long().cumsum(dim=-1) <= n)
    return labels.masked_fill(first, IGNORE_INDEX)


def satimp_loss(logits: torch.Tensor, labels: torch.Tensor, beta1: float,
                beta2: float) -> torch.Tensor:
    """SatImp (Yang et al. 2025, "Exploring Criteria of Loss Reweighting to Enhance LLM
    Unlearning", ICML 2025, arXiv:2505.11953): gradient ascent in which each target token's
    log-likelihood is weighted by saturation ``p_t^beta1`` times importance ``(1 - p_t)^beta2``
    (both stop-gradient): ``L = mean_t  sg[p_t^beta1 (1 - p_t)^beta2] * log p_t``.
    Tokens already unlikely (saturated) and tokens the model is sure of get small weights."""
    logp, mask = shift_logprobs(logits, labels)
    p = logp.detach().exp()
    weight = p.pow(beta1) * (1.0 - p).pow(beta2) * mask
    return (weight * logp).sum() / mask.sum().clamp(min=1)


def pdu_forget_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """PDU's logit-margin flattening loss (Entesari et al. 2025, "Constrained Entropic
    Unlearning: A Primal-Dual Framework for Large Language Models", arXiv:2506.05314):
    mean over positions of ``(max_v z_t(v) - mean_v z_t(v))^2``, which is 0 exactly when the
    next-token distribution is uniform.

    As in the authors' code (open-unlearning ``PDU``), the positions are those whose *input*
    token is a target (``labels[:, t] != -100``, no shift): one position later than the
    positions that predict the targets."""
    z = logits.float()
    margin = z.max(dim=-1).values - z.mean(dim=-1)
    keep = (labels != IGNORE_INDEX).float()
    return (margin.pow(2) * keep).sum() / keep.sum().clamp(min=1)
