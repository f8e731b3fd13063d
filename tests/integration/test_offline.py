"""Offline by construction: local runs open no network connection (HF_HUB_OFFLINE unset),
and a hub id with no network fails at once with one line."""
from __future__ import annotations

import time

from obliviate.cli import main
from tests.offline_guard import no_network


def test_run_and_eval_on_local_files_open_no_socket(model_dir, data_files, tmp_path,
                                                    monkeypatch, capsys):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with no_network(monkeypatch) as attempts:
        assert main(["run", f"model={model_dir}", f"data.forget={data_files['forget']}",
                     "method=npo", "train.max_steps=1", "train.batch_size=2", "eval=after",
                     "eval_max_new_tokens=2", f"output_dir={tmp_path / 'run'}"]) == 0
        assert main(["eval", str(tmp_path / "run"), "--max-new-tokens", "2",
                     "--out", str(tmp_path / "eval")]) == 0
    assert attempts == []


def test_hub_id_without_network_fails_fast_in_one_line(data_files, tmp_path, monkeypatch,
                                                       capsys):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                  "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))  # nothing cached
    with no_network(monkeypatch) as attempts:
        start = time.perf_counter()
        code = main(["eval", "some-org/some-model", "--forget", str(data_files["forget"]),
                     "--out", str(tmp_path / "ev")])
        elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2 and "cannot be reached" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert len(attempts) <= 1, "one probe at most (DNS may fail first), no retries"
    assert elapsed < 10
