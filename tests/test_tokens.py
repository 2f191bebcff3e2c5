import pytest

import helpers as H
from helpers.tokens import bytes_label, visible


@pytest.mark.parametrize("data,expected", [
    (b"hello", ("hello", False)),
    ("鸟".encode(), ("鸟", False)),
    ("鸟".encode()[:2], ("<E9 B8>", True)),
    ("鸟".encode()[2:], ("<9F>", True)),
    (" 语".encode() + "言".encode()[:1], (" 语<E8>", True)),
    ("🎵".encode(), ("🎵", False)),
])
def test_bytes_label_shows_incomplete_utf8_as_bytes(data, expected):
    assert bytes_label(data) == expected


def test_whitespace_is_visible():
    assert visible(" a\n\tb") == "␣a↵⇥b"
    assert bytes_label(b" \xe4\xb8", show_whitespace=True) == ("␣<E4 B8>", True)


def test_byte_level_pieces_never_show_mojibake(smol_tokenizer):
    ids = smol_tokenizer("鸟 says hi").input_ids
    pieces = H.token_pieces(smol_tokenizer, ids)
    labels = [p.text for p in pieces]
    assert labels[:3] == ["<E9>", "<B8>", "<9F>"], "鸟 is three byte tokens in SmolLM2"
    assert all(p.partial for p in pieces[:3])
    assert "␣says" in labels and "␣hi" in labels
    assert not any(ch in "".join(labels) for ch in "ĠĊèé¸"), "raw byte-level characters leaked"


def test_whole_characters_show_as_characters(smol_tokenizer):
    pieces = H.token_pieces(smol_tokenizer, smol_tokenizer("The capital of France is").input_ids)
    assert [p.text for p in pieces] == ["The", "␣capital", "␣of", "␣France", "␣is"]
    assert [p.id for p in pieces] == [504, 3575, 282, 4649, 314]


def test_special_tokens_are_flagged(smol_tokenizer):
    text = smol_tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
    pieces = H.token_pieces(smol_tokenizer, smol_tokenizer(text).input_ids)
    specials = {p.text for p in pieces if p.special}
    assert specials == {"<|im_start|>", "<|im_end|>"}


def test_wordpiece_pieces_keep_their_continuation_marks(bert_tokenizer):
    pieces = H.token_pieces(bert_tokenizer, bert_tokenizer("tokenization").input_ids)
    assert [p.text for p in pieces] == ["[CLS]", "token", "##ization", "[SEP]"]
    assert pieces[0].special and pieces[-1].special


def test_tensor_input_of_shape_1_by_seq_is_accepted(smol_tokenizer):
    ids = smol_tokenizer("hi there", return_tensors="pt").input_ids
    assert len(H.token_pieces(smol_tokenizer, ids)) == ids.shape[1]


def test_a_batch_is_refused_with_the_fix(smol_tokenizer):
    ids = smol_tokenizer(["a", "b"], return_tensors="pt").input_ids
    with pytest.raises(ValueError, match=r"pass ids\[0\]"):
        H.token_pieces(smol_tokenizer, ids)


def test_ids_from_another_vocabulary_are_refused(smol_tokenizer):
    with pytest.raises(ValueError, match="different tokenizer"):
        H.token_pieces(smol_tokenizer, [1, 100_000])


def test_show_tokens_escapes_html(smol_tokenizer):
    view = H.show_tokens(smol_tokenizer, "<script>alert('x')</script> & \"q\"")
    assert "<script>" not in view.html and "&lt;" in view.html and "&amp;" in view.html
    assert "(&#x27;" in view.html and "&quot;" in view.html


def test_show_tokens_is_deterministic_and_has_text_fallback(smol_tokenizer):
    a = H.show_tokens(smol_tokenizer, "Hello 世界")
    b = H.show_tokens(smol_tokenizer, "Hello 世界")
    assert a.html == b.html
    assert repr(a) == ("7 tokens: Hello(19556) ␣(216) <E4 B8>(7906) <96>(240) <E7>(178) "
                       "<95>(239) <8C>(230)")
    assert "id 19556" in a.html


@pytest.mark.parametrize("bad", [12345, None, 3.5])
def test_show_tokens_of_a_non_text_names_the_fix(smol_tokenizer, bad):
    with pytest.raises(TypeError, match="expected a text"):
        H.show_tokens(smol_tokenizer, bad)


def test_a_model_name_instead_of_a_tokenizer_says_how_to_load_it():
    with pytest.raises(TypeError, match=r"AutoTokenizer.from_pretrained\(H.model_path\('smollm2-135m-instruct'\)\)"):
        H.show_tokens("smollm2-135m-instruct", "hi")


def test_a_single_id_must_be_a_list(smol_tokenizer):
    with pytest.raises(TypeError, match=r"for one id write \[5\]"):
        H.token_pieces(smol_tokenizer, 5)
