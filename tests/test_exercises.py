"""Exercises that check themselves: each check rejects wrong answers with a hint, and every exercise has a solution.

The solutions themselves run where they are, in the notebooks' collapsed cells (nbval compares their ✓ lines);
here every check is shown at least one wrong answer, which it must reject with a hint naming a section.
"""

import json
from pathlib import Path

import pytest

import helpers as H
from helpers.exercises import CHECKS

ROOT = Path(__file__).resolve().parent.parent
JOKE = [{"role": "user", "content": "Create a funny joke about chickens."}]


def wrong_sampler(seed):  # ignores the seed's effect: greedy, so seeds 0 and 1 agree
    return "the same text every time"


def unseeded_sampler(seed, _calls=[]):  # noqa: B006 - a different text on every call
    _calls.append(seed)
    return f"text {len(_calls)}"


WRONG = {
    "ch01-1": [(9, 7), "9 and 7", (0, 0)],
    "ch01-2": [JOKE, [{"role": "system", "content": "Be brief."}, JOKE[0]], [JOKE[0], {"role": "system",
                                                                                  "content": H.exercises.SYSTEM}]],
    "ch01-3": ["<|im_start|>assistant", "", 42],
    "ch01-4": [wrong_sampler, unseeded_sampler, "a text"],
    "ch01-5": [60, 62, 24, "25"],
    "ch12a-1": [921_600, 81_408, 1_520_640, 2442240.5],
    "ch12a-2": [{"q_proj", "k_proj", "v_proj", "o_proj"}, {"query", "key", "value"}, "q_proj"],
    "ch12a-3": [2.11e-2, 0.5, "small"],
    "ch12a-4": [2.11e-2, 0.1, None],
    "ch12a-5": [0.111, 1.0, [0.133]],
}


@pytest.mark.parametrize("key,answer", [(k, a) for k, answers in WRONG.items() for a in answers],
                         ids=lambda v: v if isinstance(v, str) and v.startswith("ch") else None)
def test_a_wrong_answer_is_rejected_with_a_hint_to_a_section(key, answer):
    verdict = H.check_exercise(key, answer)
    assert not verdict and "(see " in verdict.message and str(verdict).startswith("✗ not yet")


def test_every_check_is_given_wrong_answers_and_every_exercise_has_a_solution_that_calls_it():
    assert set(WRONG) == set(CHECKS)
    solutions = {}
    for path in (ROOT / "notebooks").glob("ch*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if "solution" in cell["metadata"].get("tags", []):
                source = "".join(cell["source"])
                assert cell["metadata"].get("jupyter", {}).get("source_hidden"), f"{path.name}: a solution is hidden"
                keys = [k for k in CHECKS if f'H.check_exercise("{k}"' in source]
                assert len(keys) == 1, f"{path.name}: a solution cell calls one check: {source[:80]!r}"
                solutions[keys[0]] = path.name
                results = ["".join(o["data"]["text/plain"]) for o in cell["outputs"]
                           if o["output_type"] == "execute_result"]
                assert results and results[-1].startswith(f"✓ right ({keys[0]})"), \
                    f"{path.name}: the stored solution of {keys[0]} passes its check: {results!r}"
    assert set(solutions) == set(CHECKS), f"exercises without a solution cell: {set(CHECKS) - set(solutions)}"


def test_chapters_with_exercises_have_four_to_six():
    chapters = {}
    for key in CHECKS:
        chapters.setdefault(key.split("-")[0], []).append(key)
    assert all(4 <= len(keys) <= 6 for keys in chapters.values()), chapters


def test_an_unknown_key_names_the_known_ones():
    with pytest.raises(KeyError, match="ch01-1"):
        H.check_exercise("ch01-9", 1)


def test_a_verdict_is_escaped_in_html():
    verdict = H.exercises.Verdict("ch01-1", False, "<b>no</b>")
    assert "<b>no</b>" not in verdict._repr_html_() and "&lt;b&gt;" in verdict._repr_html_()
