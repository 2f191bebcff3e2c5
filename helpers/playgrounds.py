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
MAX_CANDIDATES = 50  # the generation stepper shows one button per candidate


def _message(text: str) -> str:
    return f"<div style='color:#9a6700;font-style:italic;'>{html.escape(text)}</div>"


def tokenizer_html(text: str, tokenizers) -> str:
    """What the tokenizer playground shows for `text` (a message instead of an error)."""
    try:
        return compare_tokenizers(text, tokenizers, limit=PLAYGROUND_CHIPS).html
    except Exception as exc:  # shown in the output area, never as a traceback in the widget
        return _message(f"could not tokenize this text: {type(exc).__name__}: {exc}")


class _Widget:
    """Displays as its ipywidgets box; keeps the state and the methods tests and learners call.

    Where no kernel runs (GitHub, a static page) the plain-text fallback says what to do.
    """

    widget = None
    name = "This playground"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"{self.name}: run this cell in JupyterLab to use it (it needs a running kernel)."
        return bundle

    @property
    def children(self):
        return self.widget.children


class TokenizerPlayground(_Widget):
    name = "Tokenizer playground"

    def __init__(self, widget):
        self.widget = widget


class SimilarityPlayground(_Widget):
    name = "Similarity playground"

    def __init__(self, widget):
        self.widget = widget


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
    title = W.HTML("<b>Tokenizer playground（分词器交互演示）</b>: type in the box")
    return TokenizerPlayground(W.VBox([title, box, view]))


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
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue(), note


def _check_embedder(model) -> None:
    """A sentence embedder (anything with .encode(list of str) -> vectors), or a TypeError naming the fix."""
    fix = "pass a SentenceTransformer, e.g. SentenceTransformer(str(H.model_path(H.multilingual_embedder())))"
    if isinstance(model, str):
        raise TypeError(f"expected a sentence embedder, got the name {model!r}: load it first; {fix}")
    if hasattr(model, "convert_ids_to_tokens"):  # a tokenizer's .encode gives token ids, not sentence vectors
        raise TypeError(f"expected a sentence embedder, got a tokenizer ({type(model).__name__}): {fix}")
    if not callable(getattr(model, "encode", None)):
        raise TypeError(f"expected a sentence embedder with .encode(sentences), got a {type(model).__name__}: {fix}")


def similarity_playground(model, sentences):
    """Edit the sentences (one per line); the cosine-similarity heatmap redraws when you leave the box."""
    import ipywidgets as W

    _check_embedder(model)
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        hint = ": split it into sentences first, e.g. text.splitlines()" if isinstance(sentences, str) else ""
        raise TypeError(f"sentences must be a list of str, e.g. ['I like cats.', '我喜欢猫。'], got "
                        f"{type(sentences).__name__}{hint}")
    odd = [(i, x) for i, x in enumerate(sentences) if not isinstance(x, str)]
    if odd:
        raise TypeError(f"sentences must be a list of str; item {odd[0][0]} is {type(odd[0][1]).__name__} "
                        f"{odd[0][1]!r}: pass str(x) for a number")
    box = W.Textarea(value="\n".join(sentences), continuous_update=False,
                     layout=W.Layout(width="100%", height=f"{22 * max(3, len(sentences)) + 10}px"))
    image = W.Image(format="png", layout=W.Layout(width="auto", max_width="640px"))  # no stretching
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
    title = W.HTML("<b>Similarity playground（相似度交互演示）</b>: edit a sentence, then click outside the box")
    return SimilarityPlayground(W.VBox([title, box, message, image]))


# ---------------------------------------------------------------------------- chapter 3


class GenerationStepper(_Widget):
    """Generate by hand: press "next token", or pick any of the top-k candidates and continue from it.

    Uses the KV cache, so each click is one forward pass over one new token.
    """

    name = "Generation stepper"

    def __init__(self, model, tokenizer, prompt: str, k: int = 8):
        import ipywidgets as W

        from .generation import _as_int, encode_prompt

        k = _as_int(k)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_CANDIDATES:
            error = ValueError if isinstance(k, (int, float)) else TypeError
            raise error(f"k must be an int between 1 and {MAX_CANDIDATES} (the stepper shows one button per "
                        f"candidate), got {k!r}")
        self.model, self.tokenizer, self.k = model, tokenizer, k
        self.prompt_ids = encode_prompt(model, tokenizer, prompt)
        from .generation import eos_ids

        self._eos = eos_ids(model)
        self.text_view = W.HTML()
        self.bars = W.HTML()
        self.choices = [W.Button(layout=W.Layout(width="auto")) for _ in range(k)]
        for rank, button in enumerate(self.choices):
            button.on_click(lambda _b, rank=rank: self.choose(rank))
        self.next_button = W.Button(description="next token", button_style="primary", icon="forward")
        self.next_button.on_click(lambda _b: self.choose(0))
        reset = W.Button(description="reset", icon="undo")
        reset.on_click(lambda _b: self.reset())
        hint = W.HTML("<i>or continue with another candidate:</i>")
        self.widget = W.VBox([W.HTML("<b>Generation stepper（逐步生成）</b>"), self.text_view,
                              W.HBox([self.next_button, reset]), self.bars, hint, W.HBox(self.choices)])
        self.reset()

    def reset(self) -> None:
        self.generated: list[int] = []
        self.cache = None
        self.finished = False
        self._forward(self.prompt_ids)

    def _forward(self, ids) -> None:
        import torch

        from .generation import top_candidates

        with torch.no_grad():
            out = self.model(ids, cache=self.cache, use_cache=True)
        self.cache = out.cache
        self.candidates = top_candidates(out.logits[0, -1], self.tokenizer, self.k)
        self._render()

    def choose(self, rank: int = 0) -> None:
        """Append the candidate at `rank` (0 = the most likely; -1 the last) and run one forward pass."""
        import torch

        from .generation import _as_int

        rank = _as_int(rank)
        if isinstance(rank, bool) or not isinstance(rank, int):
            raise TypeError(f"rank must be an int from 0 to {self.k - 1} (0 = the most likely candidate), "
                            f"got {type(rank).__name__} {rank!r}")
        if not -self.k <= rank < self.k:
            raise ValueError(f"rank must be an int from 0 to {self.k - 1} (0 = the most likely candidate; "
                             f"the stepper shows k={self.k}), got {rank}")
        if self.finished:
            return
        limit = getattr(self.model.config, "max_position_embeddings", 1 << 30)
        if self.prompt_ids.shape[1] + len(self.generated) + 1 >= limit:
            self.finished = True
            self._render("the context window is full")
            return
        token = self.candidates[rank].piece.id
        self.generated.append(token)
        if token in self._eos:
            self.finished = True
            self._render("the model ended its answer (end-of-sequence token); press reset")
            return
        self._forward(torch.tensor([[token]], device=self.prompt_ids.device))

    @property
    def text(self) -> str:
        return self.tokenizer.decode(self.generated, skip_special_tokens=True)

    def _render(self, note: str = "") -> None:
        from .render import bars_html, esc
        from .tokens import chips_html, token_pieces

        prompt = esc(self.tokenizer.decode(self.prompt_ids[0], skip_special_tokens=False))
        chips = chips_html(token_pieces(self.tokenizer, self.generated)) if self.generated else ""
        self.text_view.value = (f"<div style='white-space:pre-wrap;opacity:0.7'>{prompt}</div>{chips}"
                                + (f"<div style='color:#9a6700'><i>{esc(note)}</i></div>" if note else ""))
        rows = [(esc(c.piece.text), f"{c.piece.id} · {c.logit:.2f}", c.prob) for c in self.candidates]
        self.bars.value = "" if self.finished else bars_html(rows, highlight=0)
        for button, c in zip(self.choices, self.candidates, strict=True):
            button.description = f"{c.piece.text}  {c.prob:.0%}"
            button.disabled = self.finished
        self.next_button.disabled = self.finished


def generation_stepper(model, tokenizer, prompt: str, k: int = 8) -> GenerationStepper:
    """A "next token" button, the top-k bars, and a button per candidate to continue from it."""
    return GenerationStepper(model, tokenizer, prompt, k)


class SamplingPlayground(_Widget):
    """Temperature / top-k / top-p sliders over one real next-token distribution, with seeded samples."""

    name = "Sampling playground"

    def __init__(self, model, tokenizer, prompt: str, n_samples: int = 8, show: int = 15):
        import ipywidgets as W
        import torch

        from .generation import encode_prompt

        self.tokenizer, self.n_samples, self.show = tokenizer, n_samples, show
        with torch.no_grad():
            self.logits = model(encode_prompt(model, tokenizer, prompt)).logits[0, -1].float().cpu()
        style = {"description_width": "90px"}
        self.temperature = W.FloatSlider(value=1.0, min=0.05, max=3.0, step=0.05, description="temperature",
                                         style=style, continuous_update=True)
        self.top_k = W.IntSlider(value=0, min=0, max=200, description="top_k (0=off)", style=style)
        self.top_p = W.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="top_p", style=style)
        self.seed = W.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed", style=style,
                                     layout=W.Layout(width="180px"))
        self.view = W.HTML()
        for control in (self.temperature, self.top_k, self.top_p, self.seed):
            control.observe(lambda _change: self.update(), names="value")
        title = W.HTML(f"<b>Sampling playground（采样交互演示）</b>: next token after "
                       f"<code>{html.escape(prompt[-80:])}</code>")
        self.widget = W.VBox([title, W.HBox([self.temperature, self.top_k]), W.HBox([self.top_p, self.seed]),
                              self.view])
        self.update()

    def state(self):
        """(probabilities after the filters, sampled ids) for the current controls."""
        import torch

        from .generation import sampling_distribution

        probs = sampling_distribution(self.logits, temperature=self.temperature.value,
                                      top_k=self.top_k.value or None, top_p=self.top_p.value)
        generator = torch.Generator().manual_seed(int(self.seed.value))
        samples = torch.multinomial(probs, self.n_samples, replacement=True, generator=generator).tolist()
        return probs, samples

    def update(self) -> None:
        from .render import bars_html, esc
        from .tokens import token_pieces

        try:
            probs, samples = self.state()
        except (ValueError, RuntimeError) as exc:  # a message in the output, never a traceback
            self.view.value = _message(str(exc))
            return
        top = probs.topk(self.show)
        kept = int((probs > 0).sum())
        pieces = token_pieces(self.tokenizer, top.indices.tolist())
        rows = [(esc(p.text), str(p.id), float(v)) for p, v in zip(pieces, top.values.tolist(), strict=True)
                if v > 0]
        drawn = " ".join(p.text for p in token_pieces(self.tokenizer, samples))
        self.view.value = (f"<div>{kept:,} token{'s' if kept != 1 else ''} can be drawn; the top {len(rows)}:</div>"
                           f"{bars_html(rows, sub_label='id', relative=True)}"
                           f"<div style='margin-top:4px'>{self.n_samples} samples (seed {int(self.seed.value)}): "
                           f"<code>{esc(drawn)}</code></div>")


def sampling_playground(model, tokenizer, prompt: str) -> SamplingPlayground:
    """Sliders for temperature, top-k and top-p that redraw the distribution and draw seeded samples."""
    return SamplingPlayground(model, tokenizer, prompt)


class AttentionExplorer(_Widget):
    """Pick a layer, a head and a query token: the q·k scores, the mask, the softmax row and the output."""

    name = "Attention explorer"

    def __init__(self, records, tokens):
        import ipywidgets as W

        from .block import _qkv, attention_row_html

        q, _, _ = _qkv(records, 0)
        self.records, self.tokens = records, list(tokens)
        first = attention_row_html(records, self.tokens, 0, 0, len(self.tokens) - 1)  # bad input raises here
        style = {"description_width": "60px"}
        self.layer = W.IntSlider(value=0, min=0, max=len(records) - 1, description="layer", style=style)
        self.head = W.IntSlider(value=0, min=0, max=q.shape[1] - 1, description="head", style=style)
        self.query = W.Dropdown(options=[(f"{i}: {t}", i) for i, t in enumerate(self.tokens)],
                                value=len(self.tokens) - 1, description="query", style=style)
        self.view = W.HTML(first)
        for control in (self.layer, self.head, self.query):
            control.observe(lambda _change: self.update(), names="value")
        title = W.HTML("<b>Attention explorer（注意力探索器）</b>: one query token's scores, mask, softmax and output")
        self.widget = W.VBox([title, W.HBox([self.layer, self.head, self.query]), self.view])

    def update(self) -> None:
        from .block import attention_row_html

        try:
            self.view.value = attention_row_html(self.records, self.tokens, self.layer.value, self.head.value,
                                                 self.query.value)
        except (ValueError, TypeError) as exc:  # a message in the output, never a traceback
            self.view.value = _message(str(exc))


def attention_explorer(records, tokens) -> AttentionExplorer:
    """Sliders for layer and head and a query-token menu over the (q, k, v) a hand-written forward pass kept."""
    return AttentionExplorer(records, tokens)
