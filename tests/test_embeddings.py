import pytest
import torch

import helpers as H


def test_nearest_tokens_of_king_include_queen(smol_model, smol_tokenizer):
    query, rows = H.nearest_token_list(smol_model, smol_tokenizer, " king", k=8)
    assert query.text == "␣king"
    assert "␣queen" in [n.piece.text for n in rows]
    cosines = [n.cosine for n in rows]
    assert cosines == sorted(cosines, reverse=True) and all(-1 <= c <= 1 for c in cosines)


def test_nearest_tokens_agree_with_a_direct_computation(smol_model, smol_tokenizer):
    emb = smol_model.get_input_embeddings().weight.detach()
    q = smol_tokenizer(" Paris", add_special_tokens=False).input_ids[0]
    sims = torch.nn.functional.cosine_similarity(emb, emb[q].unsqueeze(0))
    sims[q] = -2
    _, rows = H.nearest_token_list(smol_model, smol_tokenizer, q, k=3)
    assert [n.piece.id for n in rows] == sims.topk(3).indices.tolist()


def test_a_word_of_several_tokens_names_its_pieces_and_the_leading_space_hint(smol_model, smol_tokenizer):
    with pytest.raises(H.NotOneTokenError, match=r"splits into \d tokens .*try ' unbelievably'"):
        H.nearest_tokens(smol_model, smol_tokenizer, "unbelievably", k=3)


def test_an_unknown_character_is_refused_not_answered_with_unk(bert_model, bert_tokenizer):
    with pytest.raises(H.NotOneTokenError, match=r"unknown token \[UNK\]"):
        H.nearest_tokens(bert_model, bert_tokenizer, "猫", k=3)


@pytest.mark.parametrize("k", [0, -1, 10**7, 2.5, True])
def test_k_out_of_range_is_refused(smol_model, smol_tokenizer, k):
    with pytest.raises(ValueError, match="k must be an int between 1 and 49,151"):
        H.nearest_tokens(smol_model, smol_tokenizer, " king", k=k)


@pytest.mark.parametrize("token,error", [("", H.NotOneTokenError), (10**6, H.NotOneTokenError),
                                         (None, TypeError), (3.0, TypeError)])
def test_bad_tokens(smol_model, smol_tokenizer, token, error):
    with pytest.raises(error):
        H.nearest_tokens(smol_model, smol_tokenizer, token)


def test_nearest_tokens_view_escapes_token_text(smol_model, smol_tokenizer):
    view = H.nearest_tokens(smol_model, smol_tokenizer, "<", k=5)
    assert "&lt;" in view.html and "white-space:pre'><" not in view.html


def test_word_vector_depends_on_context(bert_model, bert_tokenizer):
    river = H.word_vector(bert_model, bert_tokenizer, "I sat on the bank of the river.", "bank")
    river2 = H.word_vector(bert_model, bert_tokenizer, "The river overflowed its bank.", "bank")
    money = H.word_vector(bert_model, bert_tokenizer, "I deposited money at the bank.", "bank")
    cos = torch.nn.functional.cosine_similarity
    assert river.shape == (384,)
    assert cos(river, river2, dim=0) > cos(river, money, dim=0) + 0.05


def test_qwen_sized_tables_ignore_rows_no_token_maps_to(smol_tokenizer):
    """An embedding table longer than the vocabulary (as in Qwen2.5) never yields an unknown id."""
    emb = torch.nn.Embedding(len(smol_tokenizer) + 300, 8)
    with torch.no_grad():
        emb.weight[len(smol_tokenizer):] = emb.weight[504] * 10  # padding rows pointing the same way as 'The'
    model = type("M", (), {"get_input_embeddings": lambda self: emb})()
    _, rows = H.nearest_token_list(model, smol_tokenizer, 504, k=5)
    assert all(n.piece.id < len(smol_tokenizer) for n in rows)


def test_word_vector_errors(bert_model, bert_tokenizer):
    with pytest.raises(ValueError, match="does not occur"):
        H.word_vector(bert_model, bert_tokenizer, "no such word here", "bank")
    with pytest.raises(ValueError, match="no token of"):
        H.word_vector(bert_model, bert_tokenizer, "the bank  ", "  ")
    with pytest.raises(ValueError, match="layer must be in -7..6"):
        H.word_vector(bert_model, bert_tokenizer, "the bank", "bank", layer=9)
