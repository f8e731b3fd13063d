"""Run configuration: dataclasses, YAML files and ``key=value`` overrides, with clear errors.

A config file is YAML whose keys mirror :class:`RunConfig`; any key can be overridden on the
command line as ``train.lr=1e-5`` or ``method=npo``. Values are parsed as YAML scalars.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from obliviate.data.prompting import PromptFormat
from obliviate.data.spec import DataSpec
from obliviate.errors import ConfigError


@dataclass
class SelectConfig:
    """Which evaluated checkpoint a run keeps (``train.select``, with ``train.eval_every``).

    metric: the metric key to optimise (e.g. ``forget_quality``, ``forget/answer_prob``).
    mode: ``max`` or ``min``.
    constraint: an expression every kept checkpoint must meet, over metric keys, numbers,
        ``+ - * /``, comparisons and ``and``; ``original`` is the original model's value of the
        comparison's left-hand metric, ``original(key)`` of any metric
        (e.g. ``"model_utility >= 0.9 * original"``). Parsed by ``training/select_expr.py``.
    """

    metric: str = "forget_quality"
    mode: Literal["max", "min"] = "max"
    constraint: str | None = None

    def __post_init__(self) -> None:
        from obliviate.training.select_expr import parse_constraint

        if not self.metric:
            raise ConfigError("train.select.metric must name a metric, e.g. forget_quality")
        if self.constraint is not None:
            parse_constraint(self.constraint)  # a ConfigError when it does not parse


@dataclass
class TrainConfig:
    """How the engine trains. ``max_steps`` (optimizer steps) wins over ``epochs`` when set; one
    epoch is one pass over the forget set (retain batches are drawn alongside)."""

    lr: float = 1e-5
    max_steps: int | None = None
    epochs: float = 1.0
    batch_size: int = 4
    grad_accum: int = 1
    warmup_steps: int = 0
    scheduler: Literal["constant", "linear", "cosine"] = "linear"
    weight_decay: float = 0.01
    max_grad_norm: float | None = 1.0
    seed: int = 42
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = "auto"
    gradient_checkpointing: bool = False
    max_length: int = 512
    report_to: list[str] = field(default_factory=list)
    save_every: int | None = None  # optimizer steps between resumable checkpoints (--resume)
    # evaluation during training (training/periodic_eval.py): every ``eval_every`` steps,
    # teacher-forced metrics plus ``eval_metrics`` and what ``select`` names; ``select`` keeps
    # the best checkpoint, ``patience`` stops after that many evaluations without a better one
    eval_every: int | None = None
    eval_metrics: list[str] | None = None
    select: SelectConfig | None = None
    patience: int | None = None
    compile: bool = False  # torch.compile the decoder body (training/compile.py)

    def __post_init__(self) -> None:
        _positive(self, "lr", "batch_size", "grad_accum", "max_length", "epochs")
        _finite(self, "weight_decay", "max_grad_norm")
        check_trackers(self.report_to)
        if self.save_every is not None and self.save_every < 1:
            raise ConfigError(f"train.save_every must be at least 1 step, got {self.save_every}")
        _check_eval_keys(self)
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"train.max_steps must be at least 1, got {self.max_steps}")
        if self.warmup_steps < 0:
            raise ConfigError(f"train.warmup_steps must be >= 0, got {self.warmup_steps}")


@dataclass
class DataConfig:
    """The sets a run uses. Only ``forget`` is required; ``refusals`` is a text file with one
    refusal sentence per line (the shipped set when omitted)."""

    forget: DataSpec | None = None
    retain: DataSpec | None = None
    holdout: DataSpec | None = None
    probes: DataSpec | None = None
    refusals: str | None = None


@dataclass
class LocalizeConfig:
    """Which weights may change, for any method (``localize.modules=...``, ``localize.saliency=...``).

    modules: a regular expression searched (``re.search``) in each parameter name, e.g.
        ``".*layers\\.[23]\\..*mlp.*"``; parameters that do not match stay frozen. With LoRA the
        names are the adapter's (``...layers.2.self_attn.q_proj.lora_A.default.weight``).
    saliency: SalUn's gradient saliency (Fan et al. 2024, arXiv:2310.12508): before training, the
        gradient of the forget NLL over the whole forget set is computed once, and only this
        fraction (0 < saliency <= 1) of the selected weights, those with the largest ``|grad|``
        under one global threshold, may change; every other entry is restored bit for bit after
        each optimizer step (so weight decay cannot move it either).
    """

    modules: str | None = None
    saliency: float | None = None

    def __post_init__(self) -> None:
        if self.modules is not None:
            if not self.modules:
                raise ConfigError("localize.modules must be a non-empty regular expression")
            try:
                re.compile(self.modules)
            except re.error as err:
                raise ConfigError(f"localize.modules {self.modules!r} is not a valid regular "
                                  f"expression: {err}") from None
        if self.saliency is not None and not 0 < self.saliency <= 1:
            raise ConfigError(f"localize.saliency must be a fraction in (0, 1], got {self.saliency}")


@dataclass
class LoraSettings:
    """Train a LoRA adapter (Hu et al. 2021, arXiv:2106.09685) through peft instead of all weights.

    enabled: turn LoRA on (``lora.enabled=true``); every other key only takes effect with it.
    r, alpha, dropout: rank, scaling numerator (scale = alpha / r) and dropout of the adapter.
    target_modules: module names to adapt, or ``"all-linear"``.
    merge: save a full model with the adapter merged in; otherwise only the adapter is saved
        (``adapter_config.json`` + ``adapter_model.safetensors``; ``load_model(out)`` loads
        base + adapter). A reference model (KL, RMU, WHP) is the same model with the adapter
        disabled, not a copy.
    """

    enabled: bool = False
    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    target_modules: list[str] | str = field(default_factory=lambda: ["q_proj", "v_proj"])
    merge: bool = False

    def __post_init__(self) -> None:
        if self.r < 1:
            raise ConfigError(f"lora.r must be at least 1, got {self.r}")
        if self.alpha <= 0:
            raise ConfigError(f"lora.alpha must be positive, got {self.alpha}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"lora.dropout must be in [0, 1), got {self.dropout}")
        names = [self.target_modules] if isinstance(self.target_modules, str) else self.target_modules
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise ConfigError("lora.target_modules must be a module name, a non-empty list of "
                              f"module names or 'all-linear', got {self.target_modules!r}")


@dataclass
class LmEvalConfig:
    """lm-evaluation-harness tasks run on the model in memory, before and/or after (``eval``).

    tasks: lm-eval task or group names (``lm_eval.tasks=[wmdp_bio,mmlu]``); needs
        ``pip install 'obliviate[lm-eval]'``. Metrics land as ``lm_eval/<task>/<metric>``.
    include_path: a folder of extra task YAML files (local tasks, e.g. ``dataset_path: json``).
    limit: use the first N documents of each task (for quick checks; not comparable numbers).
    batch_size: lm-eval's batch size.
    num_fewshot: override the tasks' number of few-shot examples.
    """

    tasks: list[str] = field(default_factory=list)
    include_path: str | None = None
    limit: int | None = None
    batch_size: int = 8
    num_fewshot: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tasks, list) or not all(isinstance(t, str) and t for t in self.tasks):
            raise ConfigError(f"lm_eval.tasks must be a list of task names, got {self.tasks!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"lm_eval.limit must be at least 1, got {self.limit}")
        if self.batch_size < 1:
            raise ConfigError(f"lm_eval.batch_size must be at least 1, got {self.batch_size}")


@dataclass
class RunConfig:
    """Everything ``obliviate run`` needs."""

    model: str = "smollm2-135m-instruct"
    method: str = "ga"
    method_args: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "adamw"
    optimizer_args: dict[str, Any] = field(default_factory=dict)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output_dir: str | None = None
    overwrite: bool = False
    eval: Literal["none", "after", "before_after"] = "none"
    eval_suite: str = "default"
    eval_max_new_tokens: int = 64
    retain_results: str | None = None
    device: str | None = None
    dtype: str | None = None
    trust_remote_code: bool = False
    allow_pickle: bool = False  # load pickle weights (.bin); they can run code when loaded
    localize: LocalizeConfig = field(default_factory=LocalizeConfig)
    lora: LoraSettings = field(default_factory=LoraSettings)
    prompt: PromptFormat = field(default_factory=PromptFormat)  # data/prompting.py
    lm_eval: LmEvalConfig = field(default_factory=LmEvalConfig)
    push_to_hub: str | None = None

    def __post_init__(self) -> None:
        if self.data.forget is None:
            raise ConfigError("data.forget is required: the set the model must forget "
                              "(e.g. data.forget=forget.jsonl)")
        if not self.lora.enabled and self.lora != LoraSettings():
            raise ConfigError("lora settings are given but LoRA is off; add lora.enabled=true "
                              "to train an adapter")
        if self.push_to_hub is not None and not REPO_ID.fullmatch(str(self.push_to_hub)):
            raise ConfigError(f"push_to_hub must be a Hugging Face repository id like "
                              f"org/name, got {self.push_to_hub!r}")
        if self.lm_eval.tasks and self.eval == "none":
            raise ConfigError("lm_eval.tasks is set but eval=none; set eval=after or "
                              "eval=before_after to run the lm-eval tasks")


TRACKERS = ("tensorboard", "wandb", "mlflow")
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def check_trackers(names: object) -> None:
    """``train.report_to`` must be a list of known tracker names."""
    if not isinstance(names, list) or any(n not in TRACKERS for n in names):
        raise ConfigError(f"train.report_to must be a list drawn from {', '.join(TRACKERS)}; "
                          f"got {names!r}")


def _check_eval_keys(cfg: TrainConfig) -> None:
    if isinstance(cfg.select, dict):  # e.g. TrainConfig(**asdict(other))
        cfg.select = build(SelectConfig, cfg.select, "train.select.")
    for name in ("eval_every", "patience"):
        value = getattr(cfg, name)
        if value is not None and (isinstance(value, bool) or value < 1):
            raise ConfigError(f"train.{name} must be a whole number >= 1, got {value!r}")
    if cfg.eval_every is None and (cfg.select is not None or cfg.patience is not None):
        raise ConfigError("train.select and train.patience act on evaluations during training: "
                          "set train.eval_every (steps between evaluations) too")
    if cfg.patience is not None and cfg.select is None:
        raise ConfigError("train.patience counts evaluations without a better checkpoint under "
                          "train.select: set train.select (e.g. {metric: forget_quality, mode: "
                          "max}) too")
    if cfg.eval_metrics is not None and (not isinstance(cfg.eval_metrics, list) or not all(
            isinstance(k, str) and k for k in cfg.eval_metrics)):
        raise ConfigError(f"train.eval_metrics must be a list of metric keys, got "
                          f"{cfg.eval_metrics!r}")


def _positive(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if not value > 0 or not math.isfinite(value):  # NaN fails both comparisons
            raise ConfigError(f"train.{name} must be positive and finite, got {value}")


def _finite(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"train.{name} must be a finite number >= 0, got {value}")


def load_config(path: str | Path | None, overrides: list[str] = ()) -> RunConfig:
    """Read a YAML file (or start empty), apply ``key=value`` overrides, build and check."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = read_yaml(path)
    for item in overrides:
        apply_override(raw, item)
    return build(RunConfig, raw, "")


def read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} does not exist")
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{p} is not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{p} must hold a mapping of keys to values, not {type(raw).__name__}")
    return raw


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Set ``a.b.c=value`` in a nested dict; the value is parsed as a YAML scalar or list."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"override {item!r} must look like key=value (e.g. train.lr=1e-5)")
    *parents, leaf = key.strip().split(".")
    node = raw
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {} if child is None else {"path": child}
            node[part] = child
        node = child
    try:
        node[leaf] = yaml.safe_load(value)
    except yaml.YAMLError:
        node[leaf] = value


def build(cls: type, raw: Any, where: str) -> Any:
    """Build dataclass ``cls`` from a dict, checking key names and value types."""
    if isinstance(raw, cls):
        return raw
    if cls is DataSpec:
        return DataSpec.from_value(raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'the config'} must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in raw.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown config key {where + str(key)!r}.{hint} "
                              f"Valid keys here: {', '.join(names)}.")
        kwargs[key] = _convert(hints[key], value, where + key)
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, where)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where + ".")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where} must be one of {', '.join(map(str, args))}; got {value!r}")
        return value
    if hint is float and not isinstance(value, bool):
        try:
            return float(value)  # YAML reads "1e-5" as a string
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if hint in (int, bool, str) and not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{where} must be {hint.__name__}, got {value!r}")
    if origin is dict and not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping, got {value!r}")
    return value


def to_dict(config: Any) -> Any:
    """A plain, YAML-ready view of a config (dataclasses become dicts)."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, dict):
        return {k: to_dict(v) for k, v in config.items()}
    return config
