"""tests/compare_notebooks.py, behind `make check-notebooks`: only `varying` cells may change."""

import copy
import json

from compare_notebooks import compare, differences, main


def notebook(timing="0.41 s", answer="Paris"):
    def cell(source, text, tags=()):
        return {"cell_type": "code", "execution_count": 1, "metadata": {"tags": list(tags)}, "source": source,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": text}]}
    return {"metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5,
            "cells": [cell("answer()", answer), cell("timing()", timing, tags=["varying"])]}


def test_a_changed_timing_in_a_varying_cell_is_allowed():
    assert differences(notebook(), notebook(timing="0.97 s")) == []


def test_a_changed_output_anywhere_else_is_reported_with_the_cell():
    found = differences(notebook(), notebook(answer="Lyon"))
    assert len(found) == 1 and found[0].startswith("cell 0: outputs changed") and "Paris" in found[0]


def test_a_changed_source_or_count_or_metadata_is_reported():
    other = copy.deepcopy(notebook())
    other["cells"][1]["source"] = "timing(2)"
    other["cells"][0]["execution_count"] = 2
    other["metadata"]["widgets"] = {}
    assert differences(notebook(), other) == [
        "notebook metadata changed", "cell 0: execution_count changed",
        "cell 1: the source differs (the stored notebook is not the one executed)"]
    assert differences(notebook(), {**notebook(), "cells": []}) == ["2 cells stored, 0 executed"]


def test_a_varying_cell_may_change_its_outputs_but_not_its_execution_count():
    other = notebook(timing="0.97 s")
    other["cells"][1]["execution_count"] = 5
    assert differences(notebook(), other) == ["cell 1: execution_count changed"]


def test_a_changed_cell_id_or_type_is_reported():
    other = copy.deepcopy(notebook())
    other["cells"][1]["id"] = "new-id"
    other["cells"][0]["cell_type"] = "raw"
    assert differences(notebook(), other) == ["cell 0: cell_type changed", "cell 1: id changed"]


def test_the_script_exits_1_and_names_the_notebook(tmp_path, capsys):
    stored, executed = tmp_path / "stored", tmp_path / "executed"
    stored.mkdir(), executed.mkdir()
    for name, nb in {"a.ipynb": notebook(), "b.ipynb": notebook()}.items():
        (stored / name).write_text(json.dumps(nb))
    (executed / "a.ipynb").write_text(json.dumps(notebook(timing="9 s")))
    assert compare(stored, executed) == {"a.ipynb": [], "b.ipynb": [f"no executed copy in {executed}"]}
    assert main([str(stored), str(executed)]) == 1
    assert "b.ipynb: CHANGED" in capsys.readouterr().out
    (executed / "b.ipynb").write_text(json.dumps(notebook()))
    assert main([str(stored), str(executed)]) == 0
    assert main([str(stored)]) == 2
