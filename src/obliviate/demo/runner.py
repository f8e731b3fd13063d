"""``run_demo``: evaluate the embedded model, unlearn Harry Potter, evaluate again, save."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from obliviate.assessment import assess, data_hashes, sets_as_datasets, with_before
from obliviate.config import DataConfig, RunConfig, TrainConfig, to_dict
from obliviate.data import load_examples, tokenize_examples
from obliviate.demo.data import demo_spec, demo_suite
from obliviate.demo.settings import method_settings
from obliviate.errors import ConfigError
from obliviate.evaluation import write_results
from obliviate.evaluation.stored import assess_stored
from obliviate.methods import build_method
from obliviate.models import load_model
from obliviate.models.embedded import DEFAULT_MODEL
from obliviate.outputs import check_writable_location
from obliviate.pipeline import RunSets, training_data, unlearn
from obliviate.reports import write_report
from obliviate.reports.model_card import write_model_card

DEFAULT_METHOD = "npo"


@dataclass
class DemoSettings:
    """What ``obliviate demo`` runs; ``steps`` / ``lr`` default to the method's tuned values."""

    method: str = DEFAULT_METHOD
    steps: int | None = None
    lr: float | None = None
    out: Path = Path("obliviate-demo")
    limit: int | None = None
    max_new_tokens: int = 24
    eval_batch_size: int = 32
    model: str = DEFAULT_MODEL
    method_args: dict[str, Any] = field(default_factory=dict)
    progress: bool = True


def demo_sets(limit: int | None) -> RunSets:
    load = lambda name: load_examples(demo_spec(name, limit))  # noqa: E731
    return RunSets(forget=load("forget"), forget_format="qa", retain=load("retain"),
                   holdout=load("holdout"), probes=load("probes"))


def demo_config(s: DemoSettings) -> RunConfig:
    tuned = method_settings(s.method)
    train = TrainConfig(lr=tuned.lr if s.lr is None else s.lr,
                        max_steps=tuned.steps if s.steps is None else s.steps,
                        batch_size=tuned.batch_size, warmup_steps=0, scheduler="constant",
                        seed=0, max_length=256)
    data = DataConfig(forget=demo_spec("forget", s.limit), retain=demo_spec("retain", s.limit),
                      holdout=demo_spec("holdout", s.limit), probes=demo_spec("probes", s.limit))
    return RunConfig(model=s.model, method=s.method, method_args={**tuned.args, **s.method_args},
                     data=data, train=train, output_dir=str(s.out), overwrite=True)


def check_demo_folder(out: Path) -> None:
    """The demo replaces its own earlier output, and nothing else."""
    check_writable_location(out, "--out")
    if out.exists() and any(out.iterdir()) and not (out / "demo.json").is_file():
        raise ConfigError(f"{out} exists and is not an earlier demo's output; choose another "
                          "folder with --out")


def run_demo(s: DemoSettings) -> dict[str, Any]:
    """The whole demo; returns the results document (also written to ``out/results.json``)."""
    start = time.perf_counter()
    check_demo_folder(s.out)
    config = demo_config(s)
    method = build_method(config.method, config.method_args)
    loaded = load_model(s.model)
    sets = demo_sets(s.limit)
    datasets, suite = sets_as_datasets(sets), demo_suite()
    hashes = data_hashes(config)
    before = assess_stored(loaded, datasets, suite, data=hashes, max_new_tokens=s.max_new_tokens,
                           batch_size=s.eval_batch_size,
                           progress=s.progress and "evaluating before")
    data = training_data(config, sets, loaded.tokenizer, method.needs.refusals, method,
                         loaded.model)
    if data.idk is None:  # the passages join the forget set unless rows must stay aligned
        passages = load_examples(demo_spec("forget_text", s.limit))
        data.forget += tokenize_examples(passages, loaded.tokenizer, 256, "text")
    trained_at = time.perf_counter()
    model_dir = unlearn(config, loaded=loaded, progress=s.progress, sets=sets, data=data)
    train_s = time.perf_counter() - trained_at
    unlearned, original = load_model(str(model_dir)), load_model(s.model)
    suite += [("efficiency", "run", {"key": "run/efficiency"})]
    after = assess(unlearned, datasets, suite, data=hashes, reference_model=original.model,
                   run_info=model_dir / "run.json", max_new_tokens=s.max_new_tokens,
                   batch_size=s.eval_batch_size, progress=s.progress and "evaluating after")
    results = with_before(after, before)
    results["config"] = to_dict(config)
    results["demo"] = {"settings": {**asdict(s), "out": str(s.out)},
                       "train_time_s": round(train_s, 1),
                       "total_time_s": round(time.perf_counter() - start, 1),
                       "criteria": criteria(results)}
    write_results(s.out / "results.json", results)
    (s.out / "demo.json").write_text(json.dumps(results["demo"], indent=2) + "\n")
    write_report([s.out])
    write_model_card(s.out)  # now with the before/after metrics
    return results


def _value(metrics: dict, key: str) -> float:
    entry = metrics.get(key) or {}
    return float("nan") if entry.get("value") is None else float(entry["value"])


def criteria(results: dict) -> dict[str, dict[str, Any]]:
    """The demo's acceptance checks, each with the measured numbers."""
    b, a = results["before"]["metrics"], results["metrics"]
    out = {}
    for name, bound in (("forget", 0.4), ("probes", 0.4)):
        x0, x1 = _value(b, f"{name}/keyword_accuracy"), _value(a, f"{name}/keyword_accuracy")
        out[f"{name} keyword accuracy <= {bound:.0%} of before"] = {
            "before": x0, "after": x1, "passed": x1 <= bound * x0}
    r0, r1 = _value(b, "retain/keyword_accuracy"), _value(a, "retain/keyword_accuracy")
    out["retain keyword accuracy >= 85% of before"] = {"before": r0, "after": r1,
                                                       "passed": r1 >= 0.85 * r0}
    h0, h1 = _value(b, "holdout/keyword_accuracy"), _value(a, "holdout/keyword_accuracy")
    out["holdout (never trained on) keyword accuracy >= 85% of before"] = {
        "before": h0, "after": h1, "passed": h1 >= 0.85 * h0}
    flu = (a.get("retain/fluency") or {}).get("extra", {})
    out["retain answers fluent"] = {"distinct_share": _value(a, "retain/fluency"),
                                    "perplexity": flu.get("perplexity"),
                                    "passed": bool(flu.get("fluent"))}
    return out
