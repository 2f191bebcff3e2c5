"""tests/stored_outputs.py: the browser run's outputs checked against the stored ones as nbval would."""

import copy

from stored_outputs import differences


def stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def result(plain, **more):
    return {"output_type": "execute_result", "execution_count": 1, "metadata": {},
            "data": {"text/plain": plain, **more}}


def notebook(*cells):
    return {"cells": [{"cell_type": "markdown", "source": "# title"},
                      *({"cell_type": "code", "execution_count": i + 1, "metadata": {"tags": tags},
                         "source": f"cell_{i}()", "outputs": outs} for i, (outs, tags) in enumerate(cells))]}


STORED = notebook(([stream(["Paris\n", "is the capital\n"])], []),
                  ([result("0.41 s")], ["nbval-ignore-output"]),
                  ([result("<Figure size 700x320 with 1 Axes>", **{"image/png": "AAAA"})], []))


def outputs_of(nb):
    return [copy.deepcopy(c["outputs"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_same_outputs_pass_and_list_or_string_text_is_the_same():
    executed = outputs_of(STORED)
    executed[0][0]["text"] = "Paris\nis the capital\n"  # JupyterLab gives one string, the file a list
    assert differences(STORED, executed) == []


def test_a_changed_answer_is_reported_with_its_cell_and_both_texts():
    executed = outputs_of(STORED)
    executed[0][0]["text"] = "Lyon\nis the capital\n"
    found = differences(STORED, executed)
    assert len(found) == 1 and found[0].startswith("code cell 0 (cell_0())")
    assert "Paris" in found[0] and "Lyon" in found[0]


def test_an_error_or_a_missing_output_is_a_difference():
    executed = outputs_of(STORED)
    executed[0] = [{"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}]
    assert differences(STORED, executed)
    executed = outputs_of(STORED)
    executed[0] = []
    assert differences(STORED, executed)


def test_ignored_cells_and_images_are_not_compared_as_in_nbval():
    executed = outputs_of(STORED)
    executed[1][0]["data"]["text/plain"] = "0.97 s"  # nbval-ignore-output
    executed[2][0]["data"]["image/png"] = "BBBB"      # nbval skips PNG (issue 18 adds figure checks)
    assert differences(STORED, executed) == []


def test_split_streams_are_coalesced_and_widget_ids_and_addresses_ignored():
    stored = notebook(([stream("a\nb\n"), result("<object at 0x7f3a2b1c0d10>")], []))
    executed = [[stream("a\n"), stream("b\n"),
                 result("<object at 0x55aa00ff1234>",
                        **{"application/vnd.jupyter.widget-view+json": {"model_id": "f00"}})]]
    assert differences(stored, executed) == []


def test_a_stderr_warning_that_was_not_stored_is_a_difference():
    executed = outputs_of(STORED)
    executed[0].append(stream("UserWarning: something new\n", name="stderr"))
    assert "stderr" in differences(STORED, executed)[0]


def test_a_different_number_of_code_cells_is_reported():
    assert differences(STORED, outputs_of(STORED)[:2]) == ["3 code cells stored, 2 executed"]
