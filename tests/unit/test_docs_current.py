"""docs/methods.md is generated from the registry; it must list every method as it is now."""
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_methods_doc_is_current():
    render = runpy.run_path(str(ROOT / "scripts" / "gen_methods_doc.py"))["render"]
    assert (ROOT / "docs" / "methods.md").read_text() == render(), (
        "docs/methods.md is stale: run `python scripts/gen_methods_doc.py`")
