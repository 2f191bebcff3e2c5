"""Preference tuning（偏好微调） by the numbers: how much more likely the chosen answer is than the rejected.

    margins = H.preference_margins(model, tokenizer, heldout_pairs)   # log p(chosen) - log p(rejected)
    H.margin_table(heldout_pairs, before=margins_before, after=margins_after)

A row is TRL's conversational preference format:
    {"prompt": [{"role": "user", ...}], "chosen": [{"role": "assistant", ...}], "rejected": [...]}
"""

from __future__ import annotations

from .finetune import ROLES, DatasetFormatError
from .render import HtmlView, content_id
from .render import table as render_table

EXAMPLE_PAIR = ('{"prompt": [{"role": "user", "content": "..."}], "chosen": [{"role": "assistant", "content": "..."}], '
                '"rejected": [{"role": "assistant", "content": "..."}]}')


def _messages_ok(value, last_role: str | None) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str)
                    and m["content"].strip() for m in value)
            and (last_role is None or value[-1]["role"] == last_role))


def check_preference_rows(rows, source: str = "the preference set") -> int:
    """Check every row has prompt / chosen / rejected messages; raise naming the first bad row."""
    n = 0
    for i, row in enumerate(rows):
        for key, last in (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")):
            if not isinstance(row, dict) or not _messages_ok(row.get(key), last):
                raise DatasetFormatError(
                    f"row {i} of {source} (line {i + 1} of a JSONL file): '{key}' is missing or not a list of "
                    f"messages ending with a {last} message. Each row must look like {EXAMPLE_PAIR}")
        if row["chosen"] == row["rejected"]:
            raise DatasetFormatError(f"row {i} of {source}: chosen and rejected are the same answer, so there is "
                                     "no preference to learn")
        n += 1
    if n == 0:
        raise DatasetFormatError(f"{source} has no rows; each line must look like {EXAMPLE_PAIR}")
    return n


def answer_logprob(model, tokenizer, prompt, answer) -> float:
    """log p(answer | prompt) under the model: the sum over the answer's tokens, chat template applied."""
    import torch

    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                               return_dict=True)["input_ids"]
    full_ids = tokenizer.apply_chat_template(prompt + answer, tokenize=True, return_dict=True)["input_ids"]
    if full_ids[:len(prompt_ids)] != prompt_ids:
        raise ValueError("the chat template renders the prompt differently on its own and before the answer; "
                         "cannot tell which tokens are the answer")
    ids = torch.tensor([full_ids], device=model.device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()  # position t predicts token t+1
    logp = logits.log_softmax(-1).gather(1, ids[0, 1:, None])[:, 0]
    return float(logp[len(prompt_ids) - 1:].sum())


def preference_margins(model, tokenizer, rows) -> list[float]:
    """For each pair: log p(chosen) - log p(rejected). Positive = the model prefers the chosen answer."""
    was_training = model.training
    model.eval()
    try:
        return [answer_logprob(model, tokenizer, r["prompt"], r["chosen"])
                - answer_logprob(model, tokenizer, r["prompt"], r["rejected"]) for r in rows]
    finally:
        model.train(was_training)


def margin_table(rows, before, after) -> HtmlView:
    """Per held-out pair: the margin before and after training, and the change; mean in the last row."""
    rows, before, after = list(rows), list(before), list(after)
    if not (len(rows) == len(before) == len(after)) or not rows:
        raise ValueError(f"need one margin before and after per pair; got {len(rows)} pairs, "
                         f"{len(before)} before, {len(after)} after")
    mean_b, mean_a = sum(before) / len(before), sum(after) / len(after)
    cells = [[r["prompt"][-1]["content"], f"{b:+.2f}", f"{a:+.2f}", f"{a - b:+.2f}"]
             for r, b, a in zip(rows, before, after, strict=True)]
    cells.append(["mean", f"{mean_b:+.2f}", f"{mean_a:+.2f}", f"{mean_a - mean_b:+.2f}"])
    html_text = render_table(["prompt", "before", "after", "change"], cells, bold_last_row=True,
                             caption="log p(chosen) − log p(rejected), in nats, on held-out pairs",
                             element_id=content_id("margins", [round(x, 2) for x in before + after]))
    plain = f"mean margin {mean_b:+.2f} -> {mean_a:+.2f} nats over {len(rows)} held-out pairs"
    return HtmlView(html_text, plain)
