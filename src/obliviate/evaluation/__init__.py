"""Assessment: the scoring and generation engines, metrics, suites and the results schema."""
from obliviate.evaluation.base import METRICS, Metric, MetricResult, metric
from obliviate.evaluation.bootstrap import bootstrap_ci
from obliviate.evaluation.evaluator import evaluate
from obliviate.evaluation.generation import generate
from obliviate.evaluation.results import (
    SCHEMA_VERSION, build_results, dataset_hash, load_reference_results, summary_table,
    write_results,
)
from obliviate.evaluation.scoring import ScoreCache, TokenScores, score
from obliviate.evaluation.suites import SUITES

__all__ = [
    "METRICS", "SCHEMA_VERSION", "SUITES", "Metric", "MetricResult", "ScoreCache", "TokenScores",
    "bootstrap_ci", "build_results", "dataset_hash", "evaluate", "generate",
    "load_reference_results", "metric", "score", "summary_table", "write_results",
]
