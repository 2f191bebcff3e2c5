import pytest

import helpers as H

TEXTS = ["The capital of France is", "Hi"]


@pytest.mark.parametrize("side,expected", [
    ("right", [[1, 1, 1, 1, 1], [1, 0, 0, 0, 0]]),
    ("left", [[1, 1, 1, 1, 1], [0, 0, 0, 0, 1]]),
])
def test_mask_marks_real_tokens_and_padding(smol_tokenizer, side, expected):
    grid = H.attention_mask_grid(smol_tokenizer, TEXTS, padding_side=side)
    assert grid.mask == expected
    hi_row = [p.text for p, m in zip(grid.pieces[1], grid.mask[1], strict=True) if m]
    assert hi_row == ["Hi"]


def test_the_tokenizer_is_left_as_it_was(smol_tokenizer):
    before = smol_tokenizer.padding_side
    H.show_attention_mask(smol_tokenizer, TEXTS, padding_side="left" if before == "right" else "right")
    assert smol_tokenizer.padding_side == before


def test_view_shows_pad_cells_distinctly_and_escapes(smol_tokenizer):
    view = H.show_attention_mask(smol_tokenizer, ["<b>x</b>", "a"], padding_side="left")
    assert "repeating-linear-gradient" in view.html  # pad cells hatched
    assert "<b>x" not in view.html and "&lt;" in view.html
    assert repr(view).startswith("attention_mask (left padding):")


def test_a_tokenizer_without_pad_token_gets_the_fix(gpt4_tokenizer):
    assert gpt4_tokenizer.pad_token is None
    with pytest.raises(H.NoPadTokenError, match=r"tokenizer.pad_token = tokenizer.eos_token"):
        H.show_attention_mask(gpt4_tokenizer, TEXTS)


@pytest.mark.parametrize("texts,error", [("one text", TypeError), ([], TypeError), ([1, 2], TypeError)])
def test_texts_must_be_a_list_of_strings(smol_tokenizer, texts, error):
    with pytest.raises(error):
        H.attention_mask_grid(smol_tokenizer, texts)


def test_padding_side_is_checked(smol_tokenizer):
    with pytest.raises(ValueError, match="'left' or 'right'"):
        H.attention_mask_grid(smol_tokenizer, TEXTS, padding_side="middle")


@pytest.mark.slow
def test_the_mask_is_what_makes_padding_harmless(smol_model, smol_tokenizer):
    """The claim of section 2.4, with numbers: masked padded logits equal the unpadded run."""
    import torch

    saved, smol_tokenizer.padding_side = smol_tokenizer.padding_side, "left"
    try:
        batch = smol_tokenizer(TEXTS, return_tensors="pt", padding=True)
    finally:
        smol_tokenizer.padding_side = saved  # the tokenizer is shared by the whole session
    alone = smol_tokenizer(["Hi"], return_tensors="pt")
    with torch.no_grad():
        ref = smol_model(**alone).logits[0, -1]
        masked = smol_model(**batch).logits[1, -1]
        unmasked = smol_model(input_ids=batch.input_ids).logits[1, -1]
    assert torch.allclose(masked, ref, atol=1e-3)
    assert (unmasked - ref).abs().max() > 1.0
