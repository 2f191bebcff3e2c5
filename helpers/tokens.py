"""Token ids shown as text: one place that turns a tokenizer's pieces into something readable.

Byte-level BPE tokenizers (GPT-2, SmolLM2, Qwen) store pieces as remapped bytes: "Ġhello" is
" hello", and 鸟 may be three pieces, each one byte of its UTF-8 encoding. Decoding such a
piece alone gives mojibake ("é", "¸"); here it shows as its bytes, <E9>, instead. Spaces, newlines
and tabs are made visible (␣ ↵ ⇥) so a learner can see where they went, and characters that draw
nothing (NUL, the zero-width space) show as their code point, <U+0000>, <U+200B>.

When a character is split over several tokens, the chips stay separate (each is a token, with
its id) but sit in one bracket labelled with the character they form: 世 over <E4 B8> and <96>.

    H.show_tokens(tokenizer, "Hello 世界")      # coloured chips, each with its text and id
    H.token_pieces(tokenizer, [504, 3575])      # the same as data, for tests and tables
    H.group_pieces(pieces)                      # which chips form one character together
"""

from __future__ import annotations

import numbers
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .render import FONT, PALETTE, HtmlView, chip, content_id, esc

VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}
# Characters that draw nothing: controls (NUL), format characters (U+200B zero-width space, U+202E
# right-to-left override), spaces other than " " (U+00A0) and line/paragraph separators. A chip
# shows them by code point, <U+200B>, so a token that is one of them is never a blank chip.
INVISIBLE = ("Cc", "Cf", "Zs", "Zl", "Zp")
MAX_ID = 2**32 - 1  # tokenizers store ids as 32-bit unsigned ints; a larger one is no token of any vocabulary


@dataclass(frozen=True)
class Piece:
    """One token: its id, the raw vocabulary string, and a readable label."""

    id: int
    raw: str  # as stored in the vocabulary, e.g. "Ġhello"
    text: str  # readable, e.g. "␣hello", "<E9>"
    special: bool = False  # a special token such as <|im_start|> or [CLS]
    partial: bool = False  # holds bytes that are only part of a UTF-8 character
    data: bytes | None = None  # the bytes a byte-level piece stands for; None for special/WordPiece pieces


@dataclass(frozen=True)
class Group:
    """Consecutive pieces shown together: one piece, or the pieces whose bytes form whole characters.

    Example (SmolLM2): group_pieces([<E8 AF>(16313), <B7>(132)]) -> [Group(pieces=(both), text="请")]
    """

    pieces: tuple[Piece, ...]
    text: str  # what they say, whitespace as is ("请", " hello"); a lone partial piece keeps its label, "<E4>"

    @property
    def joined(self) -> bool:
        """True when several tokens together form the characters in `text`."""
        return len(self.pieces) > 1

    @property
    def label(self) -> str:
        """`text` as shown to learners: whitespace visible ('␣请')."""
        return visible(self.text)


def _utf8_state(data: bytes) -> str:
    """'whole' (decodes), 'open' (ends mid-character, more bytes may complete it) or 'broken'."""
    try:
        data.decode("utf-8")
        return "whole"
    except UnicodeDecodeError as err:
        return "open" if err.end == len(data) and err.reason == "unexpected end of data" else "broken"


def _alone(piece: Piece) -> Group:
    whole = piece.data is not None and not piece.partial
    return Group((piece,), piece.data.decode("utf-8") if whole else piece.text)


def group_pieces(pieces: list[Piece]) -> list[Group]:
    """Group the pieces that together form whole UTF-8 characters; every other piece stands alone.

    Example: [<E4 B8>, <96>, ␣ok] -> [Group((<E4 B8>, <96>), "世"), Group((␣ok,), " ok")]. A piece
    with whole characters and a partial one ("好<E4>") joins the piece that completes it ("好中").
    Bytes still incomplete at the end (generation stopped mid-character) stay alone, as <E4>.
    """
    groups: list[Group] = []
    run: list[Piece] = []  # pieces whose bytes so far end in the middle of a character
    for piece in pieces:
        if piece.data is None:  # special, WordPiece, SentencePiece: never part of a byte run
            groups += [_alone(p) for p in run] + [_alone(piece)]
            run = []
            continue
        if not run and not piece.partial:
            groups.append(_alone(piece))
            continue
        run.append(piece)
        state = _utf8_state(b"".join(p.data for p in run))
        while state == "broken":  # bytes that can never form a character (e.g. ids cut mid-character)
            groups.append(_alone(run.pop(0)))
            state = _utf8_state(b"".join(p.data for p in run)) if run else "open"
        if state == "whole":
            text = b"".join(p.data for p in run).decode("utf-8")
            groups.append(Group(tuple(run), text) if len(run) > 1 else _alone(run[0]))
            run = []
    return groups + [_alone(p) for p in run]


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
    bad = b""  # undecodable bytes in a row, shown together: <B8 AD>, not <B8><AD>
    partial = False
    rest = data
    while rest:
        try:
            whole, skipped, rest = rest.decode("utf-8"), b"", b""
        except UnicodeDecodeError as err:
            whole, skipped, rest = rest[: err.start].decode("utf-8"), rest[err.start : err.end], rest[err.end :]
        if whole and bad:
            out.append(f"<{_hex(bad)}>")
            bad = b""
        out.append(text(whole))
        bad += skipped
        partial = partial or bool(skipped)
    if bad:
        out.append(f"<{_hex(bad)}>")
    return "".join(out), partial


def _hex(data: bytes) -> str:
    """b'\\xe8\\xaf' -> 'E8 AF'"""
    return " ".join(f"{b:02X}" for b in data)


def _visible_char(ch: str) -> str:
    if ch in VISIBLE:
        return VISIBLE[ch]
    return f"<U+{ord(ch):04X}>" if unicodedata.category(ch) in INVISIBLE else ch


def visible(text: str) -> str:
    """Make whitespace and invisible characters visible: ' a\\n' -> '␣a↵', '\\u200b' -> '<U+200B>'."""
    return "".join(map(_visible_char, text))


def check_text(text: str, what: str = "the text") -> str:
    """The text itself, or a ValueError naming the character no tokenizer can encode (a lone surrogate).

    Example: check_text("ab\\ud800") -> ValueError: the text has an invalid character '\\ud800' at position 2 ...
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"{what} has an invalid character {text[err.start]!r} at position {err.start}: a lone "
                         "surrogate (half of an emoji that was cut or decoded wrongly), which no tokenizer can "
                         "encode. Fix: text = text.encode('utf-8', 'replace').decode('utf-8') turns it into '?'"
                         ) from None
    return text


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
    """Token ids as a list of Python ints: from a list (numpy ints too), or a tensor of shape (seq,) or (1, seq)."""
    if getattr(ids, "ndim", 0) > 2:  # torch tensor / numpy array
        raise ValueError(f"expected token ids of shape (seq,) or (1, seq), got shape {tuple(ids.shape)}; "
                         "pass one sequence, e.g. ids[0] or tokenizer(text).input_ids")
    _refuse_encoding(ids)
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if isinstance(ids, str):
        raise TypeError(f"expected a list of token ids, got a text (str) {_cut(ids)}: turn it into ids first, "
                        "ids = tokenizer(text).input_ids")
    if not isinstance(ids, (list, tuple)):
        raise TypeError(f"expected a list of token ids, got {type(ids).__name__}; for one id write [{ids!r}]")
    if ids and isinstance(ids[0], (list, tuple)):
        if len(ids) != 1:
            raise ValueError(f"expected one sequence of token ids, got a batch of {len(ids)}; "
                             "pass ids[0] (or one text)")
        ids = ids[0]
    for n, i in enumerate(ids):
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            what = "a list" if isinstance(i, (list, tuple)) else f"{type(i).__name__} {i!r}"
            raise TypeError(f"token ids must be integers, e.g. tokenizer(text).input_ids; position {n} holds {what}")
    return [int(i) for i in ids]


def _cut(text: str, limit: int = 40) -> str:
    """repr of a text, shortened: a long text quoted in an error stays one line."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _refuse_encoding(value) -> None:
    """What tokenizer(text) returns (a BatchEncoding, a dict with input_ids) where ids are wanted: say .input_ids."""
    if isinstance(value, dict) or (hasattr(value, "keys") and hasattr(value, "__getitem__")):
        keys = list(value.keys())
        if "input_ids" in keys:
            raise TypeError(f"got a {type(value).__name__} (what tokenizer(text) returns), not token ids: pass its "
                            "input_ids, e.g. tokenizer(text).input_ids (or inputs['input_ids'])")


def as_transformers_tokenizer(tokenizer):
    """A `tokenizers.Tokenizer` you trained yourself, wrapped so it has the transformers API.

    Example: as_transformers_tokenizer(Tokenizer(models.BPE())) -> PreTrainedTokenizerFast
    """
    if type(tokenizer).__module__.startswith("tokenizers") and type(tokenizer).__name__ == "Tokenizer":
        from transformers import PreTrainedTokenizerFast

        unk = "[UNK]" if tokenizer.token_to_id("[UNK]") is not None else None
        return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token=unk)
    return tokenizer


def check_tokenizer(tokenizer, where: str = "as the first argument"):
    """The tokenizer itself (wrapped if it is a raw tokenizers.Tokenizer), or a TypeError with the fix.

    `where` says which argument it is in the message: check_tokenizer(None, "as the second argument").
    """
    tokenizer = as_transformers_tokenizer(tokenizer)
    if not callable(tokenizer) or not hasattr(tokenizer, "convert_ids_to_tokens"):
        hint = (f" ({tokenizer!r} is a name: load it with AutoTokenizer.from_pretrained(H.model_path({tokenizer!r})))"
                if isinstance(tokenizer, str) else "")
        raise TypeError(f"expected a tokenizer {where}, got a {type(tokenizer).__name__}{hint}")
    return tokenizer


def token_pieces(tokenizer, ids) -> list[Piece]:
    """Readable pieces for a sequence of token ids (a list, or a tensor of shape (seq,) or (1, seq))."""
    tokenizer = check_tokenizer(tokenizer)
    ids = _ids_list(ids)
    bad = [i for i in ids if not 0 <= i <= MAX_ID]  # checked first: the Rust tokenizer overflows on these
    raws = [] if bad else tokenizer.convert_ids_to_tokens(ids)
    bad = bad or [i for i, raw in zip(ids, raws, strict=True) if raw is None]
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
            data = bytes(decoder[ch] for ch in raw)
            label, partial = bytes_label(data, show_whitespace=True)
            pieces.append(Piece(i, raw, label, partial=partial, data=data))
        else:  # WordPiece ("##ing") and SentencePiece ("▁the") pieces are readable as they are
            pieces.append(Piece(i, raw, visible(raw.replace("▁", " ")), partial=False))
    return pieces


MAX_CHIPS = 1000  # a view shows at most this many tokens, so a huge text stays responsive


def encode(tokenizer, text_or_ids, add_special_tokens: bool = True) -> list[int]:
    """Token ids for a text, or the ids themselves; a clear TypeError for anything else."""
    if isinstance(text_or_ids, str):
        return tokenizer(check_text(text_or_ids), add_special_tokens=add_special_tokens).input_ids
    _refuse_encoding(text_or_ids)
    if isinstance(text_or_ids, (list, tuple)) or hasattr(text_or_ids, "tolist"):
        return _ids_list(text_or_ids)
    raise TypeError(f"expected a text (str) or a list of token ids, got {type(text_or_ids).__name__}; "
                    "for a number, pass it as text: str(12345)")


# A character split over several tokens: its chips in one bracket, the character under it.
GROUP_STYLE = "display:inline-block;vertical-align:top;margin:0 1px;text-align:center;"
BRACKET_STYLE = ("display:block;height:4px;margin:-1px 4px 0 4px;border:solid #7a8694;"
                 "border-width:0 1.5px 1.5px 1.5px;border-radius:0 0 4px 4px;")
GROUP_LABEL_STYLE = f"display:block;{FONT}font-weight:600;line-height:1.2;white-space:pre;"


def _chip(piece: Piece, n: int, note: str = "") -> str:
    """The chip of the n-th piece; its tooltip names the vocabulary entry and, if byte-level, its bytes."""
    title = f"id {piece.id} · vocabulary entry {piece.raw!r}"
    if piece.data is not None and (piece.partial or note):
        title += f" · bytes {_hex(piece.data)}"
    title += note or (" · part of a UTF-8 character" if piece.partial else "")
    return chip(piece.text, str(piece.id), color=PALETTE[n % len(PALETTE)], special=piece.special, title=title)


def group_html(group: Group, start: int) -> str:
    """One group: a lone chip, or the chips of one character with a bracket and the character under them.

    `start` is the position of the group's first piece in the sequence (it picks the chip colours).
    """
    if not group.joined:
        return _chip(group.pieces[0], start)
    k = len(group.pieces)
    chips = "".join(_chip(p, start + i, f" · token {i + 1} of the {k} that form {group.text!r}")
                    for i, p in enumerate(group.pieces))
    # No title on the bracket itself: every span with a title is one token (the browser tests count them).
    return (f"<span style='{GROUP_STYLE}'><span style='white-space:nowrap;'>{chips}</span>"
            f"<span style='{BRACKET_STYLE}'></span><span style='{GROUP_LABEL_STYLE}'>{esc(group.label)}</span></span>")


def chips_html(pieces: list[Piece], limit: int = MAX_CHIPS) -> str:
    """The chips for a list of pieces, at most `limit`, with a note saying what was left out.

    Pieces that together form one character are bracketed, with the character under the bracket.
    """
    out, start = [], 0
    for group in group_pieces(pieces[:limit]):
        out.append(group_html(group, start))
        start += len(group.pieces)
    shown = "".join(out)
    if len(pieces) > limit:
        shown += (f"<div style='font-style:italic;margin-top:2px;'>… showing the first {limit:,} "
                  f"of {len(pieces):,} tokens</div>")
    if not pieces:
        shown = "<span style='font-style:italic;'>(no tokens: the text is empty)</span>"
    return f"<div style='line-height:2.2;'>{shown}</div>"


def pieces_text(pieces: list[Piece], limit: int = 60) -> str:
    """Plain-text form: 'Hello(19556) ␣世[<E4 B8>(7906) <96>(240)]', cut after `limit` tokens.

    Tokens that form one character together are bracketed after it: 世[<E4 B8>(7906) <96>(240)].
    """
    parts = []
    for g in group_pieces(pieces[:limit]):
        inner = " ".join(f"{p.text}({p.id})" for p in g.pieces)
        parts.append(f"{g.label}[{inner}]" if g.joined else inner)
    text = " ".join(parts)
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
