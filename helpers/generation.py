"""Generation, one token at a time（逐词元生成）: next-token probabilities, the loop, and sampling.

    logits = model(input_ids).logits                  # (batch, seq, vocab)
    H.show_next_token_probs(logits, tokenizer, k=10)  # the top 10 candidates for the next token
    steps = H.generate_step_by_step(model, tokenizer, prompt, max_new_tokens=20)
    probs = H.sampling_distribution(logits, temperature=0.7, top_k=50, top_p=0.9)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from .checks import int_in
from .render import HtmlView, bars_html, content_id, esc, mpl_text
from .tokens import Piece, check_text, check_tokenizer, token_pieces


def _last_logits(logits):
    """Accept (vocab,), (seq, vocab) or (1, seq, vocab) logits; return the last position's (vocab,)."""
    import torch

    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits must be a torch tensor (model(...).logits), got {type(logits).__name__}")
    if logits.dim() == 3:
        if logits.shape[0] != 1:
            raise ValueError(f"logits hold a batch of {logits.shape[0]}; pass one row, e.g. logits[0]")
        logits = logits[0]
    if logits.dim() == 2:
        if logits.shape[0] == 0:
            raise ValueError(f"the logits have no positions (shape {tuple(logits.shape)}): run the model on at "
                             "least one token, e.g. model(tokenizer(text, return_tensors='pt').input_ids).logits")
        logits = logits[-1]
    if logits.dim() != 1 or logits.numel() < 2:
        raise ValueError("expected logits of shape (vocab,), (seq, vocab) or (1, seq, vocab), "
                         f"got {tuple(logits.shape)}")
    last = logits.detach().float().cpu()
    nan = last.isnan().nonzero()
    if len(nan):
        raise ValueError(f"the logits contain NaN ({len(nan):,} of them, the first at token id {int(nan[0])}), so "
                         "they give no probabilities. The model's computation broke: load it in float32 "
                         "(dtype=torch.float32), or check any weights you changed")
    if last.isneginf().all():
        raise ValueError("every logit is -inf, so every token has probability 0 and none can be chosen; "
                         "leave at least one token unmasked")
    return last


def _softmax(last, temperature: float = 1.0):
    """softmax(last / temperature); a +inf logit takes all the probability (shared if several are +inf)."""
    import torch

    top = last.isposinf()
    if top.any():  # softmax itself would give NaN everywhere
        return top.float() / top.sum()
    return torch.softmax(last / temperature, dim=-1)


def _real(value, name: str, example: str) -> float:
    """A number (numpy's too) as a float; a TypeError naming the type for a str, a tensor or a bool."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fix = ": take the number out with float(value)" if hasattr(value, "item") or isinstance(value, str) else ""
        raise TypeError(f"{name} must be a number such as {example}, got {type(value).__name__} {value!r}{fix}")
    return float(value)


def check_model(model, *, generates: bool = False, where: str = "as the first argument"):
    """The model itself, or a TypeError with the fix for a name, None or another object.

    generates=True also refuses encoders (AutoModel, BERT), which have no next-token logits.
    """
    if isinstance(model, str):
        raise TypeError(f"expected a model {where}, got the name {model!r}: load it first with "
                        f"AutoModelForCausalLM.from_pretrained(H.model_path({model!r}))")
    if not callable(getattr(model, "get_input_embeddings", None)):
        raise TypeError(f"expected a model {where} (e.g. AutoModelForCausalLM.from_pretrained(...)), "
                        f"got a {type(model).__name__}")
    can_generate = getattr(model, "can_generate", None)
    if generates and (not callable(can_generate) or not can_generate()):
        raise TypeError(f"{type(model).__name__} does not predict next tokens (it is an encoder, loaded with "
                        "AutoModel): load a causal LM with AutoModelForCausalLM.from_pretrained(...)")
    return model


def check_logits_tokenizer(last, tokenizer) -> None:
    """Refuse a tokenizer that cannot be the one of the model that made these (vocab,) logits.

    A model's logits may be wider than its tokenizer (Qwen2.5 pads its 151,669 tokens to 151,936
    rows), never narrower: then the tokenizer has ids the model cannot score. The same rule as
    check_pair: at most PADDING_SLACK unused rows.
    """
    from .models import PADDING_SLACK, TokenizerMismatchError

    width, n = last.numel(), len(tokenizer)
    if n > width or width - n > PADDING_SLACK:
        raise TokenizerMismatchError(
            f"these logits score {width:,} tokens but the tokenizer has {n:,}: they come from different models. "
            "Label logits with the tokenizer of the model that made them (loaded from the same H.model_path)")


def _as_int(value):
    """numpy ints (np.int64(5)) as Python ints; anything else as it is, for int_in to judge (bool stays bool)."""
    return int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value


def _check_k(k, vocab: int) -> int:
    k = _as_int(k)
    if not isinstance(k, numbers.Real):
        raise TypeError(f"k must be an int such as 10, got {type(k).__name__} {k!r}")
    if not int_in(k, 1, vocab):
        raise ValueError(f"k must be an int between 1 and the vocabulary size {vocab:,}, got {k!r}")
    return k


@dataclass(frozen=True)
class Candidate:
    piece: Piece
    logit: float
    prob: float


def top_candidates(logits, tokenizer, k: int = 10) -> list[Candidate]:
    """The k most likely next tokens: piece, logit, softmax probability.

    The tokenizer must be the logits' own: len(tokenizer) <= logits width <= len(tokenizer) + 1,024
    (see check_logits_tokenizer); a +inf logit has probability 1.
    """
    last = _last_logits(logits)
    tokenizer = check_tokenizer(tokenizer, "as the second argument")
    check_logits_tokenizer(last, tokenizer)
    k = _check_k(k, last.numel())
    probs = _softmax(last)
    top = probs.topk(k)
    pieces = token_pieces(tokenizer, top.indices.tolist())
    return [Candidate(p, round(float(last[p.id]), 3), float(pr))
            for p, pr in zip(pieces, top.values.tolist(), strict=True)]


def show_next_token_probs(logits, tokenizer, k: int = 10, *, title: str | None = None) -> HtmlView:
    """Table of the top-k next tokens with id, logit and a probability bar."""
    cands = top_candidates(logits, tokenizer, k)
    rows = [(esc(c.piece.text), f"{c.piece.id} · {c.logit:.2f}", c.prob) for c in cands]
    heading = title or f"Next-token probabilities, top {k}（下一个词元的概率）"
    plain = ", ".join(f"{c.piece.text} {c.prob:.1%}" for c in cands)
    html_text = (f"<div id='{content_id('next', plain)}'>"
                 f"<div style='font-weight:600;'>{esc(heading)}</div>{bars_html(rows, highlight=0)}</div>")
    return HtmlView(html_text, plain)


# ---------------------------------------------------------------------------- the loop


@dataclass(frozen=True)
class Step:
    """One forward pass: the token chosen and the alternatives the model offered."""

    chosen: Piece
    prob: float
    alternatives: list[Candidate]


class StepByStep:
    """The result of generate_step_by_step: the steps, the new ids, and a table view."""

    def __init__(self, prompt: str, prompt_ids: list[int], steps: list[Step], tokenizer, note: str = ""):
        self.prompt, self.prompt_ids, self.steps = prompt, prompt_ids, steps
        self._tokenizer = tokenizer
        self.note = note  # why it stopped early, e.g. at the end of the context; "" otherwise

    @property
    def new_ids(self) -> list[int]:
        return [s.chosen.id for s in self.steps]

    @property
    def text(self) -> str:
        return self._tokenizer.decode(self.new_ids, skip_special_tokens=True)

    def _repr_html_(self) -> str:
        td = "padding:2px 8px;border-top:1px solid #dddddd;"
        rows = "".join(
            f"<tr><td style='{td}text-align:right'>{i + 1}</td>"
            f"<td style='{td}white-space:pre;font-weight:700'>{esc(s.chosen.text)}</td>"
            f"<td style='{td}text-align:right'>{s.prob:.1%}</td>"
            f"<td style='{td}white-space:pre;opacity:0.8'>"
            + esc("   ".join(f"{a.piece.text} {a.prob:.0%}" for a in s.alternatives[1:])) + "</td></tr>"
            for i, s in enumerate(self.steps))
        return (f"<div id='{content_id('steps', self.prompt_ids, self.new_ids)}'><div style='font-weight:600;'>"
                f"{len(self.steps)} forward passes, one new token each</div><table style='border-collapse:collapse;'>"
                f"<tr><th>step</th><th>chosen</th><th>p</th><th>runners-up</th></tr>{rows}</table>"
                + (f"<div style='font-style:italic;'>{esc(self.note)}</div>" if self.note else "") + "</div>")

    def __repr__(self) -> str:
        text = f"{len(self.steps)} steps: " + " ".join(f"{s.chosen.text}({s.prob:.0%})" for s in self.steps)
        return text + (f" ({self.note})" if self.note else "")


def encode_prompt(model, tokenizer, prompt: str):
    """input_ids (1, seq) for a prompt, with the errors a learner needs: empty, too long, not text."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
    if not prompt.strip():
        raise ValueError("the prompt is empty: type some text for the model to continue")
    check_text(prompt, "the prompt")
    from .models import check_pair

    check_model(model, generates=True)
    tokenizer = check_tokenizer(tokenizer, "as the second argument")
    check_pair(model, tokenizer)
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    check_context(model, ids.shape[1])
    return ids.to(model.device)


def context_size(model) -> int | None:
    """How many positions the model reads at most (config.max_position_embeddings), or None if it does not say."""
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    return limit if isinstance(limit, int) and limit > 0 else None


def check_context(model, n_tokens: int, what: str = "the prompt", *, room: int = 1) -> None:
    """Refuse `n_tokens` that leave fewer than `room` positions of the model's context (room=1: one new token)."""
    limit = context_size(model)
    if limit and n_tokens > limit - room:
        raise ValueError(f"{what} has {n_tokens:,} tokens but this model's context is {limit:,}: "
                         "shorten it (keep the last part, which the model reads most closely)")


MAX_NEW_TOKENS = 4096  # greedy_answer, compare_answers and generate_step_by_step stop a runaway request here


def check_messages(messages, what: str, *, needs_answer: bool = False) -> list:
    """A chat for a helper (not a file): a question (str) or a list of {'role', 'content'} messages, checked.

    The row rules are check_chat_rows'; the message names `what` instead of a row of a JSONL file.
    """
    import re

    from .finetune import ROLES, DatasetFormatError, check_chat_rows

    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    if not isinstance(messages, (list, tuple)):
        raise TypeError(f"{what} must be a question (str) or a list of chat messages such as "
                        f"[{{'role': 'user', 'content': 'Hi'}}], got {type(messages).__name__}")
    messages = list(messages)
    if messages and all(isinstance(m, str) for m in messages):
        raise TypeError(f"{what} is a list of str, but one chat is a list of messages such as "
                        "[{'role': 'user', 'content': 'Hi'}]: pass one question as a str, and for several "
                        "questions use H.greedy_answers (or H.compare_answers)")
    for m in messages:  # a lone surrogate gets check_text's fix (str.encode(..., 'replace'))
        if isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str):
            check_text(m["content"], f"the {m['role']} message")
    try:
        check_chat_rows([{"messages": messages}], what, needs_answer=needs_answer)
    except DatasetFormatError as err:  # say what is wrong with these messages, not with "line 1 of a JSONL file"
        m = re.fullmatch(r"row \d+ of (.*?) \(line \d+ of a JSONL file\): (.*?)\. Each row must look like .*",
                         str(err), flags=re.S)
        if m is None:
            raise
        raise DatasetFormatError(f"{m.group(1)}: {m.group(2)}. Each message must look like "
                                 "{'role': 'user', 'content': '...'}") from None
    return messages


def eos_ids(model) -> set[int]:
    """The token ids that end generation (generation_config.eos_token_id may be one id or a list)."""
    eos = model.generation_config.eos_token_id
    if eos is None:
        return set()
    return set(eos) if isinstance(eos, (list, tuple)) else {eos}


def generate_step_by_step(model, tokenizer, prompt: str, max_new_tokens: int = 20, *, k: int = 5,
                          use_cache: bool = True) -> StepByStep:
    """Greedy generation as a visible loop: one forward pass per new token, the argmax appended.

    With use_cache=True each pass after the first feeds only the newest token and reuses the keys
    and values of the earlier ones (the KV cache). Stops at the end-of-sequence token like
    model.generate, and produces exactly its ids for do_sample=False.
    """
    import torch

    max_new_tokens = _as_int(max_new_tokens)
    if not int_in(max_new_tokens, 1, MAX_NEW_TOKENS):
        raise ValueError(f"max_new_tokens must be a positive int, at most {MAX_NEW_TOKENS} (as in greedy_answer), "
                         f"got {max_new_tokens!r}")
    ids = encode_prompt(model, tokenizer, prompt)
    eos = eos_ids(model)
    limit = context_size(model)
    steps: list[Step] = []
    cache = None
    context = ids
    note = ""
    with torch.no_grad():
        for _ in range(max_new_tokens):
            if limit and ids.shape[1] + len(steps) >= limit:  # every position is taken: like generate's max_length
                note = f"stopped at the end of the model's context ({limit:,} tokens)"
                break
            if use_cache:
                out = model(context, cache=cache, use_cache=True)
                cache = out.cache
            else:
                out = model(context, use_cache=False)
            logits = out.logits[0, -1]  # (vocab,) scores for the next token
            cands = top_candidates(logits, tokenizer, k)
            chosen = cands[0]
            steps.append(Step(chosen.piece, chosen.prob, cands))
            new = torch.tensor([[chosen.piece.id]], device=ids.device)
            context = new if use_cache else torch.cat([context, new], dim=1)
            if chosen.piece.id in eos:
                break
    return StepByStep(prompt, ids[0].tolist(), steps, tokenizer, note=note)


# ---------------------------------------------------------------------------- sampling


def sampling_distribution(logits, temperature: float = 1.0, top_k: int | None = None,
                          top_p: float | None = None):
    """Next-token probabilities after temperature, then top-k, then top-p; shape (vocab,), sums to 1.

    temperature divides the logits (< 1 sharpens, > 1 flattens); top_k keeps the k most likely
    tokens; top_p keeps the smallest set of most likely tokens whose probabilities reach p.
    """
    import torch

    last = _last_logits(logits)
    vocab = last.numel()
    if not _real(temperature, "temperature", "0.7") > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}. Temperature 0 means greedy: "
                         "use do_sample=False (always the most likely token) instead")
    if top_p is not None and not 0 < _real(top_p, "top_p", "0.9") <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    probs = _softmax(last, float(temperature))
    if top_k is not None and top_k != 0:
        top_k = _check_k(top_k, vocab)
        keep = probs.topk(top_k).indices
        mask = torch.zeros_like(probs, dtype=torch.bool)
        mask[keep] = True
        probs = torch.where(mask, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    if top_p is not None and top_p < 1:  # top_p = 1 keeps everything (a float32 cumsum would not)
        sorted_probs, order = probs.sort(descending=True)
        before = sorted_probs.double().cumsum(0) - sorted_probs.double()  # mass ranked above each token
        keep_sorted = before < top_p  # keep until the kept mass reaches p (the top token always)
        mask = torch.zeros_like(probs, dtype=torch.bool)
        mask[order[keep_sorted]] = True
        probs = torch.where(mask, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    return probs


def plot_temperatures(logits, tokenizer, temperatures=(0.5, 1.0, 2.0), k: int = 12, *, title: str | None = None):
    """Bars of the top-k next-token probabilities at several temperatures (same tokens on the x axis)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from .fonts import use_cjk_font

    if isinstance(temperatures, (str, bytes)) or not hasattr(temperatures, "__iter__"):
        raise TypeError(f"temperatures must be a list of numbers such as (0.5, 1.0, 2.0), got "
                        f"{type(temperatures).__name__}")
    temperatures = list(temperatures)
    if not temperatures:
        raise ValueError("temperatures is empty: pass at least one, e.g. temperatures=(0.5, 1.0, 2.0)")
    last = _last_logits(logits)
    tokenizer = check_tokenizer(tokenizer, "as the second argument")
    check_logits_tokenizer(last, tokenizer)
    k = _check_k(k, last.numel())
    dists = [sampling_distribution(last, temperature=t) for t in temperatures]  # checks each temperature
    ids = last.topk(k).indices.tolist()
    labels = [mpl_text(p.text) for p in token_pieces(tokenizer, ids)]  # a "$" token is drawn as typed
    use_cjk_font()
    x = np.arange(k)
    width = 0.8 / len(temperatures)
    fig, ax = plt.subplots(figsize=(9, 3.4))
    for i, (t, probs) in enumerate(zip(temperatures, dists, strict=True)):
        ax.bar(x + (i - (len(temperatures) - 1) / 2) * width, probs[ids].numpy(), width, label=f"temperature {t:g}")
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=9)
    ax.set_ylabel("probability")
    ax.set_title(mpl_text(title) if title else "Temperature reshapes the next-token distribution（温度）")
    ax.legend()
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    plt.close(fig)
    return fig
