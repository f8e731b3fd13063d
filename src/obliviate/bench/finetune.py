"""Fine-tuning the gold standards with the engine's ``sft`` method (plain NLL): the *target*
model (all data, ``full``) and the *retain* model (retain data only, ``retainNN``), the
reference that TOFU's forget quality (Maini et al. 2024, arXiv:2401.06121) and MUSE's PrivLeak
(Shi et al. 2024, arXiv:2407.06460) compare against. Models are cached under a key made of
the base model, the hash of the training data and the training settings."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from obliviate.config import TrainConfig
from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import Example
from obliviate.data.prompting import PromptFormat, prompt_format_of
from obliviate.evaluation import ScoreCache, build_results, dataset_hash, evaluate, write_results
from obliviate.evaluation.results import comparable_fields
from obliviate.evaluation.suites import resolve_suite
from obliviate.evaluation.suites_benchmarks import without_reference
from obliviate.methods import build_method
from obliviate.models import LoadedModel, load_model, save_model
from obliviate.outputs import atomic_dir
from obliviate.training import Engine, TrainingData


def cache_key(*parts: Any) -> str:
    """First 16 hex digits of the SHA-256 of the parts' canonical JSON."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def finetune(loaded: LoadedModel, examples: list[Example], out: Path, train: TrainConfig,
             data_format: str = "qa", progress: bool = True) -> Path:
    """Fine-tune ``loaded.model`` in place on ``examples`` (method ``sft``) and save it, its
    tokenizer and ``run.json`` into ``out`` (written under a temporary name, then renamed)."""
    engine = Engine(build_method("sft"), train, progress=progress)
    data = TrainingData(forget=tokenize_examples(examples, loaded.tokenizer, train.max_length,
                                                 data_format))
    with atomic_dir(out) as tmp:
        result = engine.fit(loaded.model, data, loaded.tokenizer.pad_token_id)
        model = engine.accelerator.unwrap_model(loaded.model).eval()
        save_model(model, loaded.tokenizer, tmp)
        info = {"method": "sft", "base_model": loaded.name, "steps": result.steps,
                "n_examples": len(examples), "data_hash": dataset_hash(examples),
                "train": asdict(train), "wall_time_s": round(result.wall_time_s, 3),
                "tokens_processed": result.tokens_processed,
                "trainable_parameters": result.trainable_parameters,
                "total_parameters": result.total_parameters,
                "peak_memory_mb": round(result.peak_memory_mb, 1),
                "final_loss": (result.log[-1] if result.log else {})}
        (tmp / "run.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
    return out


def _prompt_key() -> list:
    """The prompt format in cache keys (nothing for the default, so old caches stay valid)."""
    fmt = prompt_format_of(None)
    return [] if fmt == PromptFormat() else [fmt.as_dict()]


def cached_finetune(base: str, base_hash: str, examples: list[Example], cache_dir: Path,
                    role: str, train: TrainConfig, data_format: str = "qa",
                    device: str | None = None, progress: bool = True) -> Path:
    """The fine-tuned model directory for (base, data, settings), trained only when absent."""
    key = cache_key(base_hash, dataset_hash(examples), asdict(train), data_format,
                    *_prompt_key())
    out = cache_dir / f"{role}-{key}"
    if (out / "run.json").is_file():
        return out
    loaded = load_model(base, device=device)
    return finetune(loaded, examples, out, train, data_format, progress)


def evaluate_model(loaded: LoadedModel, sets: dict[str, list[Example]], suite: str,
                   reference: dict[str, Any] | None, self_reference: bool = False,
                   max_new_tokens: int = 64, max_length: int = 512, batch_size: int = 16,
                   config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate with ``suite`` and return the results document. ``self_reference`` (the retain
    model): evaluate without the reference metrics first, then with its own results as the
    reference, so forget quality is exactly 1 and PrivLeak 0 (one shared score cache)."""
    entries = resolve_suite(suite, sets)
    cache = ScoreCache()
    common = dict(max_new_tokens=max_new_tokens, max_length=max_length, batch_size=batch_size,
                  cache=cache, weights_hash=loaded.weights_hash)
    if self_reference:
        first = evaluate(loaded.model, loaded.tokenizer, sets, without_reference(entries),
                         **common)
        reference = build_results(first, model_id=loaded.name,
                                  **comparable_fields(loaded.tokenizer, sets))
    if reference is None:
        entries = without_reference(entries)
    metrics = evaluate(loaded.model, loaded.tokenizer, sets, entries,
                       reference_results=reference, **common)
    return build_results(metrics, model_id=loaded.name, weights_hash=loaded.weights_hash,
                         data={k: dataset_hash(v) for k, v in sets.items()},
                         config=dict(config or {}, suite=suite),
                         **comparable_fields(loaded.tokenizer, sets))


def cached_results(model_dir: Path, name: str, sets: dict[str, list[Example]], suite: str,
                   reference: dict[str, Any] | None, self_reference: bool = False,
                   device: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """``model_dir/results-<name>-<key>.json``, computed once per data, reference, settings
    and version of the evaluation code and libraries (a metric fix gives a new key)."""
    from obliviate.evaluation.stored import code_hash, library_versions
    ref_key = cache_key(reference.get("model"), reference.get("data")) if reference else "-"
    key = cache_key({k: dataset_hash(v) for k, v in sets.items()}, suite, ref_key,
                    self_reference, kwargs, *_prompt_key(), code_hash(), library_versions())
    path = model_dir / f"results-{name}-{key}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    loaded = load_model(str(model_dir), device=device)
    results = evaluate_model(loaded, sets, suite, reference, self_reference, **kwargs)
    write_results(path, results)
    return results
