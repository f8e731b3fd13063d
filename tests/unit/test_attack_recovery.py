"""Recovery = (attacked - unlearned) / (original - unlearned), its guard, per-sample subsets
and the document's headline / family summaries."""
from __future__ import annotations

import math

import pytest

from obliviate.attacks.base import AttackSettings, AttackView, recovery
from obliviate.attacks.report import attack_entry, attack_table, metric_row
from obliviate.attacks.runner import mean_like
from obliviate.errors import ConfigError


def test_recovery_by_hand():
    assert recovery(0.8, 0.2, 0.5) == (pytest.approx(0.5), None)
    assert recovery(0.8, 0.2, 0.8)[0] == pytest.approx(1.0)
    assert recovery(0.8, 0.2, 0.1)[0] == pytest.approx(-1 / 6)
    # lower-is-better metrics work the same way: unlearning raised it, the attack lowers it
    assert recovery(-1.0, -3.0, -2.0)[0] == pytest.approx(0.5)


@pytest.mark.parametrize("values", [(0.5, 0.5, 0.9), (0.5, 0.49999, 0.9), (None, 0.2, 0.3),
                                    (0.5, 0.2, math.nan)])
def test_recovery_is_null_with_a_reason(values):
    value, why = recovery(*values)
    assert value is None and why


def test_metric_row_keeps_the_note():
    row = metric_row(0.3, 0.3, 0.4, [])
    assert row["recovery"] is None and "undefined" in row["note"]
    assert "note" not in metric_row(0.9, 0.1, 0.5, [])


def test_mean_like():
    assert mean_like({"value": 0.5, "per_sample": [0.0, 1.0, None]})
    assert not mean_like({"value": 0.9, "per_sample": [0.0, 1.0]})  # an AUC, say
    assert not mean_like({"value": 0.5, "per_sample": []})


class _Spec:
    def __init__(self, primary=None):
        self.summary, self.primary = "test", primary


def test_entry_headline_and_families():
    a = AttackView("jb/a", family="jb", metrics={})
    b = AttackView("jb/b", family="jb", metrics={})
    entry = attack_entry(_Spec(), [(a, {"forget/x": (1.0, 0.0, 0.2, [])}),
                                   (b, {"forget/x": (1.0, 0.0, 0.6, [])})], 1.0)
    assert entry["headline"]["forget/x"]["variant"] == "jb/b"
    assert entry["headline"]["forget/x"]["recovery"] == pytest.approx(0.6)
    assert entry["families"]["jb"]["forget/x"] == {"variant": "jb/b", "recovery": 0.6}
    primary = attack_entry(_Spec("jb/a"), [(a, {"forget/x": (1.0, 0.0, 0.2, [])}),
                                           (b, {"forget/x": (1.0, 0.0, 0.6, [])})], 1.0)
    assert primary["headline"]["forget/x"]["variant"] == "jb/a"
    doc = {"baseline": {"original": {"forget/x": 1.0}, "unlearned": {"forget/x": 0.0}},
           "attacks": {"prompts": entry,
                       "relearn": attack_entry(_Spec(), [], 0.1, skipped="no data")}}
    table = attack_table(doc)
    assert "jb/b" in table and "0.6" in table and "relearn: skipped (no data)" in table


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="relearn_steps"):
        AttackSettings(relearn_steps=0)
    with pytest.raises(ConfigError, match="relearn_fraction"):
        AttackSettings(relearn_fraction=1.5)
    assert AttackSettings().public()["quant_schemes"] == ["int8", "int4_sym", "int4_asym"]
