"""attention_mask（注意力掩码）: which positions of a padded batch are real tokens (1) and which are pad (0).

    H.show_attention_mask(tokenizer, ["Hi", "A longer sentence here"], padding_side="left")
"""

from __future__ import annotations

from dataclasses import dataclass

from .render import FONT, HtmlView, content_id, esc
from .tokens import Piece, check_text, check_tokenizer, token_pieces

PAD_STYLE = ("background:repeating-linear-gradient(45deg,#eeeeee,#eeeeee 4px,#dddddd 4px,#dddddd 8px);"
             "color:#888888;")
REAL_STYLE = "background:#dbe7f7;color:#111111;"
# The grid shows at most this many rows and positions (with a note), so a huge batch stays a readable page;
# attention_mask_grid keeps everything.
MAX_ROWS, MAX_POSITIONS = 32, 64


class NoPadTokenError(ValueError):
    """The tokenizer cannot pad a batch; the message gives the one-line fix."""


@dataclass(frozen=True)
class MaskGrid:
    """A padded batch: token pieces per row and the attention mask, both (batch, seq)."""

    texts: list[str]
    padding_side: str
    pieces: list[list[Piece]]
    mask: list[list[int]]


def attention_mask_grid(tokenizer, texts, padding_side: str = "right") -> MaskGrid:
    """Pad `texts` into one batch on `padding_side`; the tokenizer itself is left unchanged."""
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts:
        raise TypeError("pass a list of texts, e.g. ['Hi', 'A longer sentence'] (a batch to pad)")
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("every item of texts must be a str")
    for i, text in enumerate(texts):
        check_text(text, f"text {i}")
    tokenizer = check_tokenizer(tokenizer)
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', not {padding_side!r}")
    if tokenizer.pad_token is None:
        raise NoPadTokenError(
            "this tokenizer has no pad token, so texts of different lengths cannot share one batch. "
            "Fix: tokenizer.pad_token = tokenizer.eos_token (the attention mask makes the model "
            "ignore pad positions, so which token pads does not matter)")
    saved = tokenizer.padding_side
    try:
        tokenizer.padding_side = padding_side
        batch = tokenizer(list(texts), padding=True)
    finally:
        tokenizer.padding_side = saved
    return MaskGrid(list(texts), padding_side,
                    [token_pieces(tokenizer, ids) for ids in batch["input_ids"]],
                    [list(m) for m in batch["attention_mask"]])


def show_attention_mask(tokenizer, texts, padding_side: str = "right", *, title: str | None = None) -> HtmlView:
    """The padded batch as a grid: each cell a token over its mask value; pad cells hatched grey.

    A big batch shows its first 32 rows and 64 positions (the last 64 with left padding, where the
    real tokens end), with a note; attention_mask_grid has them all.
    """
    g = attention_mask_grid(tokenizer, texts, padding_side)
    seq = len(g.mask[0])
    cut = slice(0, MAX_POSITIONS) if padding_side == "right" else slice(max(0, seq - MAX_POSITIONS), seq)
    td = "padding:3px 4px;text-align:center;border:1px solid #ffffff;white-space:pre;"
    rows = ""
    for r, (pieces, mask) in enumerate(zip(g.pieces[:MAX_ROWS], g.mask[:MAX_ROWS], strict=True)):
        pieces, mask = pieces[cut], mask[cut]
        cells = "".join(
            f"<td style='{td}{REAL_STYLE if m else PAD_STYLE}{FONT}' title='id {p.id}'>{esc(p.text)}"
            f"<div style='font-weight:700;color:{'#1a7f37' if m else '#cf222e'};'>{m}</div></td>"
            for p, m in zip(pieces, mask, strict=True))
        rows += f"<tr><th style='padding:3px 6px;text-align:right;font-weight:400;'>row {r}</th>{cells}</tr>"
    heading = title or (f"attention_mask, padding_side={g.padding_side!r}: "
                        f"1 = real token, 0 = padding（填充）")
    left_out = []
    if len(g.mask) > MAX_ROWS:
        left_out.append(f"the first {MAX_ROWS} of {len(g.mask):,} rows")
    if seq > MAX_POSITIONS:
        left_out.append(f"the {'first' if padding_side == 'right' else 'last'} {MAX_POSITIONS} of {seq:,} positions")
    note = (f"… showing {' and '.join(left_out)}; H.attention_mask_grid(...) has them all" if left_out else "")
    html_text = (f"<div id='{content_id('mask', g.texts, g.padding_side)}'>"
                 f"<div style='font-weight:600;margin-bottom:4px;'>{esc(heading)}</div>"
                 f"<table style='border-collapse:collapse;'>{rows}</table>"
                 + (f"<div style='font-style:italic;margin-top:2px;'>{esc(note)}</div>" if note else "") + "</div>")
    plain = "\n".join(" ".join(str(m) for m in mask[cut]) for mask in g.mask[:MAX_ROWS])
    return HtmlView(html_text, f"attention_mask ({g.padding_side} padding):\n{plain}" + (f"\n{note}" if note else ""))
