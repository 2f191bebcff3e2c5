"""attention_mask（注意力掩码）: which positions of a padded batch are real tokens (1) and which are pad (0).

    H.show_attention_mask(tokenizer, ["Hi", "A longer sentence here"], padding_side="left")
"""

from __future__ import annotations

from dataclasses import dataclass

from .render import FONT, HtmlView, content_id, esc
from .tokens import Piece, token_pieces

PAD_STYLE = ("background:repeating-linear-gradient(45deg,#eeeeee,#eeeeee 4px,#dddddd 4px,#dddddd 8px);"
             "color:#888888;")
REAL_STYLE = "background:#dbe7f7;color:#111111;"


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
    """The padded batch as a grid: each cell a token over its mask value; pad cells hatched grey."""
    g = attention_mask_grid(tokenizer, texts, padding_side)
    td = "padding:3px 4px;text-align:center;border:1px solid #ffffff;white-space:pre;"
    rows = ""
    for r, (pieces, mask) in enumerate(zip(g.pieces, g.mask, strict=True)):
        cells = "".join(
            f"<td style='{td}{REAL_STYLE if m else PAD_STYLE}{FONT}' title='id {p.id}'>{esc(p.text)}"
            f"<div style='font-weight:700;color:{'#1a7f37' if m else '#cf222e'};'>{m}</div></td>"
            for p, m in zip(pieces, mask, strict=True))
        rows += f"<tr><th style='padding:3px 6px;text-align:right;font-weight:400;'>row {r}</th>{cells}</tr>"
    heading = title or (f"attention_mask, padding_side={g.padding_side!r}: "
                        f"1 = real token, 0 = padding（填充）")
    html_text = (f"<div id='{content_id('mask', g.texts, g.padding_side)}'>"
                 f"<div style='font-weight:600;margin-bottom:4px;'>{esc(heading)}</div>"
                 f"<table style='border-collapse:collapse;'>{rows}</table></div>")
    plain = "\n".join(" ".join(str(m) for m in mask) for mask in g.mask)
    return HtmlView(html_text, f"attention_mask ({g.padding_side} padding):\n{plain}")
