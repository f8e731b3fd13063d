"""`obliviate demo --steps 1` on a one-example subset opens no network connection (HF_HUB_OFFLINE unset)."""
from __future__ import annotations

import pytest

from obliviate.cli import main
from tests.offline_guard import no_network

pytestmark = pytest.mark.e2e


def test_demo_opens_no_socket(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with no_network(monkeypatch) as attempts:
        assert main(["demo", "--steps", "1", "--limit", "1", "--out",
                     str(tmp_path / "demo")]) == 0
    assert attempts == []
    assert (tmp_path / "demo" / "results.json").is_file()
