"""Reports: one self-contained HTML page and a Markdown twin, built from results files only.

``write_report(run_dirs, out=None) -> (html_path, md_path)`` is the entry point that
``obliviate report``, ``obliviate run`` and ``obliviate demo`` call. One run gives a run report
(summary card, metrics before/after, samples, curves, truth ratios, MIA ROC, attacks); several
runs give a leaderboard and the forget-versus-utility trade-off plot.

The contract: what the report reads (nothing else; absent parts are skipped)
---------------------------------------------------------------------------
A run is a directory (or a ``results.json`` path, whose folder is the run directory) holding:

``results.json`` (schema_version "1", :mod:`obliviate.evaluation.results`)
    ``metrics``: ``{"<dataset>/<metric>": {value, ci_low, ci_high, higher_is_better,
    per_sample, extra}}`` of the model after unlearning (or of the only model evaluated);
    ``before`` (optional): ``{"metrics": {...same shape...}, "samples": [...]}``, the original
    model's results, written by ``obliviate run`` with ``eval: before_after``;
    ``samples``: ``[{key, prompt, reference, generation}]`` (``key`` = the metric key);
    ``model.id``, ``config.method``, ``data`` (names), ``timings``, ``peak_memory_mb``,
    ``environment.device``, ``obliviate_version``, ``git_commit``, ``schema_version``.
    Keys read inside a metric's ``extra``:

    - ``ratios``: raw truth ratios R per sample (``<dataset>/truth_ratio``), drawn against the
      retain model's ``ratios`` of the same key;
    - ``scores_members`` and ``scores_nonmembers``: per-sample membership scores oriented so
      that higher = more member-like, drawn as ROC curves. For ``mia_*`` metrics without them,
      ``per_sample`` (members) and ``extra["holdout_scores"]`` (non-members) are used;
    - ``target`` (optional number): the value a closeness metric (``higher_is_better`` null)
      should approach; ``goal`` (optional ``"higher"``, ``"lower"`` or ``"target"``):
      overrides the direction the report infers (see :mod:`obliviate.reports.direction`).
``run.json`` (optional, :mod:`obliviate.pipeline`)
    ``method``, ``model.id``, ``steps``, ``wall_time_s``, ``peak_memory_mb``,
    ``tokens_processed``, ``trainable_parameters``, ``total_parameters``.
``steps.jsonl`` (optional): one object per optimizer step; ``step`` and every numeric loss
    part are drawn (``loss``, ``forget_nll`` / ``forget_loss``, ``retain_loss`` / ``retain_kl``,
    ...); ``lr`` is drawn on its own axis.
``attack_results.json`` (optional): any nesting; each object holding ``original``,
    ``unlearned`` and ``attacked`` (and ``recovery``) is one row, named by the path of keys
    leading to it (attack / variant / metric key).

``--retain-results PATH`` (optional): a retain model's ``results.json``: its truth ratios and
MIA scores are drawn next to the run's, its values are the targets of closeness metrics, and
it is the "retain model" point of the trade-off plot.
"""
from obliviate.reports.loading import RunData, load_results_file, load_run
from obliviate.reports.writer import write_report

__all__ = ["RunData", "load_results_file", "load_run", "write_report"]
