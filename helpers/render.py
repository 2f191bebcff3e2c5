"""The rendering core: HTML views that are deterministic, offline and escaped.

Every `show_*` helper returns an `HtmlView` (or a matplotlib Figure). A view renders as inline-CSS
HTML in JupyterLab, on GitHub and in a static page, and as a short plain-text summary elsewhere
(which is also what nbval compares besides the HTML). Nothing here calls display() or writes files.
"""

from __future__ import annotations

import hashlib
import html

# Soft, distinguishable chip colours (light enough for black text), cycled by token position.
PALETTE = ("#fde2e4", "#dbe7f7", "#e2f0cb", "#fff1c1", "#e9dcf5", "#d5f0ee", "#fbe0c8", "#e6e6e6")
SPECIAL_STYLE = "background:#2f3e4e;color:#ffffff;"
# No quotes inside: styles sit in single-quoted attributes (a quoted font name once ended the
# attribute early and froze JupyterLab). Multi-word family names are valid CSS unquoted.
FONT = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,Noto Sans Mono CJK SC,monospace;"


def esc(value: object) -> str:
    """HTML-escape anything that came from text or a tokenizer (quotes included)."""
    return html.escape(str(value), quote=True)


def mpl_text(value: object) -> str:
    """Text for a matplotlib label, title or legend, drawn exactly as written.

    matplotlib reads text between two `$` as maths: "I paid $5 for a $10 pizza" would be drawn as
    "I paid 5fora10 pizza", and "cost $\\x$" fails when the figure is shown. An escaped `\\$` is
    drawn as a plain `$`, so every plotting helper passes the learner's text through this.
    Example: mpl_text("$5") -> "\\$5" (drawn as $5); text without `$` is returned unchanged.
    """
    return str(value).replace("$", "\\$")


def content_id(*parts: object, prefix: str = "llmlab") -> str:
    """A stable element id from the content (never uuid4): same input, same HTML."""
    digest = hashlib.sha1("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:10]
    return f"{prefix}-{digest}"


class HtmlView:
    """HTML for notebooks plus a plain-text fallback. `view.html` is the markup as a string."""

    def __init__(self, html_text: str, text: str):
        self.html = html_text
        self.text = text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def chip(label: str, sub: str | None = None, *, color: str = PALETTE[0], special: bool = False,
         title: str | None = None) -> str:
    """One token chip: the (already display-cleaned) label, optionally a small id under it."""
    style = SPECIAL_STYLE if special else f"background:{color};color:#111111;"
    sub_html = (f"<span style='display:block;font-size:0.8em;opacity:0.75;'>{esc(sub)}</span>"
                if sub is not None else "")
    title_attr = f" title='{esc(title)}'" if title else ""
    return (f"<span{title_attr} style='{style}{FONT}display:inline-block;margin:2px;"
            f"padding:2px 5px;border-radius:4px;text-align:center;white-space:pre;"
            f"line-height:1.25;vertical-align:top;'>{esc(label)}{sub_html}</span>")


def box(inner_html: str, *, title: str | None = None, element_id: str | None = None) -> str:
    """A bordered block with an optional heading; `inner_html` must already be escaped."""
    id_attr = f" id='{esc(element_id)}'" if element_id else ""
    head = (f"<div style='font-weight:600;margin-bottom:4px;'>{esc(title)}</div>" if title else "")
    return (f"<div{id_attr} style='border:1px solid #cccccc;border-radius:6px;padding:6px 8px;"
            f"margin:4px 0;'>{head}{inner_html}</div>")


def bars_html(rows, *, value_label: str = "probability", sub_label: str = "id · logit",
              highlight: int | None = None, relative: bool = False) -> str:
    """A small table with an inline bar per row: rows are (label_html, sub_html, value in 0..1).

    `label_html` and `sub_html` must already be escaped. The row at index `highlight` is bold.
    relative=True scales the bars to the largest value, so a flat distribution is still visible.
    """
    out = []
    top = max((float(v) for _, _, v in rows), default=1.0) if relative else 1.0
    for i, (label, sub, value) in enumerate(rows):
        weight = "font-weight:700;" if i == highlight else ""
        width = max(0.0, min(1.0, float(value) / (top or 1.0))) * 300
        out.append(
            f"<tr style='{weight}'><td style='padding:1px 8px;white-space:pre;{FONT}'>{label}</td>"
            f"<td style='padding:1px 8px;text-align:right;opacity:0.75;'>{sub}</td>"
            f"<td style='padding:1px 8px;'><div style='background:#4e79a7;height:12px;width:{width:.1f}px;"
            f"display:inline-block;vertical-align:middle;'></div> {float(value):.1%}</td></tr>")
    return (f"<table style='border-collapse:collapse;'><tr><th style='text-align:left;padding:1px 8px;'>token"
            f"</th><th style='padding:1px 8px;'>{esc(sub_label)}</th><th style='text-align:left;padding:1px 8px;'>"
            f"{esc(value_label)}{' (bars scaled to the top row)' if relative else ''}</th></tr>{''.join(out)}</table>")


def table(header, rows, *, align: str | None = None, caption: str | None = None,
          element_id: str | None = None, bold_first_column: bool = False, bold_last_row: bool = False) -> str:
    """A plain table of text cells with a rule between rows; every header and cell is escaped here.

    header: column names; rows: lists of cells already formatted as text (numbers as "1.23 MB").
    align: one letter per column, "l" or "r"; default: the first column left, the others right
    (labels, then numbers). caption: a bold line above the table.
    """
    header, rows = list(header), [list(r) for r in rows]
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align={align!r} for {len(header)} columns: give one 'l' (left) or 'r' (right) per "
                         f"column, e.g. {'l' + 'r' * (len(header) - 1)!r}")
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"row {i} has {len(row)} cells but the header has {len(header)} columns "
                             f"({', '.join(map(str, header))}); give every row one cell per column")
    pad = "padding:2px 10px;vertical-align:top;"
    sides = ["text-align:left;" if a == "l" else "text-align:right;" for a in align]
    head = "".join(f"<th style='{pad}{s}'>{esc(h)}</th>" for h, s in zip(header, sides, strict=True))
    body = []
    for i, row in enumerate(rows):
        row_bold = bold_last_row and i == len(rows) - 1
        cells = "".join(
            f"<td style='{pad}border-top:1px solid #dddddd;{s}"
            f"{'font-weight:600;' if row_bold or (bold_first_column and j == 0) else ''}'>{esc(c)}</td>"
            for j, (c, s) in enumerate(zip(row, sides, strict=True)))
        body.append(f"<tr>{cells}</tr>")
    id_attr = f" id='{esc(element_id)}'" if element_id else ""
    head_html = f"<div style='font-weight:600;'>{esc(caption)}</div>" if caption else ""
    return (f"<div{id_attr}>{head_html}<table style='border-collapse:collapse;'><tr>{head}</tr>"
            f"{''.join(body)}</table></div>")
