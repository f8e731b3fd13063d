"""Text tables for ``obliviate list``."""
from __future__ import annotations


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _needs(needs) -> str:
    parts = [name for name, on in (("retain", needs.retain), ("ref-logprobs",
             needs.reference_logprobs), ("ref-model", needs.reference_model),
             ("refusals", needs.refusals), ("reinforced-model", needs.reinforced_model),
             ("random-answers", needs.random_answers),
             ("alternate-answers", getattr(needs, "alternate_answers", False))) if on]
    return ", ".join(parts) or "-"


def methods_table() -> str:
    from obliviate.methods import METHODS

    from obliviate.inputs import describe_wrappers

    rows = [[name, cls.family, _needs(cls.needs), cls.summary, cls.paper]
            for name, cls in METHODS]
    rows += [[f"{w['name']} (eval --wrapper)", "input-based, no weight change", "forget set",
              w["summary"], w["paper"]] for w in describe_wrappers()]
    return _table(rows, ["method", "family", "needs", "what it does", "paper"])


def optimizers_table() -> str:
    from obliviate.training.optim import OPTIMIZERS

    rows = [[name, (fn.__doc__ or "").strip().splitlines()[0]] for name, fn in OPTIMIZERS]
    return _table(rows, ["optimizer", "description"])


def metrics_table() -> str:
    from obliviate.evaluation.metrics import METRICS

    rows = [[name, {True: "higher", False: "lower", None: "closer"}[m.higher_is_better],
             ", ".join(sorted(m.needs)) or "-",
             (m.compute.__doc__ or "").strip().splitlines()[0]] for name, m in METRICS]
    return _table(rows, ["metric", "better", "needs", "what it measures"])


#: ``obliviate list WHAT`` -> a function returning the table.
LISTINGS = {"methods": methods_table, "optimizers": optimizers_table, "metrics": metrics_table}
