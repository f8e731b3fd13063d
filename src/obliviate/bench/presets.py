"""Bench presets for the three applications of unlearning (privacy, copyright, harm): YAML
files in ``configs/presets/`` whose keys are :class:`BenchOptions` fields; command-line flags
override them."""
from __future__ import annotations

import argparse
import dataclasses
import difflib
from pathlib import Path
from typing import Any

from obliviate.bench.runner import BenchOptions
from obliviate.config import TrainConfig, build, read_yaml
from obliviate.errors import ConfigError

PRESET_DIRS = [Path(__file__).resolve().parents[3] / "configs" / "presets",
               Path.cwd() / "configs" / "presets"]
PRESETS = ("privacy", "copyright", "harm")


def preset_path(name: str) -> Path:
    """A preset name (privacy, copyright, harm) or a YAML path -> the file."""
    if Path(name).suffix in (".yaml", ".yml"):
        return Path(name)
    for folder in PRESET_DIRS:
        if (folder / f"{name}.yaml").is_file():
            return folder / f"{name}.yaml"
    close = difflib.get_close_matches(name, PRESETS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown preset {name!r}.{hint} Known: {', '.join(PRESETS)} (in "
                      f"configs/presets/), or pass a YAML file.")


def load_preset(name: str) -> dict[str, Any]:
    raw = read_yaml(preset_path(name))
    raw.pop("description", None)
    valid = [f.name for f in dataclasses.fields(BenchOptions)]
    for key in raw:
        if key not in valid:
            raise ConfigError(f"unknown preset key {key!r}; valid keys: {', '.join(valid)}.")
    return raw


def _split_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _method_sets(raw: dict[str, Any], items: list[str]) -> None:
    """``npo.beta=0.2`` -> method_args; ``npo.train.lr=5e-5`` -> method_train."""
    import yaml
    for item in items:
        key, sep, value = item.partition("=")
        parts = key.split(".")
        if not sep or len(parts) < 2:
            raise ConfigError(f"--set {item!r} must look like METHOD.KEY=VALUE or "
                              f"METHOD.train.KEY=VALUE.")
        parsed = yaml.safe_load(value)
        if parts[1] == "train" and len(parts) == 3:
            raw.setdefault("method_train", {}).setdefault(parts[0], {})[parts[2]] = parsed
        else:
            raw.setdefault("method_args", {}).setdefault(parts[0], {})[parts[1]] = parsed


def options_from(args: argparse.Namespace) -> BenchOptions:
    """Preset (if any), then the command-line flags that were given."""
    raw = load_preset(args.preset) if args.preset else {}
    direct = {"benchmark": args.benchmark, "model": args.model, "source": args.source,
              "workdir": args.workdir, "device": args.device, "n_people": args.n_people,
              "seed": args.seed, "forget_corpus": args.forget_corpus,
              "retain_corpus": args.retain_corpus, "mmlu_source": args.mmlu_source,
              "max_new_tokens": args.max_new_tokens}
    raw.update({k: v for k, v in direct.items() if v is not None})
    for flag in ("methods", "forget"):
        if getattr(args, flag):
            raw[flag] = getattr(args, flag)
    for flag in ("methods", "forget"):
        if flag in raw:
            raw[flag] = _split_list(raw[flag])
    if args.muse_scal:
        raw["muse_scal"] = True
    if args.muse_sust:
        raw["muse_sust"] = True
    raw["progress"] = not args.no_progress
    ft = {"lr": args.lr, "epochs": args.epochs, "batch_size": args.batch_size,
          "max_length": args.max_length}
    un = {"lr": args.unlearn_lr, "max_steps": args.steps, "max_length": args.max_length}
    for name, given in (("finetune", ft), ("unlearn", un)):
        merged = _train_defaults(name) | dict(raw.get(name) or {})
        merged.update({k: v for k, v in given.items() if v is not None})
        raw[name] = build(TrainConfig, merged, f"{name}.")
    _method_sets(raw, args.set)
    if not raw.get("benchmark"):
        raise ConfigError("name a benchmark (obliviate bench synthetic) or a --preset.")
    if not raw.get("methods"):
        raise ConfigError("name the methods to compare: --methods graddiff,npo (or a --preset).")
    return BenchOptions(**raw)


def _train_defaults(name: str) -> dict[str, Any]:
    default = next(f for f in dataclasses.fields(BenchOptions) if f.name == name)
    return dataclasses.asdict(default.default_factory())
