"""One file per metric; importing this package registers them all in :data:`METRICS`."""
from obliviate.evaluation.base import METRICS
from obliviate.evaluation.metrics import (  # noqa: F401  (imported to register)
    answer_prob, efficiency, exact_memorization, extraction_strength, fluency, forget_quality,
    keyword_accuracy, knowmem, mia, min_k, model_utility, multiple_choice, perplexity, privleak, rouge, truth_ratio, verbmem,
)

__all__ = ["METRICS"]
