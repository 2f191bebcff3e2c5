"""The stored notebooks are what nbval can check: executed, error-free, tagged, renderable.

nbval silently skips a cell whose stored execution_count is empty, so an un-executed notebook
would pass without testing anything; this catches that.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
# nbval-ignore-output: run, asserts count, output not compared (may differ on another CPU: training).
# varying: the output differs between two runs on one machine (timings); make check-notebooks
# ignores only these cells' outputs, so the tag must stay rare.
ALLOWED_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-raises-exception", "varying",
                "solution"}  # solution: an exercise's worked answer, collapsed (tests/test_exercises.py)


def test_chapter_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    assert {"ch01_generating_text.ipynb", "ch02_tokens_and_embeddings.ipynb", "ch03_inside_llms.ipynb",
            "ch03b_inside_the_block.ipynb", "ch12a_lora_and_qlora.ipynb", "ch12b_fine_tuning.ipynb"} <= set(names)
    assert all(" " not in n for n in names)


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def nb(request):
    return json.loads(request.param.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_every_code_cell_was_executed_in_order(nb):
    counts = [c["execution_count"] for c in code_cells(nb)]
    assert None not in counts, "re-run `make notebooks`: nbval ignores cells never executed"
    assert counts == list(range(1, len(counts) + 1)), "execute top to bottom in a fresh kernel"


def test_no_stored_errors_or_missing_glyph_warnings(nb):
    for cell in code_cells(nb):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", "".join(cell["source"])
            text = "".join(out.get("text", ""))
            assert "Traceback" not in text and "missing from font" not in text


def test_only_known_tags_and_no_comment_markers(nb):
    for cell in code_cells(nb):
        assert set(cell["metadata"].get("tags", [])) <= ALLOWED_TAGS
        assert "# NBVAL" not in "".join(cell["source"]).upper()


def test_varying_cells_are_also_ignored_by_nbval(nb):
    for cell in code_cells(nb):
        tags = cell["metadata"].get("tags", [])
        assert "varying" not in tags or "nbval-ignore-output" in tags, "".join(cell["source"])


def test_no_per_run_widget_state_is_stored(nb):
    """Widget ids are random per run; `make notebooks` strips them (tests/strip_widget_views.py)."""
    assert "widgets" not in nb["metadata"]
    for cell in code_cells(nb):
        for out in cell["outputs"]:
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {})


def test_playground_cells_tell_readers_to_run_them(nb):
    for cell in code_cells(nb):
        if any(f in "".join(cell["source"]) for f in ("_playground(", "generation_stepper(", "attention_explorer(")):
            text = "".join(cell["outputs"][0]["data"]["text/plain"])
            assert "run this cell in JupyterLab" in text


def test_ch12_checks_the_chapter_promises_when_nbval_runs_it():
    """The training cells' numbers vary by machine (tagged), so the claims are asserted in the notebook itself."""
    source = "\n".join("".join(c["source"]) for n in ("ch12a_lora_and_qlora", "ch12b_fine_tuning")
                       for c in json.loads((NOTEBOOKS[0].parent / f"{n}.ipynb").read_text())["cells"])
    for claim in ("assert trainable == H.lora_parameter_count",  # LoRA count equals PEFT's
                  "assert ratio < 0.15",  # 4-bit decoder layers: 4 bits plus constants of fp32's 32
                  "assert last < first / 2",  # SFT loss below half of its start
                  "assert difference < 1e-5",  # reloaded adapter gives identical logits
                  "assert mean_after > mean_before",  # DPO raises the held-out margin
                  "assert shaped_before == 0 and shaped_after > len(zh_after) / 2",  # Qwen learns the house style
                  "assert zh_last < zh_first / 2",  # and its loss halves
                  'assert abs(loss_before - eval_before["eval_loss"]) < 1e-3',  # perplexity by hand = exp(eval_loss)
                  'assert abs(loss_after - eval_after["eval_loss"]) < 1e-3 and loss_after < loss_before',
                  "assert in_loss[first:].all() and not in_loss[:first].any()",  # the completion mask
                  "assert abs(value.item() - logged) < 2e-3 * max(1.0, abs(logged))"):  # DPO by hand = TRL's log
        assert claim in source, claim


def test_ch03b_checks_every_step_against_the_model_when_nbval_runs_it():
    """Issue 15: each hand-written step of one block is asserted equal to the module it replaces, in the notebook."""
    source = "\n".join("".join(c["source"]) for c in
                       json.loads((NOTEBOOKS[0].parent / "ch03b_inside_the_block.ipynb").read_text())["cells"])
    for claim in ('check(normed, seen["input_layernorm"]',  # RMSNorm
                  "assert torch.equal(k.repeat_interleave(groups, dim=1), repeat_kv(k, groups))",  # GQA
                  "assert stored == T * cache_bytes_per_token(kv_heads)",  # the cache formula
                  "check(q_rot, q_model",  # RoPE
                  "assert same(scores[(4, 1)], scores[(104, 101)]) and same(scores[(4, 1)], scores[(1004, 1001)])",
                  "assert not same(scores[(4, 1)], scores[(4, 2)])",  # RoPE: only the offset counts
                  "check(weights, out.attentions[LAYER]",  # softmax(q k^T / sqrt(d) + mask)
                  'check(attn_out, seen["self_attn"][0]',
                  'check(mlp_out, seen["mlp"]',  # SwiGLU
                  "check(h + mlp_out, x_out",  # the whole block
                  "check(logits, out.logits",  # all blocks
                  "check(zh_logits, zh_model(zh_ids).logits",  # the same code on Qwen
                  "assert with_cache == [2 * matrix_weights + per_context_token * (n + 1) for n in contexts]",  # grows
                  "assert e == heads * n * n * 4 and s == heads * n * hd * 4",  # eager vs SDPA memory
                  "assert sum(parts.values()) == total == sum(g.total for g in H.parameter_groups(model))"):
        assert claim in source, claim
