"""``train.compile``: ``torch.compile`` the decoder body of the trained model.

Only the body (embeddings and decoder blocks) is compiled, in place: the output layer stays an
eager module, so :func:`obliviate.models.head.logits_at` can still hand it the labelled positions
alone, and parameter names, hooks and saving are unchanged. Worth it on a GPU, where a small
model is bound by kernel launches; on a CPU the first steps pay the compilation.
"""
from __future__ import annotations

from torch import nn

#: The ``torch.compile`` backend; "inductor" generates fused kernels.
BACKEND = "inductor"


def decoder_body(model: nn.Module) -> nn.Module:
    """The transformer body under the LM head (``get_decoder()``), also under PEFT; the whole
    model when it does not say."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    getter = getattr(inner, "get_decoder", None)
    body = getter() if callable(getter) else None
    return body if isinstance(body, nn.Module) else model


def compile_decoder(model: nn.Module, backend: str | None = None) -> nn.Module:
    """Compile the decoder body of ``model`` in place (``nn.Module.compile``); returns the body."""
    body = decoder_body(model)
    body.compile(backend=backend or BACKEND, dynamic=True)
    return body
