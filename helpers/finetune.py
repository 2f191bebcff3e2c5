"""Supervised fine-tuning（监督微调） plumbing: check the data, show what changed (run folders: runs.py).

    H.check_chat_rows(dataset, "ch12_sft_train.jsonl")     # names the bad row, if any
    H.plot_losses({"LoRA": trainer.state.log_history})
    H.compare_answers(prompts, {"before": base, "after": tuned}, tokenizer)

The training itself (LoraConfig, SFTConfig, SFTTrainer) stays in the notebook and in helpers/train.py.
"""

from __future__ import annotations

from pathlib import Path

from .checks import int_in
from .render import HtmlView, content_id
from .render import table as render_table
from .runs import _folder

ROLES = ("system", "user", "assistant")

EXAMPLE_ROW = '{"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}'


class DatasetFormatError(ValueError):
    """A training row that is not in the chat format the trainer expects."""


def _row_problem(row, needs_answer: bool) -> str | None:
    if not isinstance(row, dict) or "messages" not in row or row["messages"] is None:
        return "it has no 'messages'"
    messages = row["messages"]
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list of {'role': ..., 'content': ...}"
    for j, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"message {j} needs a 'role' of {', '.join(ROLES)}"
        if not isinstance(m.get("content"), str) or not m["content"].strip():
            return f"message {j} ({m['role']}) has no text in 'content'"
        try:
            m["content"].encode("utf-8")
        except UnicodeEncodeError as err:  # a lone surrogate, e.g. "\ud800" in the JSON
            return (f"message {j} ({m['role']}) has an invalid character {m['content'][err.start]!r} at position "
                    f"{err.start} (half of a surrogate pair, not text); remove it or fix the file's encoding")
    if needs_answer and messages[-1]["role"] != "assistant":
        return "its last message must be the assistant's answer the model learns to give"
    if needs_answer and not any(m["role"] == "user" for m in messages[:-1]):
        return "it has an answer but no question: put a user message before the assistant's answer"
    return None


def check_chat_rows(rows, source: str = "the dataset", *, needs_answer: bool = True) -> int:
    """Check every row is {"messages": [...]} with roles and text; raise naming the first bad row.

    `rows`: a datasets.Dataset or a list of dicts. Returns the number of rows. Row numbers are
    0-based, as in `dataset[i]`; for a JSONL file, row i is line i + 1.
    """
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"pass the rows as a list of dicts or a datasets.Dataset, got {type(rows).__name__}")
    n = 0
    for i, row in enumerate(rows):
        problem = _row_problem(row, needs_answer)
        if problem:
            raise DatasetFormatError(f"row {i} of {source} (line {i + 1} of a JSONL file): {problem}. "
                                     f"Each row must look like {EXAMPLE_ROW}")
        n += 1
    if n == 0:
        raise DatasetFormatError(f"{source} has no rows; each line of the file must look like {EXAMPLE_ROW}")
    return n


def losses(log_history) -> list[tuple[int, float]]:
    """(step, training loss) pairs from a Trainer's `state.log_history`."""
    if not isinstance(log_history, (list, tuple)):
        hint = (": pass trainer.state.log_history" if hasattr(log_history, "state")
                else ": pass its .log_history" if hasattr(log_history, "log_history") else "")
        raise TypeError(f"pass a trainer's log, trainer.state.log_history (a list), got "
                        f"{type(log_history).__name__}{hint}")
    points = []
    for i, row in enumerate(log_history):
        if not isinstance(row, dict):
            raise TypeError(f"entry {i} of the log is a {type(row).__name__}, not a dict: pass "
                            "trainer.state.log_history as the trainer wrote it (a list of dicts)")
        if "loss" in row and "step" in row:
            try:
                points.append((row["step"], float(row["loss"])))
            except (TypeError, ValueError):
                raise TypeError(f"entry {i} of the log has loss {row['loss']!r}, not a number: pass "
                                "trainer.state.log_history as the trainer wrote it") from None
    return points


def loss_drop(log_history) -> tuple[float, float]:
    """(first logged loss, last logged loss) of a run, e.g. (3.9, 0.9)."""
    points = losses(log_history)
    if not points:
        raise ValueError("the log has no training loss; train with logging_steps set (and logging_first_step=True)")
    return points[0][1], points[-1][1]


def seconds_per_step(log_history) -> float:
    """Wall-clock seconds per optimizer step of a finished run (train_runtime / steps)."""
    losses(log_history)  # a trainer, its state, None or rows that are not dicts get the fix
    for row in reversed(log_history):
        if "train_runtime" in row:
            return float(row["train_runtime"]) / max(1, int(row["step"]))
    raise ValueError("the run has not finished: no train_runtime in its log")


def plot_losses(runs: dict, *, title: str | None = "Training loss（训练损失）"):
    """One line per run: {"LoRA fp32": trainer.state.log_history, ...} -> Figure. title=None: the default title."""
    import matplotlib.pyplot as plt

    from .fonts import use_cjk_font
    from .render import mpl_text

    if not isinstance(runs, dict) or not runs:
        raise TypeError("pass a dict of run name -> trainer.state.log_history")
    for name, log in runs.items():
        if not isinstance(log, (list, tuple)):
            raise TypeError(f"run {name!r}: pass its trainer's log, trainer.state.log_history (a list of dicts), "
                            f"not a {type(log).__name__}")
    curves = {name: losses(log) for name, log in runs.items()}
    empty = [name for name, points in curves.items() if not points]
    if empty:  # it would be an empty figure with a legend entry
        raise ValueError(f"run {empty[0]!r} logged no training loss, so there is no curve to draw: train with "
                         "logging_steps set (and logging_first_step=True), and pass trainer.state.log_history")
    if title is None:
        title = "Training loss（训练损失）"
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for name, points in curves.items():
        # mpl_text: a run named "lr $1e-4$" is drawn as typed, not read as maths
        ax.plot([s for s, _ in points], [v for _, v in points], marker="o", markersize=3, label=mpl_text(name))
    ax.set_xlabel("step")
    ax.set_ylabel("loss on the answer tokens")
    ax.set_ylim(bottom=0)
    ax.set_title(mpl_text(title))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    plt.close(fig)
    return fig


def greedy_answer(model, tokenizer, messages, max_new_tokens: int = 40) -> str:
    """The model's greedy answer to a chat (list of messages, or one question as a str), decoded without
    special tokens. The messages follow check_chat_rows' rules (roles, text in every 'content')."""
    from .generation import check_messages

    messages = check_messages(messages, "greedy_answer's messages")  # roles, text, no lone surrogates
    return _greedy(model, tokenizer, [messages], max_new_tokens)[0]


def greedy_answers(model, tokenizer, chats, max_new_tokens: int = 40) -> list[str]:
    """greedy_answer for several chats in one `generate` call: the prompts left-padded into one batch.

    A batch costs about what one chat costs on a CPU (a small model's step is overhead, not arithmetic),
    so six answers take about a quarter of the time. Padding changes the sums inside attention only in
    the last float digits; a near-tie between two tokens could in principle go the other way.
    """
    if isinstance(chats, (str, dict)) or not hasattr(chats, "__iter__"):
        raise TypeError(f"greedy_answers takes a list of chats (each a question or a list of messages), got a "
                        f"{type(chats).__name__}; for one chat use H.greedy_answer")
    chats = list(chats)
    if chats and all(isinstance(m, dict) for m in chats):
        raise TypeError("greedy_answers got one chat (a list of messages); pass a list of chats, e.g. [messages], "
                        "or use H.greedy_answer for one")
    if not chats:
        raise ValueError("greedy_answers got no chats: pass a list with at least one question or chat")
    from .generation import check_messages

    chats = [check_messages(c, f"chat {i} of greedy_answers") for i, c in enumerate(chats)]
    return _greedy(model, tokenizer, chats, max_new_tokens)


def _greedy(model, tokenizer, chats: list, max_new_tokens) -> list[str]:
    import torch

    from .generation import MAX_NEW_TOKENS, _as_int, check_context, check_model
    from .models import check_pair
    from .tokens import check_tokenizer

    max_new_tokens = _as_int(max_new_tokens)
    if not int_in(max_new_tokens, 1, MAX_NEW_TOKENS):
        raise ValueError(f"max_new_tokens must be an int from 1 to {MAX_NEW_TOKENS}, got {max_new_tokens!r}")
    check_model(model)
    tokenizer = check_tokenizer(tokenizer, "as the second argument")
    check_pair(model, tokenizer)
    rows = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
            for c in chats]
    width = max(map(len, rows))
    check_context(model, width)  # a longer prompt would run for minutes and answer ''
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    # left padding: every prompt ends at the last column, where generation continues
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=model.device)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=model.device)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=pad)
    return [tokenizer.decode(row[width:], skip_special_tokens=True).strip() for row in out]


def compare_answers(prompts, models: dict, tokenizer, *, max_new_tokens: int = 40) -> HtmlView:
    """A table: one row per prompt, one column per model (greedy answers, side by side)."""
    if not isinstance(models, dict) or not models:
        raise TypeError("pass models as a dict of column name -> model, e.g. {'before': base, 'after': tuned}")
    if isinstance(prompts, dict) or (not isinstance(prompts, str) and not hasattr(prompts, "__iter__")):
        hint = ": pass list(prompts.values()) for its questions" if isinstance(prompts, dict) else ""
        raise TypeError(f"prompts must be a question (str) or a list of questions, got {type(prompts).__name__}"
                        f"{hint}")
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    table = [[greedy_answer(m, tokenizer, p, max_new_tokens) for m in models.values()] for p in prompts]
    return answer_table(prompts, list(models), table)


def answer_table(prompts, columns, table) -> HtmlView:
    """Render answers already computed: table[i][j] is prompt i's answer from column j."""
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    columns = [columns] if isinstance(columns, str) else list(columns)
    if isinstance(table, (str, dict)) or not hasattr(table, "__iter__"):
        raise TypeError(f"table must be a list with one row of answers per prompt, got {type(table).__name__}")
    if not hasattr(table, "__len__"):  # a generator or zip(...): read it once
        table = list(table)
    if len(table) != len(prompts):
        raise ValueError(f"answer_table needs one row of answers per prompt: got {len(prompts)} prompts but "
                         f"{len(table)} rows in table")
    for i, row in enumerate(table):
        listed = hasattr(row, "__len__") and not isinstance(row, str)
        if not listed or len(row) != len(columns):
            got = f"has {len(row)} answer(s)" if listed else f"is a {type(row).__name__}, not a list of answers"
            raise ValueError(f"row {i} of table {got} for {len(columns)} column(s) "
                             f"({', '.join(map(str, columns))}): give each prompt one answer per column, "
                             "e.g. [[a] for a in answers] for one column")
    html_text = render_table(["prompt", *columns], [[_text(p), *row] for p, row in zip(prompts, table, strict=True)],
                             align="l" * (len(columns) + 1), bold_first_column=True,
                             element_id=content_id("answers", [_text(p) for p in prompts], table))
    plain = "\n".join(f"{_text(p)}\n" + "\n".join(f"  {c}: {a}" for c, a in zip(columns, row, strict=True))
                      for p, row in zip(prompts, table, strict=True))
    return HtmlView(html_text, plain)


def _text(prompt) -> str:
    """The user's text of a prompt given as a string or a list of messages."""
    if isinstance(prompt, str):
        return prompt
    return next((m["content"] for m in reversed(prompt) if m.get("role") == "user"), str(prompt))


def folder_mb(path: Path | str, pattern: str = "*") -> float:
    """Size in MB (10^6 bytes) of the files directly in a folder that match `pattern` (not subfolders)."""
    path = _folder(path, "saved model or run")
    if not path.is_dir():
        raise FileNotFoundError(f"no folder {path}")
    return sum(p.stat().st_size for p in path.glob(pattern) if p.is_file()) / 1e6


def training_table(trainers: dict) -> HtmlView:
    """Runs side by side: weights in memory, seconds per step, and the loss at the steps all runs logged.

    {"LoRA fp32": trainer, "QLoRA 4-bit": qlora_trainer} -> table.
    """
    from .quantization import footprint

    if not isinstance(trainers, dict) or not trainers:
        raise TypeError("pass a dict of run name -> finished trainer")
    for name, t in trainers.items():  # the trainer itself: its model and its log are both needed
        if not hasattr(getattr(t, "state", None), "log_history") or not hasattr(t, "model"):
            raise TypeError(f"run {name!r}: pass the finished trainer itself, e.g. {{'LoRA': trainer}} (its model "
                            f"and trainer.state.log_history are both read), not a {type(t).__name__}")
    logs = {name: dict(losses(t.state.log_history)) for name, t in trainers.items()}
    shared = sorted(set.intersection(*(set(v) for v in logs.values())))
    if not shared:
        raise ValueError("the runs logged no loss at a common step; use the same logging_steps")
    steps = [shared[0], shared[-1]] if len(shared) > 1 else shared
    rows = [(name, footprint(t.model).total / 1e6, seconds_per_step(t.state.log_history),
             [logs[name][s] for s in steps]) for name, t in trainers.items()]
    key = [(n, round(mb, 1), [round(v, 3) for v in vals]) for n, mb, _, vals in rows]
    html_text = render_table(
        ["run", "model in memory", "seconds per step", *(f"loss at step {s}" for s in steps)],
        [[n, f"{mb:,.1f} MB", f"{sps:.2f} s", *(f"{v:.3f}" for v in vals)] for n, mb, sps, vals in rows],
        element_id=content_id("runs", key))
    plain = "\n".join(f"{n}: {mb:,.1f} MB, {sps:.2f} s/step, loss " + " -> ".join(f"{v:.3f}" for v in vals)
                      for n, mb, sps, vals in rows)
    return HtmlView(html_text, plain)
