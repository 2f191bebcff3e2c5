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
    n_chars: int
    pieces: list[Piece]

    @property
    def chars_per_token(self) -> float | None:
        """Characters per *text* token (special tokens not counted), as in plot_tokens_per_char."""
        n_text = sum(not p.special for p in self.pieces) if len(self.pieces) == self.n_tokens else self.n_tokens
        return self.n_chars / n_text if n_text else None


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


def tokenizer_rows(text: str, tokenizers) -> list[TokenizerRow]:
    """The data behind compare_tokenizers, one row per tokenizer. Special tokens are included."""
    if not isinstance(text, str):
        raise TypeError(f"compare_tokenizers expects a text (str), got {type(text).__name__}")
    rows = []
    for name, tok in _named(tokenizers).items():
        ids = encode(tok, text)
        rows.append(TokenizerRow(name, len(tok), len(ids), len(text), token_pieces(tok, ids)))
    return rows


def compare_tokenizers(text: str, tokenizers, *, limit: int = MAX_CHIPS) -> HtmlView:
    """One table: tokenizer, vocabulary size, token count, characters per token, and the chips.

    `limit` is how many chips each row shows (0: none, only the counts).
    """
    limit = int_arg("limit (the number of chips shown per tokenizer)", limit, 0, example=100)
    rows = tokenizer_rows(text, tokenizers)
    cell = "border-top:1px solid #dddddd;padding:4px 8px;vertical-align:top;text-align:{};"
    head = "".join(f"<th style='{cell.format(a)}'>{h}</th>" for h, a in
                   [("tokenizer", "left"), ("vocabulary", "right"), ("tokens", "right"),
                    ("chars / text token", "right"), ("how it splits the text", "left")])
    body = ""
    for r in rows:
        cpt = f"{r.chars_per_token:.2f}" if r.chars_per_token else "–"
        body += (f"<tr><td style='{cell.format('left')}font-weight:600;'>{esc(r.name)}</td>"
                 f"<td style='{cell.format('right')}'>{r.vocab_size:,}</td>"
                 f"<td style='{cell.format('right')}'>{r.n_tokens:,}</td>"
                 f"<td style='{cell.format('right')}'>{cpt}</td>"
                 f"<td style='{cell.format('left')}'>{chips_html(r.pieces, limit)}</td></tr>")
    note = "" if text.strip() else "<div style='font-style:italic;'>The text is empty or only whitespace.</div>"
    element_id = content_id("compare", text, [(r.name, r.n_tokens) for r in rows])
    html_text = (f"<div id='{element_id}'>{note}<table style='border-collapse:collapse;'>"
                 f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
    plain = "\n".join(f"{r.name}: {r.n_tokens} tokens, vocabulary {r.vocab_size:,}, "
                      f"{r.chars_per_token or 0:.2f} chars/token" for r in rows)
    return HtmlView(html_text, plain)


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
    """Grouped bars: tokens per character of each text under each tokenizer (lower = more compact)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from .fonts import use_cjk_font

    data = tokens_per_char(texts, tokenizers)
    names, labels = list(data), list(texts)
    use_cjk_font()
    x = np.arange(len(names))
    width = 0.8 / len(labels)
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2, 3.4))
    for i, label in enumerate(labels):
        values = [data[n][label] for n in names]
        bars = ax.bar(x + (i - (len(labels) - 1) / 2) * width, values, width, label=mpl_text(label))
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
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
