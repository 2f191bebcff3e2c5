import re
import time

import pytest
from conftest import BOOK_TEXT

import helpers as H
from helpers.tokens import GROUP_LABEL_STYLE, VISIBLE

# The book prints this for bert-base-uncased on its test text (chapter 2).
BOOK_BERT = ('[CLS] english and capital ##ization [UNK] [UNK] show _ token ##s false none eli ##f = = > = '
             'else : two tab ##s : " " three tab ##s : " " 12 . 0 * 50 = 600 [SEP]')
CHINESE = "大型语言模型正在改变我们学习和工作的方式。"
UNVISIBLE = {v: k for k, v in VISIBLE.items()}


def label_bytes(label: str) -> bytes:
    """Undo the display: '␣' -> b' ', '<E4 BD>' -> b'\\xe4\\xbd', other characters as UTF-8."""
    out = b""
    for part in re.split(r"(<[0-9A-F]{2}(?: [0-9A-F]{2})*>)", label):
        if re.fullmatch(r"<[0-9A-F]{2}(?: [0-9A-F]{2})*>", part):
            out += bytes(int(h, 16) for h in part[1:-1].split())
        else:
            out += "".join(UNVISIBLE.get(c, c) for c in part).encode()
    return out


def test_bert_split_of_the_book_text_matches_the_book(bert_tokenizer):
    pieces = H.token_pieces(bert_tokenizer, bert_tokenizer(BOOK_TEXT).input_ids)
    assert " ".join(p.raw for p in pieces) == BOOK_BERT


@pytest.mark.parametrize("name", ["SmolLM2", "Qwen2.5", "GPT-4"])
@pytest.mark.parametrize("text", [BOOK_TEXT, CHINESE, "  spaces\n\n\ttabs  ", "🎵🎵 emoji, 12345"])
def test_byte_level_chips_round_trip_to_the_original_text(four_tokenizers, name, text):
    """Reading the chips back (bytes shown as <E4 BD>, ␣ as space) gives exactly the text."""
    tok = four_tokenizers[name]
    pieces = H.token_pieces(tok, tok(text, add_special_tokens=False).input_ids)
    assert b"".join(label_bytes(p.text) for p in pieces).decode() == text


def test_vocabulary_sizes_are_the_real_ones(four_tokenizers):
    rows = {r.name: r.vocab_size for r in H.tokenizer_rows("x", four_tokenizers)}
    assert rows == {"SmolLM2": 49_152, "BERT": 30_522, "Qwen2.5": 151_669, "GPT-4": 100_261}


def test_compare_table_counts_tokens_and_chars_per_token(four_tokenizers):
    rows = {r.name: r for r in H.tokenizer_rows(CHINESE, four_tokenizers)}
    assert rows["Qwen2.5"].n_tokens < rows["GPT-4"].n_tokens < rows["SmolLM2"].n_tokens
    assert rows["Qwen2.5"].chars_per_token == pytest.approx(len(CHINESE) / rows["Qwen2.5"].n_tokens)
    view = H.compare_tokenizers(CHINESE, four_tokenizers)
    assert "151,669" in view.html and "chars / text token" in view.html


def test_tokens_per_char_shows_chinese_costs_more_for_english_tokenizers(four_tokenizers):
    data = H.tokens_per_char({"en": "Large language models are changing the world.", "zh": CHINESE},
                             four_tokenizers)
    assert data["SmolLM2"]["zh"] > 1.0 > data["Qwen2.5"]["zh"]
    assert all(d["en"] < 0.3 for d in data.values())


def test_plot_tokens_per_char_is_a_figure(four_tokenizers):
    fig = H.plot_tokens_per_char({"English": "hello world", "中文": "你好世界"}, four_tokenizers)
    assert fig.axes[0].get_ylabel() == "tokens per character"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_or_whitespace_text_renders_with_a_note(four_tokenizers, text):
    view = H.compare_tokenizers(text, four_tokenizers)
    assert "empty or only whitespace" in view.html


def test_huge_text_is_truncated_with_a_note_and_stays_fast(four_tokenizers):
    text = "Hello 世界! " * 10_000  # 100,000 characters
    start = time.perf_counter()
    view = H.compare_tokenizers(text, four_tokenizers)
    assert time.perf_counter() - start < 20  # generous: this machine is shared; bench has the figure
    assert "showing the first 1,000 of" in view.html
    assert view.html.count("<span title=") <= 4 * 1000


def test_the_table_brackets_the_pieces_of_a_split_character(four_tokenizers):
    html = H.compare_tokenizers("Hello 世界", four_tokenizers).html
    smol_row = html.split("<tr>")[2]  # the header, then SmolLM2: 世 and 界 are split into byte tokens
    assert smol_row.count(f"<span style='{GROUP_LABEL_STYLE}'>") == 2 and f"{GROUP_LABEL_STYLE}'>世<" in smol_row
    assert GROUP_LABEL_STYLE not in html.split("<tr>")[4], "Qwen2.5 has 世界 as one token"


def test_html_in_text_renders_as_text(four_tokenizers):
    view = H.compare_tokenizers("<script>alert(1)</script><img src=x onerror=alert(2)>", four_tokenizers)
    assert "<script" not in view.html and "<img" not in view.html and "&lt;" in view.html


@pytest.mark.parametrize("bad,error", [(42, TypeError), (None, TypeError), (["a"], TypeError)])
def test_non_string_text_is_a_type_error(four_tokenizers, bad, error):
    with pytest.raises(error, match="expects a text"):
        H.compare_tokenizers(bad, four_tokenizers)


def test_tokenizers_must_be_tokenizers():
    with pytest.raises(TypeError, match="AutoTokenizer.from_pretrained"):
        H.compare_tokenizers("hi", {"oops": "smollm2-135m-instruct"})
    with pytest.raises(ValueError, match="at least one"):
        H.compare_tokenizers("hi", {})


def test_trained_tokenizers_can_be_compared_directly():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train([str(H.data_path("corpus_zh.txt"))],
              trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]"], show_progress=False))
    assert H.learned_merges(tok, 2) == ["模 + 型 → 模型", "词 + 元 → 词元"]
    rows = H.tokenizer_rows("语言模型", {"zh": tok})
    assert [p.text for p in rows[0].pieces] == ["语言模型"]


def test_learned_merges_of_a_byte_level_tokenizer_are_readable(smol_tokenizer):
    assert H.learned_merges(smol_tokenizer, 2) == ["␣ + t → ␣t", "␣ + a → ␣a"]


def test_learned_merges_refuses_wordpiece(bert_tokenizer):
    with pytest.raises(ValueError, match="only BPE"):
        H.learned_merges(bert_tokenizer)


def test_text_lost_to_unk_is_not_counted_as_compression(four_tokenizers):
    """BERT turns most Chinese characters into [UNK]: that text is lost, not compressed."""
    rows = {r.name: r for r in H.tokenizer_rows(CHINESE, four_tokenizers)}
    bert = rows["BERT"]
    assert bert.lost_chars > len(CHINESE) / 2
    # kept characters over the tokens spent on the text: [UNK]s counted, the added [CLS] and [SEP] not
    assert bert.n_text_tokens == bert.n_tokens - 2
    assert bert.chars_per_token == pytest.approx((len(CHINESE) - bert.lost_chars) / bert.n_text_tokens)
    assert bert.n_text_tokens < rows["SmolLM2"].n_text_tokens  # at face value BERT beats SmolLM2…
    assert bert.chars_per_token < min(rows[n].chars_per_token for n in ("SmolLM2", "Qwen2.5", "GPT-4"))  # …not honestly
    assert all(rows[n].lost_chars == 0 for n in ("SmolLM2", "Qwen2.5", "GPT-4"))  # byte-level: nothing lost
    view = H.compare_tokenizers(CHINESE, four_tokenizers)
    assert f"{bert.lost_chars} (" in view.html and "chars lost to [UNK]" in view.html
    assert f"{bert.lost_chars} (" in view.text


def test_unk_typed_into_the_text_is_not_lost(four_tokenizers):
    from helpers.compare import lost_chars

    bert = four_tokenizers["BERT"]
    assert lost_chars(bert, "a [UNK] b") == 0
    assert lost_chars(bert, "a 🎵 b") == 1


def test_plain_text_says_dash_where_the_table_does(four_tokenizers):
    """No text token (an empty text): the table shows '–', and so must the plain-text fallback."""
    view = H.compare_tokenizers("", four_tokenizers)
    assert "0.00" not in view.text and "– kept chars/token" in view.text
