"""The before/after text table that `obliviate run` prints."""
from obliviate.assessment import before_after_table


def test_before_after_table():
    results = {"metrics": {"forget/answer_prob": {"value": 0.01, "ci_low": 0.005,
                                                  "ci_high": 0.02}},
               "before": {"metrics": {"forget/answer_prob": {"value": 0.25}}}}
    lines = before_after_table(results).splitlines()
    assert lines[0].split() == ["metric", "before", "after", "after", "95%", "CI"]
    assert lines[2].split() == ["forget/answer_prob", "0.25", "0.01", "[0.005,", "0.02]"]
