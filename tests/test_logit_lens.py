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
