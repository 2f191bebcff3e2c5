import numpy as np
import pytest
import torch

import helpers as H

SENTENCE = "The animal didn't cross the street because it was too tired."


@pytest.fixture(scope="module")
def attn(smol_tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(H.model_path("smollm2-135m-instruct"), attn_implementation="eager")
    ids = smol_tokenizer(SENTENCE, return_tensors="pt").input_ids
    with torch.no_grad():
        out = model(ids, output_attentions=True)
    return out.attentions, H.token_labels(smol_tokenizer, ids[0])


def test_heads_are_causal_and_rows_sum_to_one(attn):
    attentions, _ = attn
    w = H.attention_matrix(attentions, layer=3, head=2)
    assert np.allclose(w.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.triu(w, k=1), 0.0)


def test_a_head_links_it_to_animal(attn):
    attentions, tokens = attn
    layer, head, weight = H.top_heads(attentions, tokens.index("␣it"), tokens.index("␣animal"), n=1)[0]
    assert weight > 0.5


def test_plots_have_the_token_labels(attn):
    attentions, tokens = attn
    fig = H.plot_attention(attentions, tokens, layer=0, head=0)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == tokens
    assert fig.axes[1].get_ylabel() == "attention weight"  # the colour bar: the weights can be read
    grid = H.plot_attention_heads(attentions, tokens, layer=0)
    heatmaps = grid.axes[:-1]  # the last axes is the one colour bar shared by all heads
    assert sum(ax.axison for ax in heatmaps) == 9 and grid.axes[-1].get_ylabel() == "attention weight"
    assert [t.get_text() for t in heatmaps[0].get_yticklabels()] == tokens  # small heatmaps keep their labels


@pytest.mark.parametrize("layer,head,match", [(30, 0, r"layer must be an int in 0..29"),
                                              (-1, 0, r"layer must be an int in 0..29"),
                                              (0, 9, r"head must be an int in 0..8")])
def test_layer_or_head_out_of_range_names_the_range(attn, layer, head, match):
    attentions, tokens = attn
    with pytest.raises(ValueError, match=match):
        H.plot_attention(attentions, tokens, layer=layer, head=head)


@pytest.mark.parametrize("missing", [None, ()])
def test_missing_attentions_say_to_load_eager(missing):
    with pytest.raises(ValueError, match='attn_implementation="eager"'):
        H.plot_attention(missing, ["a"], layer=0, head=0)


def test_sdpa_model_really_returns_no_attentions_and_gets_the_message(smol_model, smol_tokenizer):
    ids = smol_tokenizer("hello there", return_tensors="pt").input_ids
    with torch.no_grad():
        attentions = smol_model(ids, output_attentions=True).attentions
    with pytest.raises(ValueError, match="eager"):
        H.plot_attention(attentions, H.token_labels(smol_tokenizer, ids[0]), layer=0, head=0)


def test_label_count_must_match(attn):
    attentions, tokens = attn
    with pytest.raises(ValueError, match="one token label per position"):
        H.plot_attention(attentions, tokens[:-1], layer=0, head=0)


def test_top_heads_refuses_looking_ahead(attn):
    attentions, _ = attn
    with pytest.raises(ValueError, match="cannot look ahead"):
        H.top_heads(attentions, query=1, key=5)
