"""Security promises that hold across the code base, checked on the source itself."""

import re
from pathlib import Path

import pytest

import helpers as H

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*ROOT.glob("helpers/*.py"), *ROOT.glob("benchmarks/*.py"), *ROOT.glob("notebooks/*.ipynb")]


def test_no_code_turns_trust_remote_code_on():
    for path in SOURCES:
        assert not re.search(r"trust_remote_code\s*=\s*True", path.read_text(encoding="utf-8")), path.name


def test_trust_remote_code_has_one_switch_and_it_is_off(monkeypatch):
    monkeypatch.delenv("LLM_LAB_TRUST_REMOTE_CODE", raising=False)
    assert H.trust_remote_code() is False
    monkeypatch.setenv("LLM_LAB_TRUST_REMOTE_CODE", "0")
    assert H.trust_remote_code() is False
    for unclear in ("yes", "true", "on"):  # only the documented "1" turns it on; anything else is refused, not a no
        monkeypatch.setenv("LLM_LAB_TRUST_REMOTE_CODE", unclear)
        with pytest.raises(ValueError, match="set it to 1 to let a model's own Python code run, or to 0"):
            H.trust_remote_code()
    monkeypatch.setenv("LLM_LAB_TRUST_REMOTE_CODE", "1")
    assert H.trust_remote_code() is True


def test_every_torch_load_is_weights_only():
    for path in SOURCES:
        for call in re.findall(r"torch\.load\([^)]*\)", path.read_text(encoding="utf-8")):
            assert "weights_only=True" in call, f"{path.name}: {call}"


@pytest.mark.parametrize("name", H.bundled_model_names())
def test_bundled_models_are_safetensors_only(name):
    folder = H.model_path(name)
    assert not [p.name for p in folder.rglob("*") if p.suffix in {".bin", ".pt", ".pth", ".pkl", ".ckpt"}]


def test_hub_downloads_ask_for_safetensors_only():
    from helpers import fetch

    assert not any(p.endswith((".bin", ".pt", ".pth", ".pkl")) or p == "*" for p in fetch.HUB_PATTERNS)
    assert "*.safetensors" in fetch.HUB_PATTERNS
