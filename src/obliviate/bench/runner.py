"""``obliviate bench``: fine-tune (cached) the target and retain models, run each method on the
target for each forget split, evaluate every model with the benchmark's suite (forget quality
and PrivLeak against the retain model's results) and write the leaderboard."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from obliviate.bench.data import BenchData, Split
from obliviate.bench.finetune import cache_key, cached_finetune, cached_results
from obliviate.bench.leaderboard import headline_keys, make_row, write_leaderboard
from obliviate.bench.tiny import TINY_ARCH, TINY_NAME, write_tiny_model
from obliviate.config import DataConfig, RunConfig, TrainConfig
from obliviate.data.spec import DataSpec
from obliviate.errors import ConfigError
from obliviate.evaluation import dataset_hash, write_results
from obliviate.models import load_model, obliviate_home
from obliviate.training.select_expr import parse_constraint


#: Seeds a bench runs by default: the leaderboard is the median over them (``--seeds 0`` for a
#: single quick run).
DEFAULT_SEEDS = (0, 1, 2)
#: What ``--sweep`` scores a trial on: the first seed's run, or the median over every seed.
SWEEP_ON = ("first-seed", "all-seeds")


@dataclass
class BenchOptions:
    """Everything one bench run needs (the CLI and presets fill it)."""

    benchmark: str
    methods: list[str]
    model: str = TINY_NAME
    forget: list[str] = field(default_factory=lambda: ["10"])
    workdir: Path | None = None
    source: str | None = None
    n_people: int = 100
    seed: int = 0
    # defaults measured on synthetic / tiny (docs/benchmarks.md); epochs is a float so the
    # cache key is the same whether the settings come from here, a preset or the CLI
    finetune: TrainConfig = field(default_factory=lambda: TrainConfig(
        lr=3e-3, epochs=25.0, batch_size=16, warmup_steps=50, weight_decay=0.0, max_length=128))
    unlearn: TrainConfig = field(default_factory=lambda: TrainConfig(
        lr=2e-4, max_steps=240, batch_size=16, max_length=128))
    method_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    method_train: dict[str, dict[str, Any]] = field(default_factory=dict)
    device: str | None = None
    max_new_tokens: int = 48
    forget_corpus: str | None = None
    retain_corpus: str | None = None
    mmlu_source: str | None = None
    muse_scal: bool = False
    muse_sust: bool = False
    progress: bool = True
    # seeds (bench/seeds.py): ``seeds`` runs the whole bench once per seed (default 3 seeds;
    # one seed runs a single, unaggregated bench); ``run_seed`` is the one seed of such a run
    # (tiny model init, fine-tuning and unlearning; the data keep ``seed``); ``criterion``
    # (training/select_expr.py, over a leaderboard row) is what a seed must meet to count
    seeds: list[int] | None = field(default_factory=lambda: list(DEFAULT_SEEDS))
    run_seed: int | None = None
    criterion: str = "forget_quality > 0.05 and utility_vs_original >= 0.9"
    # tuning (bench/tuning.py): ``sweep`` trials per method and split before the leaderboard,
    # over ``space`` (a YAML file; default: per-method ranges around the unlearn settings),
    # scored on the first seed or on the median over all seeds (``sweep_on``)
    sweep: int = 0
    space: str | None = None
    sweep_on: str = "first-seed"
    tuned: dict[str, dict[str, Any]] = field(default_factory=dict)  # "split/method" -> settings
    # the run folder: None for a new one under ``workdir/runs``; an existing folder continues
    # the --sweep stored in it (its finished trials count) and rewrites the rest
    run_dir: Path | None = None

    def __post_init__(self) -> None:
        if not self.methods:
            raise ConfigError("bench needs at least one method (--methods npo,graddiff).")
        self.workdir = Path(self.workdir) if self.workdir else obliviate_home() / "bench"
        self.run_dir = Path(self.run_dir) if self.run_dir else None
        parse_constraint(self.criterion)  # a one-line error before any training
        if self.sweep < 0:
            raise ConfigError(f"--sweep takes a number of trials >= 0, got {self.sweep}")
        if self.sweep_on not in SWEEP_ON:
            raise ConfigError(f"--sweep-on takes {' or '.join(SWEEP_ON)}, got {self.sweep_on!r}")
        if self.seeds is not None and (not self.seeds or len(set(self.seeds)) != len(self.seeds)):
            raise ConfigError(f"--seeds takes one or more different seeds (0,1,2), got "
                              f"{self.seeds}")


def load_bench(opts: BenchOptions) -> BenchData:
    from obliviate.bench import data as d
    from obliviate.data.benchmarks import BENCHMARKS
    BENCHMARKS.get(opts.benchmark)  # "did you mean" for unknown names
    if opts.benchmark == "synthetic":
        return d.load_synthetic_bench(opts.workdir / "data", opts.forget, opts.n_people,
                                      opts.seed, from_scratch=opts.model == TINY_NAME)
    if opts.benchmark == "tofu":
        return d.load_tofu_bench(opts.source or "locuslab/TOFU", opts.forget)
    if opts.benchmark == "muse":
        bench = d.load_muse_bench(opts.source or "news")
        bench.splits += muse_extra_splits(bench.splits[0], opts.muse_scal, opts.muse_sust)
        return bench
    return d.load_wmdp_bench(opts.source or "cais/wmdp", opts.forget_corpus,
                             opts.retain_corpus, opts.mmlu_source)


def muse_extra_splits(base: Split, scal: bool, sust: bool, parts: int = 4) -> list[Split]:
    """MUSE C5 scalability (forget the first 1/4, 2/4, ... of the forget corpus, each run from
    the target) and C6 sustainability (forget the 4 quarters one after the other, each run
    from the previous one's output; ``sust-`` splits are chained by the runner)."""
    n = len(base.forget)
    out = []
    for i in range(1, parts + 1):
        if scal:
            out.append(replace(base, name=f"scal-{i}of{parts}", forget=base.forget[:n * i // parts]))
        if sust:
            out.append(replace(base, name=f"sust-{i}of{parts}",
                               forget=base.forget[n * (i - 1) // parts:n * i // parts]))
    return sorted(out, key=lambda s: s.name)


def base_model(opts: BenchOptions, bench: BenchData) -> tuple[str, str]:
    """(model spec, weights hash) of the model fine-tuning starts from."""
    if opts.model != TINY_NAME:
        loaded = load_model(opts.model, device=opts.device)
        return opts.model, loaded.weights_hash
    seed = opts.seed if opts.run_seed is None else opts.run_seed
    key = cache_key(TINY_ARCH, seed, sorted(set(bench.texts)))
    out = opts.workdir / "cache" / f"tiny-base-{key}"
    if not (out / "config.json").is_file():
        write_tiny_model(out, bench.texts, seed=seed)
    return str(out), key


def unlearn_run(opts: BenchOptions, method: str, start: str, split: Split,
                out: Path, suite: str = "default", reference: dict | None = None) -> Path:
    """Run ``method`` from model ``start`` on the split's forget (and retain) set; with
    ``train.eval_every`` it is evaluated during training on the split's evaluation sets with
    the benchmark's ``suite`` (``reference``: the retain model's results)."""
    from obliviate.training.periodic_eval import from_config
    from obliviate.models import load_model
    from obliviate.pipeline import RunSets, unlearn
    tuned = opts.tuned.get(f"{split.name}/{method}", {})
    train = TrainConfig(**{**asdict(opts.unlearn), **opts.method_train.get(method, {}),
                           **tuned.get("train", {})})
    args = {**opts.method_args.get(method, {}), **tuned.get("method_args", {})}
    config = RunConfig(model=start, method=method, method_args=args,
                       data=DataConfig(forget=DataSpec(f"{opts.benchmark}:{split.name}:forget")),
                       train=train, output_dir=str(out), overwrite=True, device=opts.device)
    sets = RunSets(forget=split.forget, forget_format=split.data_format,
                   retain=split.retain, retain_format=split.data_format)
    loaded = load_model(start, device=opts.device)
    periodic = from_config(train, loaded.tokenizer, split.eval_sets, suite, reference,
                           opts.max_new_tokens)
    if periodic is not None:
        periodic.evaluate_original(loaded.model)
    return unlearn(config, loaded=loaded, progress=opts.progress, sets=sets, periodic=periodic)


def with_run_seed(opts: BenchOptions, seed: int) -> BenchOptions:
    """``opts`` for one seed: tiny model init, fine-tuning and unlearning seeded by ``seed``."""
    return replace(opts, seeds=None, run_seed=seed, finetune=replace(opts.finetune, seed=seed),
                   unlearn=replace(opts.unlearn, seed=seed))


def run_bench(opts: BenchOptions, out_dir: Path | None = None) -> tuple[list[dict[str, Any]], Path]:
    """Run the benchmark; returns the leaderboard rows and the folder it was written to."""
    if opts.seeds and len(opts.seeds) > 1:
        from obliviate.bench.seeds import run_seeds
        return run_seeds(opts)
    if opts.seeds:  # one seed: a plain bench seeded by it
        opts = with_run_seed(opts, opts.seeds[0])
    bench = load_bench(opts)
    eval_kw = eval_options(opts)
    total = len(bench.splits) * (len(opts.methods) + 2)
    bar = tqdm(total=total, desc=f"bench {opts.benchmark}", unit="run",
               disable=not opts.progress)
    bar.set_postfix_str("fine-tuning the target model")
    base, base_hash, target = target_model(opts, bench)
    out_dir = out_dir or new_run_dir(opts)
    rows: list[dict[str, Any]] = []
    chained: dict[str, str] = {}
    for split in bench.splits:
        rows += _split_rows(opts, bench, split, base, base_hash, target, out_dir, eval_kw,
                            chained, bar)
    bar.close()
    write_leaderboard(rows, out_dir)
    (out_dir / "bench.json").write_text(json.dumps(_describe(opts, bench, base, target),
                                                   indent=2, default=str) + "\n")
    return rows, out_dir


def eval_options(opts: BenchOptions) -> dict[str, Any]:
    return {"max_new_tokens": opts.max_new_tokens, "max_length": opts.finetune.max_length,
            "device": opts.device}


def target_model(opts: BenchOptions, bench: BenchData) -> tuple[str, str, str]:
    """(base model, its hash, target model): the target fine-tuned once and cached."""
    base, base_hash = base_model(opts, bench)
    if not bench.full_train:
        return base, base_hash, base
    target = cached_finetune(base, base_hash, bench.full_train, opts.workdir / "cache",
                             "target", opts.finetune, bench.data_format, opts.device,
                             opts.progress)
    return base, base_hash, str(target)


def references(opts: BenchOptions, bench: BenchData, split: Split, base: str, base_hash: str,
               target: str, eval_kw: dict[str, Any]) -> tuple[dict | None, dict[str, Any]]:
    """(retain model's results or None, original model's results) on ``split``, cached."""
    retain_results = None
    if split.retain_train:
        retain_dir = cached_finetune(base, base_hash, split.retain_train, opts.workdir / "cache",
                                     f"retain-{split.name}", opts.finetune, split.data_format,
                                     opts.device, opts.progress)
        retain_results = cached_results(retain_dir, split.name, split.eval_sets, bench.suite,
                                         None, self_reference=True, **eval_kw)
    original = cached_results(Path(target), split.name, split.eval_sets, bench.suite,
                              retain_results, **eval_kw) if Path(target).is_dir() else \
        _eval_spec(target, split, bench, retain_results, eval_kw)
    return retain_results, original


def new_run_dir(opts: BenchOptions) -> Path:
    """``opts.run_dir`` when given (created if missing, kept if there), else a new folder
    ``workdir/runs/<benchmark>-<time>``, suffixed ``-2``, ``-3``... when a bench started in the
    same second already holds that name (the folder is claimed by creating it)."""
    if opts.run_dir is not None:
        opts.run_dir.mkdir(parents=True, exist_ok=True)
        return opts.run_dir
    runs = opts.workdir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    stem = f"{opts.benchmark}-{time.strftime('%Y%m%d-%H%M%S')}"
    for n in range(1, 1000):
        path = runs / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise ConfigError(f"{runs} holds 999 runs named {stem}*; choose another --workdir")


def _split_rows(opts, bench, split, base, base_hash, target, out_dir, eval_kw, chained, bar):
    bar.set_postfix_str(f"{split.name}: retain and original models")
    retain_results, original = references(opts, bench, split, base, base_hash, target, eval_kw)
    collected: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    if retain_results is not None:
        collected.append(("retain", "retain", retain_results, {}))
    collected.append(("original", "original", original, {}))
    bar.update(2)
    for method in opts.methods:
        bar.set_postfix_str(f"{split.name}: {method}")
        start = chained.get(method, target) if split.name.startswith("sust-") else target
        run = out_dir / split.name / method
        if opts.sweep and f"{split.name}/{method}" not in opts.tuned:
            from obliviate.bench.tuning import tune_method, write_tuned
            bar.set_postfix_str(f"{split.name}: tuning {method} ({opts.sweep} trials)")
            opts.tuned[f"{split.name}/{method}"] = tune_method(
                opts, method, start, split, bench.suite, retain_results, original,
                out_dir / split.name / f"sweep-{method}")
            write_tuned(opts.tuned, out_dir)
        done = unlearn_run(opts, method, start, split, run, bench.suite, retain_results)
        if split.name.startswith("sust-"):
            chained[method] = str(done)
        results = cached_results(done, split.name, split.eval_sets, bench.suite,
                                 retain_results, **eval_kw)
        write_results(done / "results.json", results)
        info = json.loads((done / "run.json").read_text())
        collected.append((method, "unlearned", results, {
            "steps": info.get("steps"), "wall_time_s": info.get("wall_time_s"),
            **tuned_columns(opts.tuned.get(f"{split.name}/{method}"))}))
        bar.update(1)
    keys = headline_keys(bench.suite, [c[2] for c in collected])
    util = "model_utility" if "model_utility" in keys else None
    base_util = (original.get("metrics", {}).get(util) or {}).get("value") if util else None
    rows = []
    for method, kind, results, extra in collected:
        if util:
            mu = (results.get("metrics", {}).get(util) or {}).get("value")
            ratio = mu / base_util if mu is not None and base_util else None
            extra = {**extra, "utility_vs_original": ratio}
        rows.append(make_row(bench.name, split.name, method, kind, results, keys, extra))
    return rows


def tuned_columns(tuned: dict[str, Any] | None) -> dict[str, Any]:
    """Leaderboard columns naming the settings a --sweep chose (none without one)."""
    if not tuned:
        return {}
    values = {**tuned.get("train", {}), **tuned.get("method_args", {})}
    return {"tuned": " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in values.items())}


def _eval_spec(spec, split, bench, reference, eval_kw):
    from obliviate.bench.finetune import evaluate_model
    loaded = load_model(spec, device=eval_kw.get("device"))
    kw = {k: v for k, v in eval_kw.items() if k != "device"}
    return evaluate_model(loaded, split.eval_sets, bench.suite, reference, **kw)


def _describe(opts: BenchOptions, bench: BenchData, base: str, target: str) -> dict[str, Any]:
    return {"benchmark": bench.name, "suite": bench.suite, "base_model": base,
            "target_model": target, "options": asdict(opts),
            "splits": {s.name: {"forget": len(s.forget), "retain": len(s.retain or []),
                                "eval_sets": {k: dataset_hash(v) for k, v in s.eval_sets.items()}}
                       for s in bench.splits}}
