"""``unlearn(config)``: load, train with the engine, write the output directory.

The output directory holds the unlearned model (safetensors) and tokenizer, the resolved
config (``run_config.yaml``), the step log (``steps.jsonl``) and ``run.json`` (wall time,
tokens processed, trainable parameters, peak memory). It is written under a temporary name and
renamed when complete.
"""
from __future__ import annotations

import contextlib
import json
import random
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import yaml

from obliviate import __version__
from obliviate.assessment import assess, data_hashes, sets_as_datasets, with_before
from obliviate.config import RunConfig, to_dict
from obliviate.distributed import agree, gather, local_device, world
from obliviate.data import DataSpec, Example, load_examples, tokenize_examples
from obliviate.data.refusals import load_refusals, refusal_examples
from obliviate.errors import ConfigError
from obliviate.methods import UnlearningMethod, build_method
from obliviate.evaluation import write_results
from obliviate.evaluation.lm_eval_bridge import add_lm_eval, task_manager
from obliviate.evaluation.suites import resolve_suite
from obliviate.data.prompting import set_prompt_format
from obliviate.models import LoadedModel, load_model, save_model
from obliviate.models.hashing import params_hash
from obliviate.outputs import CHECKPOINT, atomic_dir
from obliviate.run_setup import (input_ledger, prepare_output, run_fingerprint, sets_hashes,
                                 write_ledger_entry)
from obliviate.reports import write_report
from obliviate.reports.hub import push_folder
from obliviate.reports.model_card import data_summary, write_model_card
from obliviate.training import Engine, TrainingData, TrainResult, cpu_deepspeed, cpu_fsdp
from obliviate.training.distributed import check_requested_engine, per_process_batch
from obliviate.training.checkpoint import Checkpointer
from obliviate.training.lora import export_model, wrap_lora
from obliviate.training.periodic_eval import PeriodicEval
from obliviate.training.periodic_eval import from_config as periodic_from_config
from obliviate.training.trackers import check_installed, tracking


@dataclass
class RunSets:
    """The example sets of a run (text, not yet tokenised)."""

    forget: list[Example]
    forget_format: str
    retain: list[Example] | None = None
    retain_format: str = "qa"
    holdout: list[Example] | None = None
    probes: list[Example] | None = None


def load_sets(config: RunConfig) -> RunSets:
    d = config.data
    return RunSets(forget=load_examples(d.forget), forget_format=d.forget.format,
                   retain=load_examples(d.retain) if d.retain else None,
                   retain_format=d.retain.format if d.retain else "qa",
                   holdout=load_examples(d.holdout) if d.holdout else None,
                   probes=load_examples(d.probes) if d.probes else None)


def training_data(config: RunConfig, sets: RunSets, tokenizer, needs_refusals: bool,
                  method: UnlearningMethod | None = None, model=None) -> TrainingData:
    """Tokenised sets; ``model`` is needed by methods that generate their own rows (AltPO)."""
    n = config.train.max_length
    if method is not None and getattr(method.needs, "alternate_answers", False):
        sets, alternates = with_alternates(config, sets, method, model, tokenizer)
        aligned = (alternates, "qa")
    else:
        aligned = aligned_examples(config, sets, needs_refusals, method)
    idk = None
    if aligned is not None:
        idk = tokenize_examples(aligned[0], tokenizer, n, aligned[1])
    return TrainingData(
        forget=tokenize_examples(sets.forget, tokenizer, n, sets.forget_format),
        retain=tokenize_examples(sets.retain, tokenizer, n, sets.retain_format)
        if sets.retain else None,
        idk=idk)


def aligned_examples(config: RunConfig, sets: RunSets, needs_refusals: bool,
                     method: UnlearningMethod | None = None) -> tuple[list[Example], str] | None:
    """The rows, aligned one for one with the forget set, that reach the method as
    ``StepInputs.idk``, and their format; None when the method needs none.

    - refusals (``needs.refusals``, QA data): each forget question with a refusal sentence;
    - random answers (``needs.random_answers``, LLMU): each forget question with the target of a
      retain example drawn at random, seeded by ``train.seed``;
    - a method that defines ``aligned_forget_examples(forget) -> list[Example] | None`` (WHP's
      anchored-term translation) supplies its own rows, in the forget set's format.
    """
    if needs_refusals and sets.forget_format == "qa":
        answers = refusal_examples(sets.forget, load_refusals(config.data.refusals),
                                   config.train.seed)
        return answers, "qa"
    if method is not None and getattr(method.needs, "random_answers", False):
        return random_answer_examples(sets, config.train.seed, method.name), "qa"
    own = getattr(method, "aligned_forget_examples", None)
    rows = own(sets.forget) if own is not None else None
    return (rows, sets.forget_format) if rows is not None else None


def with_alternates(config: RunConfig, sets: RunSets, method, model, tokenizer
                    ) -> tuple[RunSets, list[Example]]:
    """``sets`` with the forget set repeated ``method.alternates`` times, and the generated
    alternates aligned with it row for row (AltPO; ``training/alternates.py``)."""
    if sets.forget_format != "qa":
        raise ConfigError(f"method {method.name!r} writes alternative answers to forget "
                          "questions and needs QA forget data (data.forget.format=qa).")
    if model is None:
        raise ConfigError(f"method {method.name!r} generates its alternate answers with the "
                          "model: pass model= to training_data.")
    from obliviate.training.alternates import alternate_examples
    forget, alternates, path = alternate_examples(
        model, tokenizer, sets.forget, method.alternates, method.alt_max_new_tokens,
        method.alt_temperature, config.train.seed)
    method.alternates_file = str(path)  # copied into the run folder by unlearn()
    return replace(sets, forget=forget), alternates


def random_answer_examples(sets: RunSets, seed: int, method: str = "llmu") -> list[Example]:
    """Each forget question paired with the target of a retain example drawn at random (seeded),
    row for row: the mismatched answers of LLMU (Yao et al. 2023, arXiv:2310.10683)."""
    if sets.forget_format != "qa":
        raise ConfigError(f"method {method!r} pairs forget questions with random answers and "
                          "needs QA forget data (data.forget.format=qa).")
    if not sets.retain:
        raise ConfigError(f"method {method!r} draws its random answers from the retain set: "
                          "set data.retain.")
    rng = random.Random(seed)
    return [Example(prompt=e.prompt, target=rng.choice(sets.retain).target,
                    meta={"random_answer": True}) for e in sets.forget]


def default_output_dir(config: RunConfig) -> Path:
    return Path("runs") / f"{config.method}-{time.strftime('%Y%m%d-%H%M%S')}"


def unlearn(config: RunConfig, loaded: LoadedModel | None = None, progress: bool = True,
            sets: RunSets | None = None, data: TrainingData | None = None,
            resume: bool = False, periodic: PeriodicEval | None = None) -> Path:
    """Run the configured method and return the finished output directory.

    ``loaded``, ``sets`` and ``data`` (tokenised training data) skip the steps that would
    otherwise load them from ``config``. ``resume`` continues an interrupted run of the same
    output folder from its last checkpoint (``train.save_every``), when it has one.
    ``periodic`` replaces the evaluation during training that ``train.eval_every`` builds from
    the run's sets (a benchmark passes its own)."""
    out = Path(config.output_dir) if config.output_dir else default_output_dir(config)
    out = Path(gather(str(out))[0])  # one folder for all processes: the main process's name
    method = build_method(config.method, config.method_args)
    sets, tasks, partial, (ledger, input_sha) = agree(
        lambda: _preflight(config, out, sets, resume), "checking the config and data")
    loaded = loaded or load_model(config.model, device=local_device(config.device),
                                  dtype=config.dtype, trust_remote_code=config.trust_remote_code,
                                  allow_pickle=config.allow_pickle)
    set_prompt_format(loaded.tokenizer, config.prompt)  # training and evaluation alike
    data = data or agree(lambda: training_data(config, sets, loaded.tokenizer,
                                               method.needs.refusals, method, loaded.model),
                         "tokenising")
    torch.manual_seed(config.train.seed)  # a LoRA adapter's initial weights follow the seed
    model = wrap_lora(loaded.model, config.lora, config.model)  # the model itself without LoRA
    before = (evaluate_run(config, loaded, sets, lm_eval_tasks=tasks)
              if config.eval == "before_after" else None)
    engine = Engine(method, config.train, config.optimizer, config.optimizer_args,
                    progress=progress, localize=config.localize)
    engine.step_eval = periodic or during_training(config, loaded, sets, model)
    main = engine.accelerator.is_main_process
    with atomic_dir(out, resume_from=partial) if main else contextlib.nullcontext() as tmp, \
            tracking(config.train.report_to, out.name, tmp, to_dict(config)) as trackers:
        engine.log_path = str(tmp / "steps.jsonl") if main else None
        engine.on_step = trackers.log_record
        if main:
            fingerprint = run_fingerprint(config, loaded.weights_hash, sets_hashes(sets))
            engine.checkpoint = Checkpointer(tmp / CHECKPOINT, config.train.save_every,
                                             fingerprint, resume=partial is not None)
        result = engine.fit(model, data, loaded.tokenizer.pad_token_id)
        wrapped = engine.prepared if engine.prepared is not None else model
        if engine.step_eval is not None:  # train.select: the kept checkpoint's weights
            engine.step_eval.restore_best(engine.accelerator.unwrap_model(wrapped))
        state = engine.full_state_dict()  # FSDP / ZeRO-3: every process helps gather it
        trained = export_model(engine.accelerator.unwrap_model(wrapped), config.lora)
        if main:
            save_model(trained, loaded.tokenizer, tmp, state_dict=state)
            write_run_files(tmp, config, loaded, result, sets, engine.step_eval)
            if getattr(method, "alternates_file", None):  # AltPO's generated answers
                shutil.copyfile(method.alternates_file, tmp / "alternates.jsonl")
        if config.eval != "none":  # every process evaluates its share; the main one writes
            trained = _evaluable(trained, state, tmp, config)
            after = evaluate_run(config, replace(loaded, model=trained, name=str(out),
                                                 weights_hash=params_hash(trained)),
                                 sets, run_info=run_info(config, loaded, result, sets),
                                 lm_eval_tasks=tasks)
            if main:
                after = with_before(after, before) if before else after
                write_results(tmp / "results.json", after)
                trackers.log_results(after, result.steps)
        if main:
            write_ledger_entry(tmp, config, ledger, input_sha, loaded.weights_hash,
                               sets.forget, after if config.eval != "none" else None)
            write_model_card(tmp, name=out.name)
        engine.accelerator.wait_for_everyone()
    if main and config.eval != "none":
        write_report([out], retain_results=config.retain_results)
    if main and config.push_to_hub:
        push_folder(out, config.push_to_hub)
    return out


def _preflight(config: RunConfig, out: Path, sets: RunSets | None,
               resume: bool = False) -> tuple[RunSets, object, Path | None, tuple]:
    """What must hold on every process before the model loads (run through ``agree``): the
    run's sets, its lm-eval task index (None without ``lm_eval.tasks``), the interrupted run's
    folder to resume (or None) and the input model's checked ledger with its weights hash."""
    partial = prepare_output(config, out, resume)  # names, output folder, inputs protected
    per_process_batch(config.train.batch_size, world().size, config.train.grad_accum)
    check_requested_engine(config.lora.enabled and config.lora.merge)
    cpu_fsdp.check_options(config.train.save_every, config.train.eval_every,
                           config.localize.saliency)
    cpu_deepspeed.check_options(config.train.save_every, config.train.eval_every,
                                config.localize.saliency, config.optimizer)
    sets = sets or load_sets(config)  # data errors show before the model loads
    tasks = task_manager(config.lm_eval) if config.lm_eval.tasks else None  # names checked
    check_installed(config.train.report_to)
    return sets, tasks, partial, input_ledger(config)


def _evaluable(trained, state: dict | None, tmp: Path | None, config: RunConfig):
    """The trained model as one process can evaluate it: itself when every process holds the
    full weights; under FSDP / ZeRO-3 the consolidated model the main process just saved,
    reloaded from the (shared) output folder by each process."""
    if state is None:
        return trained
    folder = gather(str(tmp) if tmp is not None else None)[0]
    return load_model(folder, device=local_device(config.device), dtype=config.dtype).model


def evaluate_run(config: RunConfig, loaded: LoadedModel, sets: RunSets,
                 run_info: Path | dict | None = None, lm_eval_tasks: object = None) -> dict:
    """The run's evaluation (``eval`` / ``eval_suite``, plus ``lm_eval.tasks``; their task
    index ``lm_eval_tasks`` when already built) as a results document."""
    datasets = sets_as_datasets(sets)
    suite = resolve_suite(config.eval_suite, datasets)
    if run_info is not None:
        suite.append(("efficiency", "run", {"key": "run/efficiency"}))
    results = assess(loaded, datasets, suite, config=to_dict(config), data=data_hashes(config),
                     reference_results=config.retain_results, run_info=run_info,
                     max_new_tokens=config.eval_max_new_tokens,
                     max_length=config.train.max_length, progress="evaluating")
    return add_lm_eval(results, loaded.model, loaded.tokenizer, config.lm_eval, lm_eval_tasks)


def during_training(config: RunConfig, loaded: LoadedModel, sets: RunSets,
                    model) -> PeriodicEval | None:
    """The evaluation during training that ``train.eval_every`` asks for, on the run's sets
    with ``eval_suite`` and ``retain_results``; the model is evaluated once before training
    (``original`` in ``train.select.constraint``)."""
    periodic = periodic_from_config(config.train, loaded.tokenizer, sets_as_datasets(sets),
                                    config.eval_suite, config.retain_results,
                                    config.eval_max_new_tokens)
    if periodic is not None:
        periodic.evaluate_original(model)
    return periodic


def write_run_files(out: Path, config: RunConfig, loaded: LoadedModel, result: TrainResult,
                    sets: RunSets | None = None, periodic: PeriodicEval | None = None) -> None:
    (out / "run_config.yaml").write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
    info = run_info(config, loaded, result, sets)
    if periodic is not None:
        info["eval_during_training"] = periodic.summary()
        info["selected_step"] = periodic.best_step
    (out / "run.json").write_text(json.dumps(info, indent=2) + "\n")


def run_info(config: RunConfig, loaded: LoadedModel, result: TrainResult,
             sets: RunSets | None = None) -> dict:
    """What run.json records about a finished training run."""
    return {
        "obliviate_version": __version__,
        "method": config.method,
        "model": {"id": loaded.name, "source": loaded.source, "weights_hash": loaded.weights_hash},
        "steps": result.steps,
        "reinforce_steps": result.reinforce_steps,
        "method_info": result.method_info,
        "saliency_kept_weights": result.masked_kept,
        "lora": config.lora.enabled,
        "wall_time_s": round(result.wall_time_s, 3),
        "tokens_processed": result.tokens_processed,
        "trainable_parameters": result.trainable_parameters,
        "total_parameters": result.total_parameters,
        "peak_memory_mb": round(result.peak_memory_mb, 1),
        "data": data_summary(config, sets) if sets is not None else {},
        "distributed": result.distributed,
    }


__all__ = ["DataSpec", "RunSets", "load_sets", "training_data", "unlearn"]
