import re

import pytest

import helpers as H
from helpers.render import esc
from helpers.tokens import GROUP_LABEL_STYLE, Piece, bytes_label, group_pieces, visible


@pytest.mark.parametrize("data,expected", [
    (b"hello", ("hello", False)),
    ("鸟".encode(), ("鸟", False)),
    ("鸟".encode()[:2], ("<E9 B8>", True)),
    ("鸟".encode()[2:], ("<9F>", True)),
    (" 语".encode() + "言".encode()[:1], (" 语<E8>", True)),
    ("🎵".encode(), ("🎵", False)),
    ("鸟".encode()[1:], ("<B8 9F>", True)),  # stray bytes in a row shown together, not <B8><9F>
    (b"\xe4" + "中".encode(), ("<E4>中", True)),
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
    assert repr(a) == ("7 tokens: Hello(19556) ␣(216) 世[<E4 B8>(7906) <96>(240)] "
                       "界[<E7>(178) <95>(239) <8C>(230)]")
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


# ---------------------------------------------------------------- characters split over tokens

# Whole characters as one token (请, 写), 龘 in two pieces and 鶴 in three (Qwen2.5), an emoji
# whose first piece also holds the space (␣<F0 9F>), and an ASCII word.
SPLIT_TEXT = "请写一个关于鶴和龘的故事 🐔 ok"
JOINED = {  # the characters each tokenizer splits: {text of the group: number of pieces}
    "qwen_tokenizer": {"鶴": 3, "龘": 2, " 🐔": 3},
    "smol_tokenizer": {"请": 2, "写": 2, "关": 2, "于": 2, "鶴": 3, "龘": 3, "故": 2, "事": 2, " 🐔": 3},
}


def group_labels(html: str) -> list[str]:
    """The characters written under the brackets, in order (still escaped)."""
    return re.findall(f"<span style='{re.escape(GROUP_LABEL_STYLE)}'>([^<]*)</span>", html)


def byte_pieces(*chunks: bytes) -> list[Piece]:
    """Pieces as a byte-level tokenizer would make them, ids 0, 1, 2, ..."""
    pieces = []
    for i, data in enumerate(chunks):
        text, partial = bytes_label(data, show_whitespace=True)
        pieces.append(Piece(i, "", text, partial=partial, data=data))
    return pieces


@pytest.mark.parametrize("name", JOINED)
def test_pieces_of_one_character_form_one_group(request, name):
    tok = request.getfixturevalue(name)
    groups = group_pieces(H.token_pieces(tok, tok(SPLIT_TEXT, add_special_tokens=False).input_ids))
    assert "".join(g.text for g in groups) == SPLIT_TEXT
    assert {g.text: len(g.pieces) for g in groups if g.joined} == JOINED[name]
    assert all(not p.partial for g in groups if not g.joined for p in g.pieces), "a partial piece left alone"
    assert [g.text for g in groups][-2:] == [" 🐔", " ok"]


@pytest.mark.parametrize("name", JOINED)
def test_show_tokens_labels_each_split_character_once(request, name):
    tok = request.getfixturevalue(name)
    view = H.show_tokens(tok, SPLIT_TEXT)
    assert group_labels(view.html) == [esc(visible(t)) for t in JOINED[name]]
    assert view.html.count("display:inline-block;margin:2px;") == len(tok(SPLIT_TEXT).input_ids), "one chip a token"


def test_a_grouped_piece_keeps_its_id_and_bytes_in_the_tooltip(qwen_tokenizer):
    html = H.show_tokens(qwen_tokenizer, "龘").html
    assert ("title='id 82912 · vocabulary entry &#x27;é¾&#x27; · bytes E9 BE · token 1 of the 2 that form "
            "&#x27;龘&#x27;'") in html
    assert "title='id 246 · vocabulary entry &#x27;ĺ&#x27; · bytes 98 · token 2 of the 2" in html
    assert html.count("<span title=") == 2, "a title on each chip, none on the bracket"


def test_the_text_form_brackets_the_pieces_of_a_character(qwen_tokenizer):
    assert repr(H.show_tokens(qwen_tokenizer, SPLIT_TEXT)) == (
        "15 tokens: 请(14880) 写(61443) 一个(46944) 关于(101888) 鶴[<E9>(165) <B6>(114) <B4>(112)] 和(33108) "
        "龘[<E9 BE>(82912) <98>(246)] 的故事(104413) ␣🐔[␣<F0 9F>(11162) <90>(238) <94>(242)] ␣ok(5394)")


@pytest.mark.parametrize("name", JOINED)
def test_a_sequence_cut_mid_character_ends_with_a_lone_partial_piece(request, name):
    tok = request.getfixturevalue(name)
    ids = tok(SPLIT_TEXT, add_special_tokens=False).input_ids[:-2]  # "ok" and the emoji's last byte gone
    groups = group_pieces(H.token_pieces(tok, ids))
    assert [g.joined for g in groups[-2:]] == [False, False]
    assert [g.pieces[0].partial for g in groups[-2:]] == [True, True]
    assert groups[-1].text == "<90>"
    view = H.show_tokens(tok, ids)
    assert view.text.endswith(f"({ids[-2]}) <90>({ids[-1]})")
    assert group_labels(view.html)[-1] == list(JOINED[name])[-2], "the emoji is no longer bracketed"


def test_whole_and_partial_characters_in_one_piece_join_the_piece_that_completes_them():
    groups = group_pieces(byte_pieces("好".encode() + b"\xe4", b"\xb8\xad", b"!"))
    assert [(g.text, len(g.pieces)) for g in groups] == [("好中", 2), ("!", 1)]
    assert H.tokens.pieces_text(byte_pieces("好".encode() + b"\xe4", b"\xb8\xad")) == "好中[好<E4>(0) <B8 AD>(1)]"


@pytest.mark.parametrize("chunks,texts", [
    ((b"\xad", "好".encode()), ["<AD>", "好"]),  # ids that start mid-character: the stray byte stays alone
    ((b"\xe4", b"x"), ["<E4>", "x"]),  # a character that never completes
    ((b"\xe4", "中".encode()), ["<E4>", "中"]),
    ((b"\xe4", b"\xb8"), ["<E4>", "<B8>"]),  # cut mid-character
    ((b"\xf0\x9f", b"\x90", b"\x94"), ["🐔"]),
])
def test_bytes_that_never_form_a_character_stay_alone(chunks, texts):
    assert [g.text for g in group_pieces(byte_pieces(*chunks))] == texts


def test_wordpiece_and_special_pieces_are_never_grouped(bert_tokenizer, smol_tokenizer):
    pieces = H.token_pieces(bert_tokenizer, bert_tokenizer("天 tokenization").input_ids)
    assert [g.text for g in group_pieces(pieces)] == [p.text for p in pieces]
    assert [p.text for p in pieces] == ["[CLS]", "天", "token", "##ization", "[SEP]"]
    chat = smol_tokenizer.apply_chat_template([{"role": "user", "content": "鸟"}], tokenize=False)
    groups = group_pieces(H.token_pieces(smol_tokenizer, smol_tokenizer(chat).input_ids))
    assert [g.text for g in groups if g.joined] == ["鸟"]


def test_grouped_characters_are_escaped(smol_tokenizer):
    view = H.show_tokens(smol_tokenizer, "<b>\"x' & 鸟")
    assert "<b>" not in view.html and '"x' not in view.html
    assert all(f">{e}<" in view.html for e in ["&lt;", "&gt;&quot;", "&#x27;", "␣&amp;"]), "each chip escaped"
    assert group_labels(view.html) == ["␣鸟"]
    assert view.text.endswith("␣鸟[␣<E9>(30866) <B8>(133) <9F>(249)]")


def test_the_chip_cap_still_holds_with_groups(smol_tokenizer):
    view = H.show_tokens(smol_tokenizer, "鸟" * 600)  # 1,800 byte tokens
    assert view.html.count("display:inline-block;margin:2px;") == H.tokens.MAX_CHIPS
    assert len(group_labels(view.html)) == H.tokens.MAX_CHIPS // 3 and "showing the first 1,000 of 1,800" in view.html
