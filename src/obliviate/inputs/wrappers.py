"""Prompt wrappers for the input-based baselines (see the package docstring)."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from obliviate.data.refusals import load_refusals
from obliviate.data.types import Example
from obliviate.errors import ConfigError
from obliviate.registry import Registry

GUARDRAIL = ("You must not reveal any information about {topic}. If a question concerns "
             "{topic}, say that you do not know. Answer every other question normally.\n\n"
             "Question: {question}")
DEMO = "Question: {question}\nAnswer: {answer}\n\n"


@dataclass
class PromptWrapper:
    """A named rewrite of questions, applied to every evaluated data set."""

    name: str
    rewrite: Callable[[str], str]

    def __call__(self, examples: list[Example]) -> list[Example]:
        return [replace(e, prompt=self.rewrite(e.prompt)) if e.prompt else e for e in examples]


WRAPPERS: Registry[Callable[..., PromptWrapper]] = Registry("prompt wrapper")


@WRAPPERS.register("guardrail")
def guardrail(topic: str = "the forgotten subject", **_: object) -> PromptWrapper:
    """Guardrail system instruction naming the topic to withhold (Thaker et al. 2024)."""
    return PromptWrapper("guardrail", lambda q: GUARDRAIL.format(topic=topic, question=q))


@WRAPPERS.register("icul")
def icul(forget: list[Example] | None = None, retain: list[Example] | None = None,
         n_forget: int = 4, n_retain: int = 2, seed: int = 0, **_: object) -> PromptWrapper:
    """In-context unlearning (Pawelczyk et al. 2023): ``n_forget`` forget questions answered
    with refusals (flipped labels), then ``n_retain`` retain questions with their true answers,
    then the question. The demonstrations are drawn once (seeded) and kept fixed for every
    question."""
    if not forget:
        raise ConfigError("the icul wrapper needs forget examples to place in the context")
    rng = random.Random(seed)
    refusals = load_refusals()
    demos = [DEMO.format(question=e.prompt, answer=rng.choice(refusals))
             for e in rng.sample(forget, min(n_forget, len(forget)))]
    demos += [DEMO.format(question=e.prompt, answer=e.target)
              for e in rng.sample(retain or [], min(n_retain, len(retain or [])))]
    context = "".join(demos)
    return PromptWrapper("icul", lambda q: f"{context}Question: {q}\nAnswer:")


#: name -> (summary, paper) for listings and the docs.
WRAPPER_INFO = {
    "guardrail": ("An instruction not to reveal the forget topic, before every question.",
                  "Thaker et al. 2024, arXiv:2403.03329"),
    "icul": ("In-context unlearning: forget examples with refusal labels, then retain "
             "examples, in the prompt.", "Pawelczyk et al. 2023, arXiv:2310.07579"),
}


def describe_wrappers() -> list[dict[str, str]]:
    return [{"name": n, "summary": WRAPPER_INFO[n][0], "paper": WRAPPER_INFO[n][1]}
            for n in WRAPPERS.names()]


def build_wrapper(name: str, **options: object) -> PromptWrapper:
    return WRAPPERS.get(name)(**options)


def wrap_datasets(datasets: dict[str, list[Example]],
                  wrapper: PromptWrapper | None) -> dict[str, list[Example]]:
    """Every data set with its questions rewritten (text sets are left as they are)."""
    if wrapper is None:
        return datasets
    return {name: wrapper(examples) for name, examples in datasets.items()}
