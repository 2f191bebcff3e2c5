"""helpers/block.py: the decoder-block pictures and measures of ch03b, and the attention explorer.

The hand-written block itself lives in the notebook (its asserts are the reference checks, on SmolLM2
and on Qwen2.5); here the helpers are tested on tiny models built from a config, with GQA and biases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from bad_input import assert_clear_error as _assert_clear_error

import helpers as H


def assert_clear_error(call, error, pattern):
    _assert_clear_error((lambda _: call(), error, pattern), None)


def tiny(heads=4, kv=2, bias=False, seed=0):
    """A two-block Llama (or, with bias=True, Qwen2), random weights, heads of 8: the layout, not the knowledge."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    kwargs = dict(vocab_size=64, hidden_size=8 * heads, intermediate_size=48, num_hidden_layers=2,
                  num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=64)
    model = Qwen2ForCausalLM(Qwen2Config(**kwargs)) if bias else LlamaForCausalLM(LlamaConfig(**kwargs))
    return model.eval()


def records_of(model, ids):
    """(q, k, v) per block as the notebook's forward_by_hand keeps them (q and k after RoPE), via the model's own
    projections and rotary embedding, plus the model's eager attention weights to compare with."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    model.set_attn_implementation("eager")
    with torch.no_grad():
        out = model(ids, output_hidden_states=True, output_attentions=True)
        positions = torch.arange(ids.shape[1])[None]
        cos, sin = model.model.rotary_emb(out.hidden_states[0], positions)
        records = []
        for i, block in enumerate(model.model.layers):
            a, x = block.self_attn, block.input_layernorm(out.hidden_states[i])
            q, k, v = (proj(x).view(1, ids.shape[1], -1, a.head_dim).transpose(1, 2)
                       for proj in (a.q_proj, a.k_proj, a.v_proj))
            records.append((*apply_rotary_pos_emb(q, k, cos, sin), v))
    return records, out.attentions


@pytest.mark.parametrize("heads, kv, bias", [(4, 2, False), (4, 4, False), (4, 1, False), (6, 2, True)])
def test_attention_row_equals_the_models_eager_weights_for_every_head_and_query(heads, kv, bias):
    model = tiny(heads, kv, bias)
    ids = torch.tensor([[3, 9, 27, 5, 11, 2]])
    records, attentions = records_of(model, ids)
    for layer in range(2):
        for head in range(heads):
            for query in range(ids.shape[1]):
                row = H.attention_row(records, layer, head, query)
                np.testing.assert_allclose(row["weights"], attentions[layer][0, head, query].numpy(), atol=1e-6)
                assert row["kv_head"] == head // (heads // kv)
                assert np.isneginf(row["masked"][query + 1:]).all() and row["weights"][query + 1:].sum() == 0
                assert math.isclose(float(row["weights"].sum()), 1.0, rel_tol=1e-6)
                np.testing.assert_allclose(row["scaled"], row["dots"] / math.sqrt(8), rtol=1e-6)


def test_attention_row_output_is_the_weighted_sum_of_values():
    records, _ = records_of(tiny(), torch.tensor([[1, 2, 3, 4]]))
    row = H.attention_row(records, 1, 3, 2)
    v = records[1][2][0, row["kv_head"]].numpy()
    np.testing.assert_allclose(row["output"], row["weights"] @ v, rtol=1e-6)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda r: H.attention_row([], 0, 0, 0), TypeError, "one \\(q, k, v\\) per layer"),
    (lambda r: H.attention_row("qkv", 0, 0, 0), TypeError, "records must be"),
    (lambda r: H.attention_row(r, 2, 0, 0), ValueError, "layer must be an int in 0..1"),
    (lambda r: H.attention_row(r, True, 0, 0), ValueError, "layer must be an int"),
    (lambda r: H.attention_row(r, 0, 4, 0), ValueError, "head must be an int in 0..3"),
    (lambda r: H.attention_row(r, 0, 0, 4), ValueError, "query must be an int in 0..3"),
    (lambda r: H.attention_row(r, 0, 0, -1), ValueError, "query must be an int"),
    (lambda r: H.attention_row(r, 0, 0, 1.0), ValueError, "query must be an int"),
    (lambda r: H.attention_row([r[0][:2]], 0, 0, 0), TypeError, "must be a \\(q, k, v\\) tuple"),
    (lambda r: H.attention_row([(r[0][0][0], r[0][1], r[0][2])], 0, 0, 0), ValueError, "q must be \\(1, heads"),
    (lambda r: H.attention_row([(r[0][0][:, :3], r[0][1], r[0][2])], 0, 0, 0), ValueError, "kv heads dividing"),
])
def test_attention_row_bad_input_gets_one_line_naming_the_fix(call, error, pattern):
    records, _ = records_of(tiny(), torch.tensor([[1, 2, 3, 4]]))
    assert_clear_error(lambda: call(records), error, pattern)


def test_attention_row_html_escapes_every_token_and_marks_the_future():
    records, _ = records_of(tiny(), torch.tensor([[1, 2, 3, 4]]))
    tokens = ["<script>alert(1)</script>", "a&b", "'quote'", "end"]
    html_text = H.block.attention_row_html(records, tokens, 0, 1, 1)
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text and "a&amp;b" in html_text
    assert html_text.count("-inf (future)") == 2  # keys 2 and 3 come after query 1
    with pytest.raises(ValueError, match="one label per position"):
        H.block.attention_row_html(records, tokens[:3], 0, 0, 0)


def test_attention_explorer_redraws_on_every_control_and_shows_messages_not_tracebacks():
    records, _ = records_of(tiny(), torch.tensor([[1, 2, 3, 4]]))
    explorer = H.attention_explorer(records, ["a", "b", "c", "d"])
    assert "run this cell in JupyterLab" in explorer._repr_mimebundle_()["text/plain"]
    assert explorer.query.value == 3 and explorer.layer.max == 1 and explorer.head.max == 3
    seen = {explorer.view.value}
    for control, value in ((explorer.layer, 1), (explorer.head, 2), (explorer.query, 0)):
        control.value = value
        assert explorer.view.value not in seen, f"changing {control.description} did not redraw"
        seen.add(explorer.view.value)
    assert "layer 1, head 2 (KV head 1), query 0" in explorer.view.value
    with pytest.raises(ValueError, match="one label per position"):
        H.attention_explorer(records, ["a", "b"])


def test_block_diagram_reads_the_layout_from_the_model():
    view = H.block_diagram(tiny(6, 2, bias=True), tokens=7)
    text = repr(view)
    assert "6 query heads and 2 KV heads of 8" in text and "MLP size 48" in text
    assert "(1, 6, 7, 8)" in text and "(1, 2, 7, 8)" in text and "(1, 6, 7, 7)" in text and "(1, 7, 48)" in text
    assert "q_proj + bias" in text  # Qwen's biases on q, k and v
    assert "q_proj + bias" not in repr(H.block_diagram(tiny(), tokens=3))
    assert view.html == H.block_diagram(tiny(6, 2, bias=True), tokens=7).html  # deterministic


@pytest.mark.parametrize("model, tokens, error, pattern", [
    ("smollm2-135m-instruct", 5, TypeError, "is a name; load it"),
    (None, 5, TypeError, "decoder-only model"),
    ("model", 0, ValueError, "tokens must be an int from 1"),
    ("model", 2.5, ValueError, "tokens must be an int"),
    ("model", True, ValueError, "tokens must be an int"),
])
def test_block_diagram_bad_input(model, tokens, error, pattern):
    model = tiny() if model == "model" else model
    assert_clear_error(lambda: H.block_diagram(model, tokens=tokens), error, pattern)


def test_plot_rope_draws_both_panels_with_a_colour_bar():
    inv_freq = 1.0 / 10000 ** (torch.arange(0, 64, 2).float() / 64)
    fig = H.plot_rope(inv_freq, positions=32, title="RoPE $theta$")
    assert len(fig.axes) == 3  # speeds, angles, colour bar
    assert fig.axes[0].lines[0].get_ydata()[0] == pytest.approx(1.0)
    assert fig.axes[1].images[0].get_array().shape == (32, 32)  # (pair, position)


@pytest.mark.parametrize("inv_freq, positions, error, pattern", [
    ([], 64, TypeError, "non-empty 1-D"),
    ([1.0, float("nan")], 64, ValueError, "finite"),
    ([1.0, -0.1], 64, ValueError, "positive"),
    (["a"], 64, TypeError, "numbers only"),
    ([1.0, 0.1], 1, ValueError, "positions must be an int from 2"),
    ([1.0, 0.1], 10**9, ValueError, "positions must be an int"),
])
def test_plot_rope_bad_input(inv_freq, positions, error, pattern):
    assert_clear_error(lambda: H.plot_rope(inv_freq, positions=positions), error, pattern)


def test_largest_tensor_bytes_sees_the_score_matrix_and_not_inside_a_fused_kernel():
    q = torch.randn(1, 3, 100, 16)
    assert H.largest_tensor_bytes(lambda: q @ q.transpose(-1, -2)) == 3 * 100 * 100 * 4
    fused = H.largest_tensor_bytes(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True))
    assert fused < 3 * 100 * 100 * 4 and fused >= q.numel() * 4
    assert_clear_error(lambda: H.largest_tensor_bytes(q), TypeError, "pass a function to run")


def test_plot_attention_cost_draws_and_checks_its_lengths():
    fig = H.plot_attention_cost([128, 256], [1e6, 4e6], [1e5, 2e5], [8, 32, 128], [0.07, 0.07, 0.08], [0.1, 0.2, 0.4])
    left, right = fig.axes
    assert len(left.lines) == 2 and len(right.lines) == 2
    assert list(right.lines[0].get_ydata()) == pytest.approx([100, 200, 400])  # milliseconds
    assert_clear_error(lambda: H.plot_attention_cost([1, 2], [1], [1, 2], [1], [1], [1]), ValueError,
                       "eager_bytes has 1 numbers but lengths has 2")
    assert_clear_error(lambda: H.plot_attention_cost([1], [1], [1], [1], [float("inf")], [1]), ValueError, "finite")
