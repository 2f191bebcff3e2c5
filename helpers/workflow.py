"""The whole trip in one picture: text -> token ids -> LLM -> token ids -> text.

    inputs = tokenizer(prompt, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    H.show_workflow(tokenizer, inputs.input_ids, output)
"""

from __future__ import annotations

from dataclasses import dataclass

from .render import HtmlView, box, content_id, esc
from .tokens import Piece, _ids_list, check_tokenizer, show_tokens, token_pieces

ARROW = "<div style='text-align:center;font-size:1.3em;line-height:1.1;'>&#8595;</div>"


@dataclass(frozen=True)
class Workflow:
    """The data behind show_workflow: what went in and what came out, as text and as tokens."""

    prompt: str
    prompt_pieces: list[Piece]
    new_pieces: list[Piece]
    answer: str


def workflow(tokenizer, input_ids, output_ids) -> Workflow:
    """Split `generate`'s output into the prompt and the new tokens, and decode both."""
    tokenizer = check_tokenizer(tokenizer)
    inp, out = _ids_list(input_ids), _ids_list(output_ids)
    if out[: len(inp)] != inp:
        raise ValueError("output_ids do not start with input_ids: pass the ids given to "
                         "model.generate and its full output (not return_full_text=False text)")
    new = out[len(inp) :]
    prompt_pieces, new_pieces = token_pieces(tokenizer, inp), token_pieces(tokenizer, new)  # checks the ids
    return Workflow(
        prompt=tokenizer.decode(inp),
        prompt_pieces=prompt_pieces,
        new_pieces=new_pieces,
        answer=tokenizer.decode(new, skip_special_tokens=True),
    )


def show_workflow(tokenizer, input_ids, output_ids) -> HtmlView:
    """Render text -> token ids -> LLM -> token ids -> text for one real generate() call."""
    w = workflow(tokenizer, input_ids, output_ids)
    pre = "white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere;font-family:inherit;margin:0;"
    n_in, n_new = len(w.prompt_pieces), len(w.new_pieces)
    stages = [
        box(f"<div style='{pre}'>{esc(w.prompt)}</div>", title="1. Text in（输入文本）"),
        box(show_tokens(tokenizer, [p.id for p in w.prompt_pieces], title=f"{n_in} token ids").html,
            title="2. Tokenizer: text → token ids（词元 ID）"),
        box(f"{n_new} forward passes, each adding one new token id: the first reads the whole prompt, each "
            "later one only the newest token (the KV cache keeps the rest; chapter 3)",
            title="3. The LLM generates（生成）"),
        box(show_tokens(tokenizer, [p.id for p in w.new_pieces], title=f"{n_new} new token ids").html,
            title="4. Token ids out"),
        box(f"<div style='{pre}'>{esc(w.answer)}</div>", title="5. Tokenizer: token ids → text（解码）"),
    ]
    element_id = content_id("workflow", [p.id for p in w.prompt_pieces + w.new_pieces])
    html_text = f"<div id='{element_id}' style='max-width:780px;'>" + ARROW.join(stages) + "</div>"
    text = f"text in ({n_in} tokens) -> LLM -> {n_new} new tokens -> text out: {w.answer!r}"
    return HtmlView(html_text, text)
