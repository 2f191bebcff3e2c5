"""The logit lens（logit 透镜）: what would the model say if it stopped after layer i?

Each layer's hidden state is pushed through the final norm and the LM head, as if it were the
last one. Early layers guess poorly; the guess sharpens as the layers add information.

    H.logit_lens(model, tokenizer, "The capital of France is")
"""

from __future__ import annotations

from dataclasses import dataclass

from .render import content_id, esc
from .tokens import token_pieces


@dataclass(frozen=True)
class LogitLens:
    """Top token and its probability at every layer (rows) and position (columns)."""

    tokens: list[str]  # input token labels
    top_ids: list[list[int]]  # (layers + 1, seq): row 0 = embeddings, last row = the model's output
    top_tokens: list[list[str]]
    top_probs: list[list[float]]
    output_logits: object  # (seq, vocab) logits of the last row: equal to the model's own

    def _repr_html_(self) -> str:
        td = "padding:1px 4px;border:1px solid #ffffff;white-space:pre;font-family:monospace;font-size:0.85em;"
        head = "".join(f"<th style='{td}'>{esc(t)}</th>" for t in self.tokens)
        rows = ""
        n = len(self.top_tokens)
        for layer in reversed(range(n)):
            name = "embeddings" if layer == 0 else (f"layer {layer}" + (" (output)" if layer == n - 1 else ""))
            cells = "".join(
                f"<td style='{td}background:rgba(78,121,167,{p:.2f});color:{'#ffffff' if p > 0.55 else '#111111'}' "
                f"title='p={p:.2f}'>{esc(t)}</td>"
                for t, p in zip(self.top_tokens[layer], self.top_probs[layer], strict=True))
            rows += f"<tr><th style='{td}text-align:right'>{name}</th>{cells}</tr>"
        return (f"<div id='{content_id('lens', self.tokens, self.top_ids)}'><div style='font-weight:600;'>"
                "Logit lens: the most likely next token after each layer (darker = more confident)</div>"
                f"<table style='border-collapse:collapse;'><tr><th></th>{head}</tr>{rows}</table></div>")

    def __repr__(self) -> str:
        last = [f"layer {i}: {row[-1]}" for i, row in enumerate(self.top_tokens)]
        return "next token at the last position by layer: " + ", ".join(last)


# Scores computed per LM-head call: all layers' rows go through the head together (one pass over
# its weights instead of one per layer), in chunks that keep the (rows, vocab) logits near 128 MB.
SCORES_PER_CALL = 1 << 25


def logit_lens(model, tokenizer, text: str) -> LogitLens:
    """Run `text` once with output_hidden_states=True and decode every layer through norm + LM head.

    transformers returns the last hidden state after the final norm already, so only the earlier
    ones are normed here; the last row therefore equals the model's own logits.
    """
    import torch

    from .generation import encode_prompt

    if not callable(getattr(model, "get_decoder", None)):
        raise TypeError(f"logit_lens expects a model loaded with AutoModelForCausalLM.from_pretrained(...), "
                        f"got {type(model).__name__}")
    final_norm = getattr(model.get_decoder(), "norm", None)
    lm_head = getattr(model, "lm_head", None)
    if final_norm is None or lm_head is None:
        raise ValueError(f"the logit lens needs a final norm at model.get_decoder().norm and model.lm_head; "
                         f"{type(model).__name__} names them differently (it works for Llama, Qwen, Phi-3, SmolLM)")
    ids = encode_prompt(model, tokenizer, text)
    seq = ids.shape[1]
    with torch.no_grad():
        hidden = model(ids, output_hidden_states=True).hidden_states  # (layers + 1) x (1, seq, hidden)
        last = len(hidden) - 1
        # every layer's states as rows of one matrix, ((layers + 1) * seq, hidden); the last is normed already
        rows = torch.cat([h[0] if i == last else final_norm(h)[0] for i, h in enumerate(hidden)])
        vocab = lm_head.weight.shape[0]
        per_call = max(1, SCORES_PER_CALL // vocab)
        best_p, best_id, output_rows = [], [], []
        for start in range(0, rows.shape[0], per_call):
            logits = lm_head(rows[start:start + per_call]).float()  # (chunk, vocab)
            p, idx = torch.softmax(logits, dim=-1).max(dim=-1)
            best_p.append(p)
            best_id.append(idx)
            from_last = start + logits.shape[0] - last * seq  # how many of these rows belong to the output layer
            if from_last > 0:
                output_rows.append(logits[-min(from_last, logits.shape[0]):])
    best_p, best_id = torch.cat(best_p).view(last + 1, seq), torch.cat(best_id).view(last + 1, seq)
    top_ids = best_id.tolist()
    top_probs = [[round(float(x), 3) for x in row] for row in best_p]
    labels = [p.text for p in token_pieces(tokenizer, ids[0].tolist())]
    top_tokens = [[p.text for p in token_pieces(tokenizer, row)] for row in top_ids]
    return LogitLens(labels, top_ids, top_tokens, top_probs, torch.cat(output_rows).cpu())
