"""Comparing trained tokenizers（分词器对比）: one text through several tokenizers, side by side.

    toks = {"SmolLM2": smol, "BERT (uncased)": bert, "Qwen2.5": qwen, "GPT-4 cl100k": gpt4}
    H.compare_tokenizers(text, toks)                 # table: vocabulary, tokens, chars/token, chips
    H.plot_tokens_per_char({"English": en, "中文": zh}, toks)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checks import int_arg
from .render import HtmlView, content_id, esc, mpl_text
from .tokens import MAX_CHIPS, Piece, check_tokenizer, chips_html, display_piece, encode, token_pieces


@dataclass(frozen=True)
class TokenizerRow:
    """How one tokenizer splits one text."""

    name: str
    vocab_size: int  # len(tokenizer): base vocabulary plus added special tokens
    n_tokens: int  # all tokens, the special ones a tokenizer adds ([CLS], [SEP]) included
    n_text_tokens: int  # the tokens spent on the text: without the added [CLS] / [SEP], with every [UNK]
    n_chars: int
    pieces: list[Piece]
    lost_chars: int = 0  # characters of the text that came out as the unknown token ([UNK]): text the model never sees

    @property
    def chars_per_token(self) -> float | None:
        """*Kept* characters per token spent on the text: an [UNK] costs a token and keeps nothing.

        Counting every character as kept would let a tokenizer that turns most of a text into
        [UNK] look as compact as one that keeps it all. None for a text that got no tokens.
        """
        return (self.n_chars - self.lost_chars) / self.n_text_tokens if self.n_text_tokens else None

    @property
    def lost_share(self) -> float:
        """The fraction of the text's characters lost to [UNK] (0 for a byte-level tokenizer)."""
        return self.lost_chars / self.n_chars if self.n_chars else 0.0

    def lost_text(self) -> str:
        """'27 (62 %)' for a row that lost text to [UNK], '0' for one that lost none."""
        return f"{self.lost_chars:,} ({self.lost_share:.0%})".replace("%", " %") if self.lost_chars else "0"


def _named(tokenizers) -> dict:
    if isinstance(tokenizers, dict):
        items = list(tokenizers.items())
    elif isinstance(tokenizers, (list, tuple)):
        items = [(Path(str(getattr(t, "name_or_path", "") or "")).name or f"tokenizer {i}", t)
                 for i, t in enumerate(tokenizers)]
    else:
        raise TypeError("pass the tokenizers as a dict {name: tokenizer} or a list of tokenizers")
    if not items:
        raise ValueError("no tokenizers to compare: pass at least one, e.g. {'SmolLM2': tokenizer}")
    named = {}
    for name, tok in items:
        unique = name if name not in named else f"{name} ({sum(n.startswith(name) for n in named) + 1})"
        try:
            named[unique] = check_tokenizer(tok)
        except TypeError as err:
            raise TypeError(f"{name!r}: {err}") from None
    return named


def lost_chars(tokenizer, text: str) -> int:
    """How many characters of `text` the tokenizer turns into its unknown token ([UNK]).

    Read from the offsets a fast tokenizer returns: each [UNK] covers a span of the text. The
    unknown token typed literally into the text is not lost. 0 for a tokenizer that has no
    unknown token or cannot give offsets.
    """
    unk, unk_id = getattr(tokenizer, "unk_token", None), getattr(tokenizer, "unk_token_id", None)
    if unk_id is None or not text or not getattr(tokenizer, "is_fast", False):
        return 0
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return sum(end - start for i, (start, end) in zip(enc.input_ids, enc.offset_mapping, strict=True)
               if i == unk_id and text[start:end] != unk)


def tokenizer_rows(text: str, tokenizers) -> list[TokenizerRow]:
    """The data behind compare_tokenizers, one row per tokenizer. Special tokens are included."""
    if not isinstance(text, str):
        raise TypeError(f"compare_tokenizers expects a text (str), got {type(text).__name__}")
    rows = []
    for name, tok in _named(tokenizers).items():
        ids = encode(tok, text)
        n_text = len(encode(tok, text, add_special_tokens=False))
        rows.append(TokenizerRow(name, len(tok), len(ids), n_text, len(text), token_pieces(tok, ids),
                                 lost_chars(tok, text)))
    return rows


def compare_tokenizers(text: str, tokenizers, *, limit: int = MAX_CHIPS) -> HtmlView:
    """One table: tokenizer, vocabulary size, token count, text lost to [UNK], kept characters per
    token, and the chips.

    `limit` is how many chips each row shows (0: none, only the counts).
    """
    limit = int_arg("limit (the number of chips shown per tokenizer)", limit, 0, example=100)
    rows = tokenizer_rows(text, tokenizers)
    cell = "border-top:1px solid #dddddd;padding:4px 8px;vertical-align:top;text-align:{};"
    head = "".join(f"<th style='{cell.format(a)}'>{h}</th>" for h, a in
                   [("tokenizer", "left"), ("vocabulary", "right"), ("tokens", "right"),
                    ("chars lost to [UNK]", "right"), ("kept chars / text token", "right"),
                    ("how it splits the text", "left")])
    body = ""
    for r in rows:
        cpt = f"{r.chars_per_token:.2f}" if r.chars_per_token is not None else "–"
        lost_style = "color:#b00020;font-weight:600;" if r.lost_chars else ""
        body += (f"<tr><td style='{cell.format('left')}font-weight:600;'>{esc(r.name)}</td>"
                 f"<td style='{cell.format('right')}'>{r.vocab_size:,}</td>"
                 f"<td style='{cell.format('right')}'>{r.n_tokens:,}</td>"
                 f"<td style='{cell.format('right')}{lost_style}'>{esc(r.lost_text())}</td>"
                 f"<td style='{cell.format('right')}'>{cpt}</td>"
                 f"<td style='{cell.format('left')}'>{chips_html(r.pieces, limit)}</td></tr>")
    note = "" if text.strip() else "<div style='font-style:italic;'>The text is empty or only whitespace.</div>"
    element_id = content_id("compare", text, [(r.name, r.n_tokens) for r in rows])
    html_text = (f"<div id='{element_id}'>{note}<table style='border-collapse:collapse;'>"
                 f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
    plain = "\n".join(f"{r.name}: {r.n_tokens} tokens, vocabulary {r.vocab_size:,}, "
                      f"{_plain_cpt(r)} kept chars/token"
                      + (f", {r.lost_text()} chars lost to [UNK]" if r.lost_chars else "") for r in rows)
    return HtmlView(html_text, plain)


def _plain_cpt(row: TokenizerRow) -> str:
    """The plain-text twin of the table's cell: the same '–' where there is no text token."""
    return f"{row.chars_per_token:.2f}" if row.chars_per_token is not None else "–"


def tokens_per_char(texts: dict[str, str], tokenizers) -> dict[str, dict[str, float]]:
    """{tokenizer: {text label: tokens per character}}, special tokens not counted."""
    if not isinstance(texts, dict):
        raise TypeError("pass the texts as a dict {label: text}, e.g. {'English': en, '中文': zh}")
    if not texts:
        raise ValueError("texts is an empty dict: give at least one text, e.g. {'English': en, '中文': zh}")
    empty = [label for label, t in texts.items() if not isinstance(t, str) or not t]
    if empty:
        raise ValueError(f"text {empty[0]!r} is empty or not a str; tokens per character needs text")
    return {name: {label: len(encode(tok, t, add_special_tokens=False)) / len(t) for label, t in texts.items()}
            for name, tok in _named(tokenizers).items()}


def plot_tokens_per_char(texts: dict[str, str], tokenizers, *, title: str | None = None):
    """Grouped bars: tokens per character of each text under each tokenizer (lower = more compact).

    A bar whose tokenizer lost text to [UNK] says how much under its value: few tokens per
    character mean nothing when the characters were thrown away.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .fonts import use_cjk_font

    data = tokens_per_char(texts, tokenizers)
    named = _named(tokenizers)
    lost = {n: {label: lost_chars(tok, t) / len(t) for label, t in texts.items()} for n, tok in named.items()}
    names, labels = list(data), list(texts)
    use_cjk_font()
    x = np.arange(len(names))
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2, 3.4))
    for i, label in enumerate(labels):
        values = [data[n][label] for n in names]
        bars = ax.bar(x + (i - (len(labels) - 1) / 2) * width, values, width, label=mpl_text(label))
        notes = [f"\n{lost[n][label]:.0%} [UNK]" if lost[n][label] else "" for n in names]
        ax.bar_label(bars, fontsize=8, labels=[f"{v:.2f}{note}" for v, note in zip(values, notes, strict=True)])
    ax.set_xticks(x, [mpl_text(n) for n in names])
    ax.set_ylabel("tokens per character")
    ax.set_title(mpl_text(title) if title else "Tokens per character（每个字符的词元数）: lower is more compact")
    ax.legend()
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    plt.close(fig)  # returned, not shown twice
    return fig


def learned_merges(tokenizer, n: int = 20) -> list[str]:
    """The first n merges a BPE tokenizer learned, in order: ['t + he → the', ...]."""
    import json

    n = int_arg("n (how many merges to list)", n, 0, example=20)
    check_tokenizer(tokenizer)  # a name, None or another object gets the fix
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    if not callable(getattr(backend, "to_str", None)):
        raise TypeError(f"learned_merges needs a fast tokenizer (a tokenizers.Tokenizer or one loaded with "
                        f"AutoTokenizer), got a {type(tokenizer).__name__}")
    spec = json.loads(backend.to_str())["model"]
    if spec.get("type") != "BPE":
        raise ValueError(f"only BPE tokenizers learn merges; this one is {spec.get('type')}. "
                         "Look at its vocabulary instead: tokenizer.get_vocab()")
    merges = [m.split(" ", 1) if isinstance(m, str) else m for m in spec["merges"][:n]]
    return [f"{display_piece(tokenizer, a)} + {display_piece(tokenizer, b)} → {display_piece(tokenizer, a + b)}"
            for a, b in merges]
