"""The report's goal per metric and its verdict on a change, worked out by hand."""
from __future__ import annotations

from obliviate.reports.direction import better_of, compare, forget_like, goal, target_of


def entry(value, hib=None, low=None, high=None, **extra):
    return {"value": value, "ci_low": low, "ci_high": high, "higher_is_better": hib,
            "extra": extra}


def test_knowledge_metric_on_forget_set_should_go_down():
    assert goal("forget/answer_prob", entry(0.5, True)) == "lower"
    assert goal("forget10_perturbed/rouge_l_recall", entry(0.5, True)) == "lower"
    assert goal("probes/answer_prob", entry(0.5, True)) == "lower"
    assert goal("forget/perplexity", entry(9.0, False)) == "higher"
    assert goal("retain/answer_prob", entry(0.5, True)) == "higher"
    assert goal("forget/truth_ratio", entry(0.5, True)) == "higher"  # min(R, 1/R): up = good
    assert goal("forget/forget_quality", entry(0.5, True)) == "higher"


def test_explicit_goal_wins():
    assert goal("retain/answer_prob", entry(0.5, True, goal="lower")) == "lower"


def test_closeness_targets():
    assert target_of("forget/privleak", entry(0.1), None) == (0.0, "no leak")
    assert target_of("forget/mia_min_k", entry(0.7), None) == (0.5, "chance")
    retain = {"forget/mia_min_k": entry(0.42)}
    assert target_of("forget/mia_min_k", entry(0.7), retain) == (0.42, "retain model")
    assert target_of("x/knowmem_like", entry(0.7, target=0.3), None) == (0.3, "target")
    assert goal("retain/exact_memorization", entry(0.3)) == "none"


def test_verdicts():
    # lower is better on the forget set: 0.8 -> 0.3 is better, outside the before interval
    c = compare("forget/answer_prob", entry(0.8, True, 0.75, 0.85), entry(0.3, True))
    assert (c.goal, c.verdict) == ("lower", "better") and abs(c.delta + 0.5) < 1e-12
    c = compare("retain/answer_prob", entry(0.8, True, 0.75, 0.85), entry(0.6, True))
    assert c.verdict == "worse"
    c = compare("retain/answer_prob", entry(0.8, True, 0.75, 0.85), entry(0.78, True))
    assert c.verdict == "unclear"  # inside the original's interval
    # closeness: |0.9 - 0.5| = 0.4 -> |0.45 - 0.5| = 0.05: closer to chance
    c = compare("forget/mia_loss", entry(0.9), entry(0.45))
    assert (c.goal, c.verdict, c.target) == ("target", "better", 0.5)
    c = compare("retain/exact_memorization", entry(0.5), entry(0.2))
    assert (c.goal, c.verdict) == ("none", "none")
    c = compare("forget/answer_prob", None, entry(0.2, True))
    assert c.verdict == "none" and c.delta is None


def test_better_of_and_forget_like():
    assert better_of([0.2, None, 0.5], "higher") == 0.5
    assert better_of([0.2, 0.5], "lower") == 0.2
    assert better_of([0.2, 0.45, 0.9], "target", 0.5) == 0.45
    assert better_of([0.2], "none") is None
    assert forget_like("forget05") and forget_like("knowmem_forget_qa") and not forget_like("retain")
