"""ipywidgets playgrounds: type, slide, watch the picture change. Each needs a running kernel.

    H.tokenizer_playground(toks)                 # type text; chips and counts of every tokenizer
    H.similarity_playground(model, sentences)    # edit sentences; the heatmap redraws

Each returns an ipywidgets box. Nonsense from the controls (an empty box, one sentence) gets a
message in the output area, never a traceback.
"""

from __future__ import annotations

import html
import io

from .compare import _named, compare_tokenizers

PLAYGROUND_CHIPS = 400  # tokens shown per tokenizer while typing: keeps every redraw fast
MAX_SENTENCES = 16


def _message(text: str) -> str:
    return f"<div style='color:#9a6700;font-style:italic;'>{html.escape(text)}</div>"


def tokenizer_html(text: str, tokenizers) -> str:
    """What the tokenizer playground shows for `text` (a message instead of an error)."""
    try:
        return compare_tokenizers(text, tokenizers, limit=PLAYGROUND_CHIPS).html
    except Exception as exc:  # shown in the output area, never as a traceback in the widget
        return _message(f"could not tokenize this text: {type(exc).__name__}: {exc}")


def tokenizer_playground(tokenizers, text: str = "Hello world! 你好，世界！ 12.0*50=600"):
    """A text box and, under it, how every tokenizer splits what is typed, updated on each key."""
    import ipywidgets as W

    named = _named(tokenizers)
    box = W.Textarea(value=text, placeholder="Type English, 中文, code, emoji…", continuous_update=True,
                     layout=W.Layout(width="100%", height="70px"))
    view = W.HTML(value=tokenizer_html(text, named))

    def on_change(change):
        view.value = tokenizer_html(change["new"], named)

    box.observe(on_change, names="value")
    title = W.HTML("<b>Tokenizer playground（分词器游乐场）</b>: type in the box")
    return W.VBox([title, box, view])


def similarity_png(model, text: str) -> tuple[bytes | None, str]:
    """(PNG of the heatmap or None, message) for one sentence per line of `text`."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if len(lines) < 2:
        return None, "Type at least two sentences, one per line."
    note = ""
    if len(lines) > MAX_SENTENCES:
        note = f"Showing the first {MAX_SENTENCES} of {len(lines)} sentences."
        lines = lines[:MAX_SENTENCES]
    from .similarity import plot_similarity

    fig = plot_similarity(lines, model.encode(lines))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue(), note


def similarity_playground(model, sentences):
    """Edit the sentences (one per line); the cosine-similarity heatmap redraws when you leave the box."""
    import ipywidgets as W

    box = W.Textarea(value="\n".join(sentences), continuous_update=False,
                     layout=W.Layout(width="100%", height=f"{22 * max(3, len(sentences)) + 10}px"))
    image = W.Image(format="png")
    message = W.HTML()

    def redraw(text):
        try:
            png, note = similarity_png(model, text)
        except Exception as exc:  # never a traceback in the widget
            png, note = None, f"could not embed these sentences: {type(exc).__name__}: {exc}"
        message.value = _message(note) if note else ""
        if png is not None:
            image.value = png
        image.layout.display = None if png is not None else "none"

    box.observe(lambda change: redraw(change["new"]), names="value")
    redraw(box.value)
    title = W.HTML("<b>Similarity playground（相似度游乐场）</b>: edit a sentence, then click outside the box")
    return W.VBox([title, box, message, image])
