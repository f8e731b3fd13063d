"""Split a batched pass across processes and gather its per-item values in the input order.

The passes this serves (scoring, generation, reference log-probs) batch their items in a fixed
way: sorted by length, longest first (stable), then cut into ``batch_size`` chunks; or, with no
length, in input order. :func:`map_sharded` forms exactly those chunks and deals them out
round-robin (chunk ``c`` to process ``c % N``), so each process runs the same batches a single
process would have run, with the same padding, and the gathered values are those of a
one-process run, bit for bit on a deterministic device. One process: ``compute(items)``.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from obliviate.data.types import TokenizedExample
from obliviate.distributed import gather, world
from obliviate.evaluation.generation import generate
from obliviate.evaluation.scoring import TokenScores, score

T = TypeVar("T")
V = TypeVar("V")
_LOCAL = [False]


@contextlib.contextmanager
def local_only() -> Iterator[None]:
    """Inside, every pass runs whole on this process, as without a launcher: for code that
    evaluates on one process of a group (say the main one, mid-training) while the others do
    not take part. Outside, evaluating under a launcher is collective: every process must call
    it."""
    before, _LOCAL[0] = _LOCAL[0], True
    try:
        yield
    finally:
        _LOCAL[0] = before


def chunk_order(n: int, batch_size: int, length: Callable[[int], int] | None) -> list[list[int]]:
    """The batches (lists of item indices) a one-process pass would run."""
    order = list(range(n))
    if length is not None:
        order.sort(key=length, reverse=True)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def my_indices(n: int, batch_size: int, rank: int, size: int,
               length: Callable[[int], int] | None = None) -> list[int]:
    """The item indices process ``rank`` of ``size`` handles, in the order it should pass them
    on (still longest first, so its own batching reproduces the chunks)."""
    chunks = chunk_order(n, batch_size, length)
    return [i for chunk in chunks[rank::size] for i in chunk]


def map_sharded(items: Sequence[T], compute: Callable[[list[T]], list[V]], batch_size: int,
                length: Callable[[T], int] | None = None) -> list[V]:
    """``compute`` (a batched pass that returns one value per item, in its input's order) run
    over ``items`` split across processes; every process gets all values in ``items``' order."""
    w = world()
    if w.size == 1 or _LOCAL[0]:
        return compute(list(items))
    key = (lambda i: length(items[i])) if length is not None else None
    mine = my_indices(len(items), batch_size, w.rank, w.size, key)
    values = compute([items[i] for i in mine]) if mine else []
    out: list[V | None] = [None] * len(items)
    for indices, part in zip(gather(mine), gather(values)):
        for i, value in zip(indices, part):
            out[i] = value
    return out  # type: ignore[return-value]


def score_sharded(model, items: list[TokenizedExample], pad_token_id: int,
                  batch_size: int = 8) -> TokenScores:
    """:func:`~obliviate.evaluation.scoring.score` with its batches split across processes."""
    def compute(local: list[TokenizedExample]) -> list[tuple]:
        part = score(model, local, pad_token_id, batch_size)
        return list(zip(part.logp, part.correct, part.mu, part.sigma))

    rows = map_sharded(items, compute, batch_size, length=lambda it: len(it.input_ids))
    columns = list(zip(*rows)) if rows else [[], [], [], []]
    return TokenScores(*(list(c) for c in columns))


def generate_sharded(model, tokenizer, prompts: list[list[int]], max_new_tokens: int,
                     batch_size: int = 8) -> list[str]:
    """:func:`~obliviate.evaluation.generation.generate` with its batches split across
    processes (token-id prompts, sorted by length as ``generate`` sorts them)."""
    return map_sharded(prompts, lambda local: generate(model, tokenizer, local, max_new_tokens,
                                                       batch_size), batch_size, length=len)
