"""Token ids shown as text: one place that turns a tokenizer's pieces into something readable.

Byte-level BPE tokenizers (GPT-2, SmolLM2, Qwen) store pieces as remapped bytes: "Ġhello" is
" hello", and 鸟 may be three pieces, each one byte of its UTF-8 encoding. Decoding such a
piece alone gives mojibake ("é", "¸"); here it shows as its bytes, <E9>, instead. Spaces, newlines
and tabs are made visible (␣ ↵ ⇥) so a learner can see where they went.

    H.show_tokens(tokenizer, "Hello 世界")      # coloured chips, each with its text and id
    H.token_pieces(tokenizer, [504, 3575])      # the same as data, for tests and tables
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .render import PALETTE, HtmlView, chip, content_id, esc

VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


@dataclass(frozen=True)
class Piece:
    """One token: its id, the raw vocabulary string, and a readable label."""

    id: int
    raw: str  # as stored in the vocabulary, e.g. "Ġhello"
    text: str  # readable, e.g. "␣hello", "<E9>"
    special: bool = False  # a special token such as <|im_start|> or [CLS]
    partial: bool = False  # holds bytes that are only part of a UTF-8 character


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte <-> printable-character map, reversed: 'Ġ' -> 32 (space), 'Ċ' -> 10."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = list(bs)
    extra = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


def bytes_label(data: bytes, show_whitespace: bool = False) -> tuple[str, bool]:
    """Decode UTF-8 where it is whole; show incomplete bytes as <E8 AF>. Returns (label, partial).

    Example: bytes_label("鸟".encode()[:2]) -> ("<E9 B8>", True)
    """
    text = visible if show_whitespace else str
    out: list[str] = []
    partial = False
    rest = data
    while rest:
        try:
            out.append(text(rest.decode("utf-8")))
            break
        except UnicodeDecodeError as err:
            out.append(text(rest[: err.start].decode("utf-8")))
            bad = rest[err.start : err.end]
            out.append("<" + " ".join(f"{b:02X}" for b in bad) + ">")
            partial = True
            rest = rest[err.end :]
    return "".join(out), partial


def visible(text: str) -> str:
    """Make whitespace visible: ' a\\n' -> '␣a↵'."""
    return "".join(VISIBLE.get(ch, ch) for ch in text)


def display_piece(tokenizer, raw: str) -> str:
    """A vocabulary string as shown to learners: 'Ġthe' -> '␣the', a partial byte -> '<E8>'."""
    decoder = _byte_decoder()
    if _is_byte_level(as_transformers_tokenizer(tokenizer)) and all(ch in decoder for ch in raw):
        return bytes_label(bytes(decoder[ch] for ch in raw), show_whitespace=True)[0]
    return visible(raw.replace("▁", " "))


def _is_byte_level(tokenizer) -> bool:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and type(backend.decoder).__name__ == "ByteLevel"


def _ids_list(ids) -> list[int]:
    if hasattr(ids, "tolist"):  # torch tensor / numpy array
        ids = ids.tolist()
    if not isinstance(ids, (list, tuple)):
        raise TypeError(f"expected a list of token ids, got {type(ids).__name__}; for one id write [{ids!r}]")
    if ids and isinstance(ids[0], list):
        if len(ids) != 1:
            raise ValueError(f"expected one sequence of token ids, got a batch of {len(ids)}; "
                             "pass ids[0] (or one text)")
        ids = ids[0]
    if not all(isinstance(i, int) for i in ids):
        raise TypeError("token ids must be integers, e.g. tokenizer(text).input_ids")
    return list(ids)


def as_transformers_tokenizer(tokenizer):
    """A `tokenizers.Tokenizer` you trained yourself, wrapped so it has the transformers API.

    Example: as_transformers_tokenizer(Tokenizer(models.BPE())) -> PreTrainedTokenizerFast
    """
    if type(tokenizer).__module__.startswith("tokenizers") and type(tokenizer).__name__ == "Tokenizer":
        from transformers import PreTrainedTokenizerFast

        unk = "[UNK]" if tokenizer.token_to_id("[UNK]") is not None else None
        return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token=unk)
    return tokenizer


def check_tokenizer(tokenizer):
    """The tokenizer itself (wrapped if it is a raw tokenizers.Tokenizer), or a TypeError with the fix."""
    tokenizer = as_transformers_tokenizer(tokenizer)
    if not callable(tokenizer) or not hasattr(tokenizer, "convert_ids_to_tokens"):
        hint = (f" ({tokenizer!r} is a name: load it with AutoTokenizer.from_pretrained(H.model_path({tokenizer!r})))"
                if isinstance(tokenizer, str) else "")
        raise TypeError(f"expected a tokenizer as the first argument, got a {type(tokenizer).__name__}{hint}")
    return tokenizer


def token_pieces(tokenizer, ids) -> list[Piece]:
    """Readable pieces for a sequence of token ids (a list, or a tensor of shape (seq,) or (1, seq))."""
    tokenizer = check_tokenizer(tokenizer)
    ids = _ids_list(ids)
    raws = tokenizer.convert_ids_to_tokens(ids)
    bad = [i for i, raw in zip(ids, raws, strict=True) if i < 0 or raw is None]
    if bad:
        raise ValueError(f"token id {bad[0]} is not in this tokenizer's vocabulary ({len(tokenizer):,} "
                         "tokens); were these ids made by a different tokenizer?")
    special = set(tokenizer.all_special_ids)
    byte_level = _is_byte_level(tokenizer)
    decoder = _byte_decoder()
    pieces = []
    for i, raw in zip(ids, raws, strict=True):
        if i in special or raw in tokenizer.added_tokens_encoder:
            pieces.append(Piece(i, raw, raw, special=i in special))
        elif byte_level and all(ch in decoder for ch in raw):
            label, partial = bytes_label(bytes(decoder[ch] for ch in raw), show_whitespace=True)
            pieces.append(Piece(i, raw, label, partial=partial))
        else:  # WordPiece ("##ing") and SentencePiece ("▁the") pieces are readable as they are
            pieces.append(Piece(i, raw, visible(raw.replace("▁", " ")), partial=False))
    return pieces


MAX_CHIPS = 1000  # a view shows at most this many tokens, so a huge text stays responsive


def encode(tokenizer, text_or_ids, add_special_tokens: bool = True) -> list[int]:
    """Token ids for a text, or the ids themselves; a clear TypeError for anything else."""
    if isinstance(text_or_ids, str):
        return tokenizer(text_or_ids, add_special_tokens=add_special_tokens).input_ids
    if isinstance(text_or_ids, (list, tuple)) or hasattr(text_or_ids, "tolist"):
        return _ids_list(text_or_ids)
    raise TypeError(f"expected a text (str) or a list of token ids, got {type(text_or_ids).__name__}; "
                    "for a number, pass it as text: str(12345)")


def chips_html(pieces: list[Piece], limit: int = MAX_CHIPS) -> str:
    """The chips for a list of pieces, at most `limit`, with a note saying what was left out."""
    shown = "".join(
        chip(p.text, str(p.id), color=PALETTE[n % len(PALETTE)], special=p.special,
             title=f"id {p.id} · vocabulary entry {p.raw!r}"
             + (" · part of a UTF-8 character" if p.partial else ""))
        for n, p in enumerate(pieces[:limit])
    )
    if len(pieces) > limit:
        shown += (f"<div style='font-style:italic;margin-top:2px;'>… showing the first {limit:,} "
                  f"of {len(pieces):,} tokens</div>")
    if not pieces:
        shown = "<span style='font-style:italic;'>(no tokens: the text is empty)</span>"
    return f"<div style='line-height:2.2;'>{shown}</div>"


def pieces_text(pieces: list[Piece], limit: int = 60) -> str:
    """Plain-text form: 'Hello(19556) ␣world(905)', cut after `limit` tokens."""
    text = " ".join(f"{p.text}({p.id})" for p in pieces[:limit])
    return text + (f" … (+{len(pieces) - limit:,} more)" if len(pieces) > limit else "")


def show_tokens(tokenizer, text_or_ids, *, title: str | None = None,
                add_special_tokens: bool = True) -> HtmlView:
    """Coloured chips, one per token, each with its text and id; special tokens dark.

    `text_or_ids` is a string (encoded here) or token ids (a list or tensor). Long texts show the
    first 1,000 tokens with a note.
    """
    tokenizer = check_tokenizer(tokenizer)
    pieces = token_pieces(tokenizer, encode(tokenizer, text_or_ids, add_special_tokens))
    heading = title if title is not None else f"{len(pieces)} tokens"
    html_text = (f"<div id='{content_id('tokens', [p.id for p in pieces])}'>"
                 f"<div style='font-weight:600;margin-bottom:2px;'>{esc(heading)}</div>"
                 f"{chips_html(pieces)}</div>")
    return HtmlView(html_text, f"{heading}: {pieces_text(pieces, limit=MAX_CHIPS)}")
