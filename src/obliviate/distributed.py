"""The process world as obliviate sees it: who am I, how many are we, and agreeing on errors.

A run launched with ``accelerate launch`` or ``torchrun`` has ``WORLD_SIZE`` / ``RANK`` /
``LOCAL_RANK`` in its environment. :func:`world` joins that process group (through accelerate's
``PartialState``, gloo on CPU, NCCL on GPUs) the first time it is asked, so ``obliviate eval``
and ``obliviate run`` share one group. Without those variables everything here is a no-op for
one process.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import torch

from obliviate.errors import ObliviateError

T = TypeVar("T")


class World(NamedTuple):
    rank: int
    size: int
    backend: str | None


def launched() -> bool:
    """True when a launcher started several processes (``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def cpu_only() -> bool:
    """No CUDA device: accelerate must be told ``cpu=True`` to form a gloo group on CPUs."""
    return not torch.cuda.is_available()


def world() -> World:
    """This process's rank, the process count and the backend; joins the group when launched."""
    dist = torch.distributed
    if launched() and not (dist.is_available() and dist.is_initialized()):
        from accelerate import PartialState
        PartialState(cpu=cpu_only())
    if not (dist.is_available() and dist.is_initialized()):
        return World(0, 1, None)
    return World(dist.get_rank(), dist.get_world_size(), str(dist.get_backend()))


def is_main() -> bool:
    return world().rank == 0


def local_device(device: str | None) -> str | None:
    """``device`` for this process: under a multi-GPU launch each process takes its own GPU
    (``cuda:LOCAL_RANK``) instead of every process loading onto ``cuda:0``."""
    wants_cuda = device in (None, "auto", "cuda")
    if launched() and wants_cuda and torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return device


def gather(value: T) -> list[T]:
    """Every process's ``value`` (any picklable object), in rank order, on every process."""
    w = world()
    if w.size == 1:
        return [value]
    out: list[Any] = [None] * w.size
    torch.distributed.all_gather_object(out, value)
    return out


def barrier() -> None:
    if world().size > 1:
        torch.distributed.barrier()


def agree(step: Callable[[], T], what: str) -> T:
    """Run ``step`` on every process and fail on all of them when it fails on any.

    A user error (:class:`ObliviateError`) on one rank, say unreadable data on one node, would
    otherwise leave the other ranks waiting forever at their next collective call. Every rank
    reports how ``step`` went; if one failed, all raise the first failure's error, naming its
    rank, before anything is written.
    """
    failure: tuple[str, str] | None = None
    result: Any = None
    try:
        result = step()
    except ObliviateError as exc:
        if world().size == 1:
            raise
        failure = (type(exc).__name__, str(exc))
    reports = gather(failure)
    for rank, report in enumerate(reports):
        if report is not None:
            raise _rebuild(report[0], f"process {rank} of {len(reports)} failed while {what}: "
                                      f"{report[1]}")
    return result


def _rebuild(name: str, message: str) -> ObliviateError:
    from obliviate import errors
    cls = getattr(errors, name, ObliviateError)
    if not (isinstance(cls, type) and issubclass(cls, ObliviateError)):
        cls = ObliviateError
    return cls(message)
