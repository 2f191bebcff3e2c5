"""Preference tuning（偏好微调） by the numbers: how much more likely the chosen answer is than the rejected.

    margins = H.preference_margins(model, tokenizer, heldout_pairs)   # log p(chosen) - log p(rejected)
    H.margin_table(heldout_pairs, before=margins_before, after=margins_after)

A row is TRL's conversational preference format:
    {"prompt": [{"role": "user", ...}], "chosen": [{"role": "assistant", ...}], "rejected": [...]}
"""

from __future__ import annotations

from .checks import is_number
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
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        one = " (one row: put it in a list, [row])" if isinstance(rows, dict) else ""
        raise TypeError(f"pass the preference rows as a list of dicts or a datasets.Dataset, got "
                        f"{type(rows).__name__}{one}; for a file, read it first, e.g. "
                        "datasets.load_dataset('json', data_files=path)['train']")
    n = 0
    for i, row in enumerate(rows):
        for key, last in (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")):
            if not isinstance(row, dict) or not _messages_ok(row.get(key), last):
                raise DatasetFormatError(
                    f"row {i} of {source} (line {i + 1} of a JSONL file): '{key}' is missing or not a list of "
                    f"messages ending with a {last} message. Each row must look like {EXAMPLE_PAIR}")
            for j, m in enumerate(row[key]):
                try:
                    m["content"].encode("utf-8")
                except UnicodeEncodeError as err:  # a lone surrogate: the tokenizer would fail mid-run
                    raise DatasetFormatError(
                        f"row {i} of {source} (line {i + 1} of a JSONL file): '{key}' message {j} has an invalid "
                        f"character {m['content'][err.start]!r} at position {err.start} (half of a surrogate pair, "
                        "not text); remove it or fix the file's encoding") from None
        if row["chosen"] == row["rejected"]:
            raise DatasetFormatError(f"row {i} of {source}: chosen and rejected are the same answer, so there is "
                                     "no preference to learn")
        n += 1
    if n == 0:
        raise DatasetFormatError(f"{source} has no rows; each line must look like {EXAMPLE_PAIR}")
    return n


def _as_messages(value, role: str, name: str) -> list:
    """A text as one message of `role`; a list of messages as a list; anything else a TypeError."""
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of chat messages such as [{{'role': '{role}', 'content': '...'}}] "
                        f"(or a str), got {type(value).__name__}")
    return list(value)


def answer_logprob(model, tokenizer, prompt, answer) -> float:
    """log p(answer | prompt) under the model: the sum over the answer's tokens, chat template applied.

    prompt and answer are lists of chat messages, as in a preference row; a str is taken as one user
    message (prompt) or one assistant message (answer).
    """
    import torch

    from .generation import check_context, check_messages, check_model
    from .models import check_pair
    from .tokens import check_tokenizer

    prompt, answer = _as_messages(prompt, "user", "prompt"), _as_messages(answer, "assistant", "answer")
    if not any(isinstance(m, dict) and isinstance(m.get("content"), str) and m["content"].strip() for m in answer):
        raise ValueError("the answer is empty: pass the assistant's answer, e.g. "
                         "[{'role': 'assistant', 'content': 'Paris.'}], so there are tokens to score")
    check_messages(prompt + answer, "the prompt + answer given to answer_logprob", needs_answer=True)
    check_model(model)
    tokenizer = check_tokenizer(tokenizer, "as the second argument")
    check_pair(model, tokenizer)
    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                               return_dict=True)["input_ids"]
    full_ids = tokenizer.apply_chat_template(prompt + answer, tokenize=True, return_dict=True)["input_ids"]
    check_context(model, len(full_ids), "the prompt + answer", room=0)  # scored silently beyond it otherwise
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
    from .generation import check_model
    from .tokens import check_tokenizer

    check_model(model)  # before model.training is read: a name or None gets the fix
    check_tokenizer(tokenizer, "as the second argument")
    rows = _pair_rows(rows, "preference_margins")
    was_training = model.training
    model.eval()
    try:
        return [answer_logprob(model, tokenizer, r["prompt"], r["chosen"])
                - answer_logprob(model, tokenizer, r["prompt"], r["rejected"]) for r in rows]
    finally:
        model.train(was_training)


def _pair_rows(rows, helper: str) -> list:
    """The preference rows as a list; a TypeError with the fix for a text or a row without a 'prompt' list."""
    if isinstance(rows, (str, dict)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"{helper} needs a list of preference pairs (rows with 'prompt', 'chosen' and 'rejected'), "
                        f"e.g. the held-out dataset; got a {type(rows).__name__}")
    rows = list(rows)
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("prompt"), list) or not row["prompt"]:
            raise TypeError(f"row {i} given to {helper} is not a preference pair with a 'prompt' list of messages; "
                            f"each row must look like {EXAMPLE_PAIR}")
    return rows


def margin_table(rows, before, after) -> HtmlView:
    """Per held-out pair: the margin before and after training, and the change; mean in the last row."""
    rows = _pair_rows(rows, "margin_table")
    for name, values in (("before", before), ("after", after)):
        if isinstance(values, (str, dict)) or not hasattr(values, "__iter__"):
            raise TypeError(f"{name} must be a list of margins, e.g. H.preference_margins(model, tokenizer, pairs); "
                            f"got a {type(values).__name__}")
    before, after = list(before), list(after)
    for name, values in (("before", before), ("after", after)):
        for i, v in enumerate(values):
            if not is_number(v):
                raise TypeError(f"{name}[{i}] is {type(v).__name__} {v!r}, not a number: pass the margins "
                                "H.preference_margins(model, tokenizer, pairs) returns (floats)")
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
