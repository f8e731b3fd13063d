"""WHP's anchored-term helpers (methods/_anchors.py): the dictionary files, the translation and
the alignment of the translated tokens, on hand-made token lists."""
from __future__ import annotations

import pytest

from obliviate.data import Example
from obliviate.errors import ConfigError, DataError
from obliviate.methods._anchors import generic_sources, load_anchor_terms, translate, translate_examples


def test_generic_sources_edge_blocks():
    # the inside of a term is -1; a term deleted at the very end has no position to predict from
    assert generic_sources([1, 9, 9, 9, 3], [1, 7, 3]) == [-1, 0, -1, -1, 1]
    assert generic_sources([1, 2, 9, 9], [1, 2]) == [-1, 0, -1, -1]
    # a token inserted at the end changes nothing for the original tokens
    assert generic_sources([1, 2], [1, 2, 3]) == [-1, 0]
    # a term replaced at the very start: its first token keeps -1 (nothing predicts it)
    assert generic_sources([9, 2], [7, 2]) == [-1, 0]
    # a term translated to nothing: its first token is predicted where the next one now is
    assert generic_sources([1, 9, 3], [1, 3]) == [-1, 0, 0]


def test_generic_sources_align_long_sequences_with_frequent_tokens():
    """Over 200 tokens, difflib's auto-junk heuristic would ignore the frequent token 1 and
    lose the alignment; it is switched off."""
    original = [1, 2] * 100 + [9] + [1, 2] * 100
    translated = [1, 2] * 100 + [7] + [1, 2] * 100
    # every token keeps its counterpart: token i is predicted at position i - 1
    assert generic_sources(original, translated) == [-1] + list(range(0, 400))


def test_translate_longest_term_first_and_nothing_without_anchors():
    anchors = {"Harry": "Tom", "Harry Potter": "Jon Smith", "Potter": "Smith"}
    assert translate("Harry Potter met Harry. Potter!", anchors) == "Jon Smith met Tom. Smith!"
    assert translate("Harry, hi!", {}) == "Harry, hi!" and translate("", anchors) == ""
    rows = translate_examples([Example("Harry?", "Potter.", {"id": 3})], anchors)
    assert rows == [Example("Tom?", "Smith.", {"id": 3, "anchored": True})]


def test_load_anchor_terms_reads_json_by_suffix_in_any_case(tmp_path):
    path = tmp_path / "terms.JSON"  # tab-indented: valid JSON, not valid YAML
    path.write_text('{\n\t"Hogwarts": "the Academy"\n}', encoding="utf-8")
    assert load_anchor_terms(str(path)) == {"Hogwarts": "the Academy"}


def test_load_anchor_terms_messages(tmp_path):
    missing = str(tmp_path / "none.json")
    cases = [("builtin:nope", ConfigError, "whp: no shipped anchor dictionary 'nope'; the shipped "
                                           "one is 'builtin:hp_anchors'."),
             (missing, ConfigError, f"whp: anchor_terms_path {missing!r} is not a file; give a "
                                    "JSON or YAML mapping of specific terms to generic ones.")]
    for name, text in (("list.yaml", "- a\n- b\n"), ("empty.json", "{}")):
        (tmp_path / name).write_text(text)
        cases.append((str(tmp_path / name), DataError,
                      f"whp: the anchor dictionary {str(tmp_path / name)!r} must be a non-empty "
                      'mapping {"specific term": "generic term", ...}.'))
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": "x", "": "y", " ": "z", "b": 1, "c": "w", "d": 2, "e": 3}')
    cases.append((str(bad), DataError, f"whp: anchor dictionary {str(bad)!r} has entries that "
                                       "are not non-empty string -> string: ['', ' ', 'b']."))
    for name, error, message in cases:
        with pytest.raises(error) as info:
            load_anchor_terms(name)
        assert str(info.value) == message
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(DataError, match=r"^whp: cannot parse the anchor dictionary '.*broken\.json': "):
        load_anchor_terms(str(broken))
