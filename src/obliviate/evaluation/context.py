"""What a metric can ask for. Every expensive need goes through the evaluator's
:class:`ScoreCache`, so a data set is scored once and generated once whatever the metrics."""
from __future__ import annotations

from typing import Any

from obliviate.data.prompting import PromptFormat, prompt_format_of
from obliviate.data.tokenize import tokenize_examples
from obliviate.data.types import IGNORE_INDEX, Example, TokenizedExample
from obliviate.errors import ConfigError
from obliviate.evaluation.base import METRICS, MetricResult
from obliviate.evaluation.comparable import check_comparable
from obliviate.evaluation.generation import pad_id, prompt_ids
from obliviate.evaluation.results import dataset_hash
from obliviate.evaluation.scoring import ScoreCache, TokenScores, items_hash, model_key
from obliviate.evaluation.sharding import generate_sharded, score_sharded


def data_format(examples: list[Example]) -> str:
    """"qa" when any example has a prompt, else "text"."""
    return "qa" if any(e.prompt for e in examples) else "text"


class EvalContext:
    """The model, its data sets and cached needs, as one evaluation sees them."""

    def __init__(
        self, model: Any, tokenizer: Any, datasets: dict[str, list[Example]], *,
        max_length: int = 512, batch_size: int = 8, max_new_tokens: int = 64,
        reference_results: dict[str, Any] | None = None, reference_model: Any = None,
        run_info: dict[str, Any] | None = None, cache: ScoreCache | None = None,
        weights_hash: str | None = None,
    ) -> None:
        self.model, self.tokenizer, self.datasets = model, tokenizer, datasets
        self.max_length, self.batch_size, self.max_new_tokens = max_length, batch_size, max_new_tokens
        self.reference_results, self.reference_model = reference_results, reference_model
        self.run_info = run_info
        self.cache = cache if cache is not None else ScoreCache()
        self.weights_hash = weights_hash
        self._tokenized: dict[tuple[str, int], list[TokenizedExample]] = {}
        self._results: dict[tuple[str, str, tuple], MetricResult] = {}

    def examples(self, name: str) -> list[Example]:
        if name not in self.datasets:
            known = ", ".join(sorted(self.datasets)) or "none"
            raise ConfigError(f"data set {name!r} is not given (given: {known}).")
        return self.datasets[name]

    @property
    def prompt(self) -> PromptFormat:
        """The prompt format every QA prompt of this evaluation follows (the tokenizer's)."""
        return prompt_format_of(self.tokenizer)

    def tokenized(self, name: str, max_length: int | None = None) -> list[TokenizedExample]:
        """The data set tokenized once per length limit (default: the context's), in its own
        format (qa or text)."""
        limit = max_length or self.max_length
        if (name, limit) not in self._tokenized:
            examples = self.examples(name)
            self._tokenized[(name, limit)] = tokenize_examples(
                examples, self.tokenizer, limit, data_format(examples))
        return self._tokenized[(name, limit)]

    def tokenize(self, examples: list[Example], fmt: str = "qa") -> list[TokenizedExample]:
        return tokenize_examples(examples, self.tokenizer, self.max_length, fmt)

    def scores(self, name: str, max_length: int | None = None) -> TokenScores:
        """Token statistics of data set ``name`` under the model (cached)."""
        return self.score_items(self.tokenized(name, max_length))

    def whole_length(self) -> int:
        """A length limit that keeps every text whole: the model's context size."""
        config = getattr(self.model, "config", None)
        return int(getattr(config, "max_position_embeddings", None) or 1_000_000)

    def target_lengths_without_eos(self, name: str, max_length: int | None = None) -> list[int]:
        """Per sample, the number of target tokens not counting a final EOS token (the tokens
        open-unlearning's token-wise metrics score: it drops the last label, the EOS)."""
        eos = getattr(self.tokenizer, "eos_token_id", None)
        out = []
        for item in self.tokenized(name, max_length):
            target = [t for t in item.labels[1:] if t != IGNORE_INDEX]
            out.append(len(target) - 1 if target and target[-1] == eos else len(target))
        return out

    def score_examples(self, examples: list[Example], fmt: str = "qa") -> TokenScores:
        """Token statistics of derived examples (paraphrases, perturbations, options)."""
        return self.score_items(self.tokenize(examples, fmt))

    def score_items(self, items: list[TokenizedExample], model: Any = None) -> TokenScores:
        """Token statistics of ``items`` under ``model`` (default: the evaluated one), cached."""
        model = self.model if model is None else model
        key = model_key(model, self.weights_hash if model is self.model else None)
        return self.cache.get("scores", key, items_hash(items), lambda: score_sharded(
            model, items, pad_id(self.tokenizer), self.batch_size))

    def generations(self, name: str, max_new_tokens: int | None = None) -> list[str]:
        """Greedy answers to the prompts of data set ``name`` (cached)."""
        prompts = [prompt_ids(item) for item in self.tokenized(name)]
        return self.generate_from(prompts, max_new_tokens or self.max_new_tokens)

    def generate_from(self, prompts: list[list[int]], max_new_tokens: int) -> list[str]:
        """Greedy continuations of token-id prompts (cached per prompts and length)."""
        key = model_key(self.model, self.weights_hash)
        fake = [TokenizedExample(p, [max_new_tokens], Example("", "")) for p in prompts]
        return self.cache.get("generations", key, items_hash(fake), lambda: generate_sharded(
            self.model, self.tokenizer, prompts, max_new_tokens, self.batch_size))

    def result(self, name: str, dataset: str, options: dict[str, Any] | None = None) -> MetricResult:
        """Metric ``name`` on ``dataset``, computed once per options (metrics may build on
        others, as model utility and forget quality do)."""
        options = dict(options or {})
        key = (name, dataset, tuple(sorted((k, repr(v)) for k, v in options.items())))
        if key not in self._results:
            spec = METRICS.get(name)
            result = spec.compute(self, dataset, options)
            result.higher_is_better = spec.higher_is_better
            self._results[key] = result
        return self._results[key]

    def check_reference(self, names: list[str]) -> None:
        """Refuse reference results made with another prompt format or on other data: two
        results compare only when prompt format and the data sets' hashes agree."""
        reference = self.reference_results
        if reference is None:
            self.reference_metric("")  # raises the "needs reference results" error
            return
        check_comparable(reference, self.prompt.as_dict(),
                         {n: dataset_hash(self.examples(n)) for n in names})

    def reference_metric(self, key: str) -> dict[str, Any]:
        """Entry ``key`` ("<dataset>/<metric>") of the reference model's results."""
        if self.reference_results is None:
            raise ConfigError(
                "this metric compares with a reference (retain) model and needs its results: "
                "evaluate the retain model first and pass reference_results=<its results.json>."
            )
        metrics = self.reference_results.get("metrics", {})
        if key not in metrics:
            have = ", ".join(sorted(metrics)) or "none"
            raise ConfigError(
                f"the reference results lack {key!r} (they have: {have}); evaluate the retain "
                f"model with a suite that includes it."
            )
        return metrics[key]
