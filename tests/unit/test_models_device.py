"""Device and dtype picking."""
import pytest
import torch

from obliviate.errors import ConfigError
from obliviate.models import pick_device, pick_dtype


def test_auto_device_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device(None) == torch.device("cpu")
    assert pick_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("cuda")


def test_explicit_device_and_missing_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="CUDA is not available"):
        pick_device("cuda")
    with pytest.raises(ConfigError, match="unknown device"):
        pick_device("quantum")


@pytest.mark.parametrize(
    "name, expected",
    [("float32", torch.float32), ("fp32", torch.float32), ("bf16", torch.bfloat16),
     ("bfloat16", torch.bfloat16), ("FP16", torch.float16), ("float16", torch.float16),
     ("torch.bfloat16", torch.bfloat16)],
)
def test_named_dtypes(name, expected):
    assert pick_dtype(name, "cpu") == expected


def test_auto_dtype(monkeypatch):
    assert pick_dtype("auto", "cpu") == torch.float32
    assert pick_dtype(None, torch.device("cpu")) == torch.float32
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert pick_dtype("auto", "cuda") == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert pick_dtype("auto", "cuda") == torch.float32


def test_bad_dtype_lists_choices():
    with pytest.raises(ConfigError) as err:
        pick_dtype("float8", "cpu")
    message = str(err.value)
    assert "float8" in message and "bf16" in message and "float32" in message and "auto" in message
