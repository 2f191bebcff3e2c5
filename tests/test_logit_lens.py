import pytest
import torch

import helpers as H


def test_last_layer_equals_the_models_logits(smol_model, smol_tokenizer):
    lens = H.logit_lens(smol_model, smol_tokenizer, "The capital of France is")
    ids = smol_tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        logits = smol_model(ids).logits[0]
    assert torch.allclose(lens.output_logits, logits, atol=1e-4)
    assert len(lens.top_tokens) == 31 and lens.top_tokens[-1][-1] == "␣Paris"
    assert "layer 30 (output)" in lens._repr_html_()


def test_empty_text_is_refused(smol_model, smol_tokenizer):
    with pytest.raises(ValueError, match="empty"):
        H.logit_lens(smol_model, smol_tokenizer, "")


@pytest.mark.parametrize("rows_per_call", [1, 7])  # 7: the output layer's 5 rows straddle two calls
def test_chunking_does_not_change_the_lens(smol_model, smol_tokenizer, monkeypatch, rows_per_call):
    """The head runs over many layers' rows at once; any chunk size gives the per-layer result."""
    import importlib

    lens_module = importlib.import_module("helpers.logit_lens")  # the module; H.logit_lens is the function

    text = "The capital of France is"
    monkeypatch.setattr(lens_module, "SCORES_PER_CALL", rows_per_call * smol_model.config.vocab_size)
    lens = H.logit_lens(smol_model, smol_tokenizer, text)
    ids = smol_tokenizer(text, return_tensors="pt").input_ids
    with torch.no_grad():
        hidden = smol_model(ids, output_hidden_states=True).hidden_states
        for i, h in enumerate(hidden):  # the lens by hand, one layer at a time
            logits = smol_model.lm_head(h if i == len(hidden) - 1 else smol_model.model.norm(h))[0]
            assert lens.top_ids[i] == logits.argmax(-1).tolist()
    assert lens.output_logits.shape == logits.shape
    assert torch.allclose(lens.output_logits, logits, atol=1e-4)
