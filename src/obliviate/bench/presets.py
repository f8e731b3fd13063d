"""Bench presets for the three applications of unlearning (privacy, copyright, harm): YAML
files shipped inside the package (``obliviate/bench/presets/*.yaml``, read with
:mod:`importlib.resources` so an installed wheel finds them) whose keys are
:class:`BenchOptions` fields; command-line flags override them. A preset may also be a YAML
file path, or a ``configs/presets/<name>.yaml`` in the working directory."""
from __future__ import annotations

import argparse
import dataclasses
import difflib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from obliviate.bench.runner import BenchOptions
from obliviate.config import TrainConfig, build, read_yaml
from obliviate.errors import ConfigError

#: Package holding the shipped preset files (``<name>.yaml``) and its folder inside it.
PRESET_PACKAGE, PRESET_FOLDER = "obliviate.bench", "presets"
PRESETS = ("privacy", "copyright", "harm")


def packaged_preset(name: str):
    """The shipped preset ``name`` as an :mod:`importlib.resources` Traversable, or None."""
    entry = resources.files(PRESET_PACKAGE).joinpath(PRESET_FOLDER, f"{name}.yaml")
    return entry if entry.is_file() else None


def preset_path(name: str):
    """A preset name (privacy, copyright, harm) or a YAML path -> the file (a Path, or a
    Traversable for a preset shipped in the package)."""
    if Path(name).suffix in (".yaml", ".yml"):
        return Path(name)
    shipped = packaged_preset(name)
    if shipped is not None:
        return shipped
    local = Path.cwd() / "configs" / "presets" / f"{name}.yaml"
    if local.is_file():
        return local
    close = difflib.get_close_matches(name, PRESETS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown preset {name!r}.{hint} Known: {', '.join(PRESETS)} (shipped in "
                      f"obliviate/bench/presets/), or pass a YAML file.")


def _read_preset(path) -> dict[str, Any]:
    if isinstance(path, Path):
        return read_yaml(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"preset {path.name} is not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"preset {path.name} must hold a mapping, not {type(raw).__name__}")
    return raw


def load_preset(name: str) -> dict[str, Any]:
    raw = _read_preset(preset_path(name))
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
              "max_new_tokens": args.max_new_tokens,
              "criterion": getattr(args, "criterion", None), "sweep": getattr(args, "sweep", None),
              "space": getattr(args, "space", None), "sweep_on": getattr(args, "sweep_on", None),
              "run_dir": getattr(args, "run_dir", None)}
    if getattr(args, "seeds", None):
        raw["seeds"] = [_seed(s) for s in _split_list(args.seeds)]
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
    from obliviate.methods import build_method

    for method in raw["methods"]:  # names and hyper-parameters, before any fine-tuning
        build_method(method, (raw.get("method_args") or {}).get(method, {}))
    return BenchOptions(**raw)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--seeds takes whole numbers separated by commas (0,1,2), got "
                          f"{text!r}") from None


def _train_defaults(name: str) -> dict[str, Any]:
    default = next(f for f in dataclasses.fields(BenchOptions) if f.name == name)
    return dataclasses.asdict(default.default_factory())
