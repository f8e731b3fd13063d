"""Resumable checkpoints: ``train.save_every`` steps, written atomically into the run's folder.

A checkpoint holds what the rest of the run depends on:

- the trained weights (every trainable parameter by name: all weights, the selected ones, or a
  LoRA adapter), ``weights.safetensors``;
- the optimizer and scheduler states and the RNG states (torch CPU and CUDA, the data
  generator, Python, NumPy), ``state.pt`` (loaded with ``weights_only=True``: no pickle code);
- the step, the number of micro-batches drawn, the step log and a fingerprint of the run
  (config, input weights, data), ``state.json``.

Data position: the engine's batch stream is a deterministic function of the seed and the data
(``training/batches.py``), so a resumed run rebuilds it from the seed and draws the same number
of micro-batches again, without computing anything, before the RNG states are restored. This
holds whatever the stream's shape, as long as methods do not draw from the data generator in
``loss`` (they draw from it only in ``setup``).

Layout: ``CHECKPOINTS/step-000900/`` plus ``CHECKPOINTS/latest.json`` naming it; the pointer is
replaced atomically (``os.replace``) only after the step folder is complete, then older step
folders are removed. A kill at any moment leaves the previous checkpoint usable.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from obliviate.errors import ConfigError, TrainingError

LATEST = "latest.json"


@dataclass
class ResumeState:
    """What a checkpoint gives back to the loop."""

    step: int
    micro: int
    tokens: int
    records: list[dict]
    accumulation_step: int = 0


def rng_states(generator: torch.Generator | None) -> dict[str, Any]:
    states: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        states["generator"] = generator.get_state()
    return states


def restore_rng(states: dict[str, Any], py: list, np_state: dict,
                generator: torch.Generator | None) -> None:
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    if generator is not None and "generator" in states:
        generator.set_state(states["generator"])
    random.setstate((py[0], tuple(py[1]), py[2]))
    np.random.set_state((np_state["kind"], np.array(np_state["keys"], dtype=np.uint32),
                         np_state["pos"], np_state["has_gauss"], np_state["cached"]))


def _python_states() -> tuple[list, dict]:
    version, keys, gauss = random.getstate()
    kind, np_keys, pos, has_gauss, cached = np.random.get_state()
    return ([version, list(keys), gauss],
            {"kind": kind, "keys": np_keys.tolist(), "pos": int(pos),
             "has_gauss": int(has_gauss), "cached": float(cached)})


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Every trainable parameter, by name, as a contiguous CPU copy."""
    return {name: p.detach().to("cpu").contiguous().clone()
            for name, p in model.named_parameters() if p.requires_grad}


class Checkpointer:
    """Saves every ``every`` steps into ``folder`` and resumes from it.

    ``fingerprint`` identifies the run (config, input weights, data): a checkpoint of another
    run is refused. ``resume`` says whether an existing checkpoint is to be loaded."""

    def __init__(self, folder: Path, every: int | None, fingerprint: str,
                 resume: bool = False) -> None:
        self.folder, self.every, self.fingerprint = Path(folder), every, fingerprint
        self.resume = resume

    def due(self, step: int, total: int) -> bool:
        return bool(self.every) and step % self.every == 0 and step < total

    def save(self, step: int, micro: int, model: torch.nn.Module, optimizer: Any,
             scheduler: Any, generator: torch.Generator | None, log: Any,
             accumulation_step: int = 0) -> Path:
        """Write step ``step``'s checkpoint completely, then point ``latest.json`` at it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"step-{step:07d}"
        final, work = self.folder / name, self.folder / f".{name}.writing"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        save_file(trainable_state(model), str(work / "weights.safetensors"))
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "rng": rng_states(generator)}, work / "state.pt")
        py, np_state = _python_states()
        meta = {"step": step, "micro": micro, "accumulation_step": accumulation_step,
                "tokens": log.tokens, "records": log.records,
                "fingerprint": self.fingerprint, "python_rng": py, "numpy_rng": np_state}
        (work / "state.json").write_text(json.dumps(meta))
        shutil.rmtree(final, ignore_errors=True)
        work.rename(final)
        _write_atomic(self.folder / LATEST, json.dumps({"step": step, "dir": name}))
        for old in self.folder.glob("step-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return final

    def latest(self) -> Path | None:
        pointer = self.folder / LATEST
        if not pointer.is_file():
            return None
        try:
            folder = self.folder / json.loads(pointer.read_text())["dir"]
        except (ValueError, KeyError, TypeError) as err:
            raise TrainingError(f"checkpoint pointer {pointer} is corrupt ({err}); start afresh "
                                "with overwrite=true") from None
        return folder if (folder / "state.json").is_file() else None

    def load(self, model: torch.nn.Module, optimizer: Any, scheduler: Any,
             generator: torch.Generator | None, skip: Any) -> ResumeState | None:
        """Restore the latest checkpoint into the live objects; ``skip(n)`` draws ``n``
        micro-batches from the batch stream. None when there is nothing to resume."""
        folder = self.latest() if self.resume else None
        if folder is None:
            return None
        meta = json.loads((folder / "state.json").read_text())
        if meta.get("fingerprint") != self.fingerprint:
            raise ConfigError(f"the checkpoint in {folder} belongs to another run (config, "
                              "model or data changed); resume with the same config, or start "
                              "afresh with overwrite=true")
        _load_weights(model, load_file(str(folder / "weights.safetensors")))
        state = torch.load(folder / "state.pt", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        skip(meta["micro"])
        restore_rng(state["rng"], meta["python_rng"], meta["numpy_rng"], generator)
        return ResumeState(meta["step"], meta["micro"], meta["tokens"], meta["records"],
                           meta.get("accumulation_step", 0))


def _load_weights(model: torch.nn.Module, saved: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in saved]
    if missing or any(n not in params for n in saved):
        raise ConfigError("the checkpoint's weights do not match the model's trainable "
                          f"parameters (e.g. {(missing or list(saved))[0]!r}); resume with the "
                          "same config")
    with torch.no_grad():
        for name, value in saved.items():
            params[name].copy_(value.to(params[name].device, params[name].dtype))


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def resume_loop(engine: Any, model: torch.nn.Module, optimizer: Any, scheduler: Any,
                stream: Any, log: Any, bar: Any) -> tuple[int, int]:
    """The engine's hook before its loop: (step, micro-batches drawn) to start from, after
    restoring the latest checkpoint when the engine has one to resume; (0, 0) otherwise."""
    ckpt, acc = engine.checkpoint, engine.accelerator
    if ckpt is None:
        return 0, 0

    def skip(n: int) -> None:
        for _ in range(n):
            next(stream)

    state = ckpt.load(acc.unwrap_model(model), optimizer, scheduler, engine.generator, skip)
    if state is None:
        return 0, 0
    acc.step = state.accumulation_step  # accelerate's gradient-accumulation counter
    log.restore(state.records, state.tokens)
    bar.update(state.step)
    return state.step, state.micro


def save_due(engine: Any, step: int, micro: int, total: int, model: torch.nn.Module,
             optimizer: Any, scheduler: Any, log: Any) -> None:
    """The engine's hook after each optimizer step: save when ``save_every`` says so."""
    ckpt, acc = engine.checkpoint, engine.accelerator
    if ckpt is not None and ckpt.due(step, total) and acc.is_main_process:
        ckpt.save(step, micro, acc.unwrap_model(model), optimizer, scheduler, engine.generator,
                  log, acc.step)


def has_checkpoint(run_folder: Path, name: str = "checkpoints") -> bool:
    return (Path(run_folder) / name / LATEST).is_file()
