"""The step log: averaged loss parts per optimizer step, kept in memory and as JSON lines."""
from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable

from obliviate.methods.base import LossOutput


class StepLog:
    def __init__(self, path: str | None, on_record: Callable[[dict], None] | None = None) -> None:
        self.on_record = on_record  # e.g. experiment trackers (training/trackers.py)
        self.records: list[dict] = []
        self.tokens = 0
        self._sums: dict[str, float] = defaultdict(float)
        self._count = 0
        self._shown_evals: dict[str, float] = {}
        self._start = time.perf_counter()
        self._file = open(path, "w") if path else None

    def restore(self, records: list[dict], tokens: int) -> None:
        """Continue a resumed run's log: its earlier records, token count and elapsed time."""
        self.records, self.tokens = list(records), tokens
        if records:
            self._start -= float(records[-1].get("elapsed_s", 0.0))
        if self._file:
            self._file.writelines(json.dumps(r) + "\n" for r in records)
            self._file.flush()

    def add_micro(self, out: LossOutput, micro: dict, tokens: int | None = None) -> None:
        """Accumulate one micro-batch's loss parts and token count (``tokens`` when given,
        e.g. summed over processes, else counted from ``micro``)."""
        self._sums["loss"] += float(out.loss.detach())
        for key, value in out.parts.items():
            self._sums[key] += float(value)
        self._count += 1
        if tokens is None:
            tokens = sum(int(b["attention_mask"].sum()) for b in micro.values())
        self.tokens += tokens

    def end_step(self, step: int, lr: float,
                 evals: dict[str, float] | None = None) -> dict[str, str]:
        """Close an optimizer step; return short strings for the progress bar. ``evals``
        (metrics evaluated at this step) are logged as ``eval/<key>``."""
        record = {"step": step, "lr": lr}
        record.update({k: v / self._count for k, v in self._sums.items()})
        record.update({f"eval/{k}": v for k, v in (evals or {}).items()})
        if evals:
            self._shown_evals = dict(list(evals.items())[:3])
        record.update(tokens=self.tokens, elapsed_s=round(time.perf_counter() - self._start, 3))
        self.records.append(record)
        if self._file:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        if self.on_record is not None:
            self.on_record(record)
        self._sums.clear()
        self._count = 0
        shown = ("loss", "forget_nll", "retain_loss")
        bar = {k: f"{record[k]:.3f}" for k in shown if k in record}
        return bar | {k.split("/")[-1]: f"{v:.3g}" for k, v in self._shown_evals.items()
                      if isinstance(v, float)}

    def close(self) -> None:
        if self._file:
            self._file.close()
