"""Prompt attacks: templates, the shipped jailbreak set, paraphrase / multilingual alignment,
in-context relearning prompts."""
from __future__ import annotations

import json

import pytest

from obliviate.attacks.base import AttackContext, AttackSettings
from obliviate.attacks.icl import icl_attack, icl_prompt
from obliviate.attacks.prompts import (
    load_jailbreaks, load_multilingual, multihop_views, multilingual_views, paraphrase_views,
    prompt_attack, wrap,
)
from obliviate.data.types import Example
from obliviate.errors import DataError

FORGET = [Example("Who guards the gate?", "Ilsa guards it.",
                  {"paraphrase": "Who is the gate's guard?"}),
          Example("Where does Orrin live?", "In Calder Vale.", {}),
          Example("What does Mira brew?", "Ember tea.",
                  {"paraphrase": ["Mira brews what?", "What is Mira's brew?"]})]
RETAIN = [Example("What is ice?", "Frozen water.")]


def _ctx(**settings) -> AttackContext:
    return AttackContext(None, None, {"forget": FORGET, "retain": RETAIN},
                         AttackSettings(**settings))


def test_shipped_jailbreaks_cover_every_family_twice():
    families = load_jailbreaks()
    assert {"role_play", "prefix_injection", "permission", "few_shot_compliance",
            "refusal_suppression"} <= set(families)
    for items in families.values():
        assert len(items) >= 2
        for item in items:
            assert item["template"].count("{question}") == 1
            assert "Q?" in wrap(item["template"], "Q?")


def test_bad_jailbreak_file(tmp_path):
    bad = tmp_path / "j.json"
    bad.write_text(json.dumps({"families": {"x": [{"name": "n", "template": "no slot"}]}}))
    with pytest.raises(DataError, match="question"):
        load_jailbreaks(bad)


def test_wrap_leaves_other_braces():
    assert wrap("{a} {other} / {question}", "Q", "O") == "{a} O / Q"


def test_paraphrase_views_use_the_field_and_map_rows():
    (view,) = paraphrase_views(_ctx(), FORGET)
    assert [e.prompt for e in view.datasets["forget"]] == [
        "Who is the gate's guard?", "Mira brews what?", "What is Mira's brew?"]
    assert view.rows["forget"] == [0, 2, 2]
    assert view.datasets["forget"][1].target == "Ember tea."


def test_paraphrase_falls_back_to_probes():
    plain = [Example(e.prompt, e.target) for e in FORGET]
    probes = [Example("Who keeps the gate?", "Ilsa.")]
    ctx = AttackContext(None, None, {"forget": plain, "probes": probes}, AttackSettings())
    (view,) = paraphrase_views(ctx, plain)
    assert view.datasets["forget"] == probes and view.rows["forget"] is None and view.notes


def test_multilingual_matches_source_questions():
    records = [{"language": "fr", "question": "Où vit Orrin ?", "answer": "À Calder Vale.",
                "source_question": "where does  orrin live?"},
               {"language": "es", "question": "¿Qué prepara Mira?", "source_index": 2},
               {"language": "es", "question": "¿Nada?", "source_question": "unknown"}]
    views = multilingual_views(_ctx(multilingual=records), FORGET)
    by = {v.variant: v for v in views}
    assert by["multilingual/fr"].rows["forget"] == [1]
    assert by["multilingual/fr"].datasets["forget"][0].target == "À Calder Vale."
    assert by["multilingual/es"].rows["forget"] == [2]  # the unmatched record is dropped
    assert by["multilingual/es"].datasets["forget"][0].target == "Ember tea."


def test_shipped_multilingual_example_reads():
    records = load_multilingual("demo")
    assert {r["language"] for r in records} == {"fr", "es"}


def test_multihop_composes_with_a_retain_question():
    views = multihop_views(_ctx(), FORGET)
    assert len(views) >= 2
    for view in views:
        prompts = [e.prompt for e in view.datasets["forget"]]
        assert all(f.prompt in p and "What is ice?" in p for f, p in zip(FORGET, prompts))


def test_prompt_attack_notes_skipped_families():
    views = prompt_attack(_ctx(prompt_families=("paraphrase", "multilingual", "jailbreak")))
    assert any(v.variant.startswith("jailbreak/role_play/") for v in views)
    assert any("multilingual skipped" in n for n in views[0].notes)


def test_icl_shows_some_facts_and_asks_the_others():
    (view,) = icl_attack(_ctx(icl_shots=2))
    shown = view.settings["shown_rows"]
    assert len(shown) == 2 and view.rows["forget"] == [i for i in range(3) if i not in shown]
    asked = view.datasets["forget"][0]
    for i in shown:
        assert FORGET[i].prompt in asked.prompt and FORGET[i].target in asked.prompt
    assert asked.prompt.endswith(FORGET[view.rows["forget"][0]].prompt)
    assert "Q: a\nA: b" in icl_prompt("c", [Example("a", "b")])
