"""Inside one decoder block（解码器块）: pictures for the block that chapter 3b computes by hand.

    H.block_diagram(model, tokens=5)          # every step of one block, with its tensor shape
    H.plot_rope(inv_freq)                     # RoPE's rotation speed per dimension pair, and the angles
    H.largest_tensor_bytes(lambda: f(q, k))   # the largest tensor any torch operation made inside f
    H.plot_attention_cost(...)                # attention memory and time per token as the context grows

The arithmetic (RMSNorm, RoPE, attention, SwiGLU) is written out in the notebook, where a learner
can copy it; these helpers only draw and measure.
"""

from __future__ import annotations

import math
import numbers

from .checks import int_in, short_repr
from .render import HtmlView, content_id, esc

ATTENTION_COLOUR, MLP_COLOUR, RESIDUAL_COLOUR = "#dbe7f7", "#fbe0c8", "#e2f0cb"


def _layout(model) -> dict:
    """The numbers that set a decoder block's shapes, read from a loaded causal LM (Llama, Qwen2 and the like)."""
    config = getattr(model, "config", None)
    layers = getattr(getattr(model, "model", None), "layers", None)
    needed = ("hidden_size", "num_attention_heads", "num_key_value_heads", "intermediate_size")
    if config is None or layers is None or not all(hasattr(config, n) for n in needed):
        hint = (": that is a tokenizer; pass the model" if hasattr(model, "convert_ids_to_tokens") else
                f": {model!r} is a name; load it with AutoModelForCausalLM.from_pretrained(H.model_path({model!r}))"
                if isinstance(model, str) else "")
        raise TypeError("expected a decoder-only model loaded with AutoModelForCausalLM (its blocks in "
                        f"model.model.layers), got {type(model).__name__}{hint}")
    heads, kv = config.num_attention_heads, config.num_key_value_heads
    attn = layers[0].self_attn
    return {"d": config.hidden_size, "heads": heads, "kv": kv, "ffn": config.intermediate_size,
            "head_dim": getattr(config, "head_dim", None) or config.hidden_size // heads,
            "bias": getattr(attn.q_proj, "bias", None) is not None, "blocks": len(layers)}


def _steps(s: dict, t: int) -> list[tuple[str, str, str, str]]:
    """(part, operation, output shape, what it does) for each step of one block on t tokens."""
    d, h, kv, hd, f = s["d"], s["heads"], s["kv"], s["head_dim"], s["ffn"]
    bias = " + bias" if s["bias"] else ""
    return [
        ("residual", "x: the residual stream（残差流） entering the block", f"(1, {t}, {d})", "one vector per token"),
        ("attention", "input_layernorm: RMSNorm（均方根归一化）", f"(1, {t}, {d})", "x / rms(x) * weight"),
        ("attention", f"q_proj{bias}, split into {h} query heads", f"(1, {h}, {t}, {hd})", f"{d} -> {h} x {hd}"),
        ("attention", f"k_proj, v_proj{bias}, split into {kv} KV heads", f"(1, {kv}, {t}, {hd})",
         f"{d} -> {kv} x {hd} each"),
        ("attention", "RoPE（旋转位置编码） on q and k", f"(1, {h}, {t}, {hd}) and (1, {kv}, {t}, {hd})",
         "rotate pairs by position"),
        ("attention", f"repeat_kv: each KV head serves {h // kv} query heads", f"(1, {h}, {t}, {hd})",
         "grouped-query attention（分组查询注意力）"),
        ("attention", f"scores q k^T / sqrt({hd}) + causal mask（因果掩码）", f"(1, {h}, {t}, {t})",
         "-inf above the diagonal"),
        ("attention", "softmax over the keys", f"(1, {h}, {t}, {t})", "each row sums to 1"),
        ("attention", "weights @ v, heads joined", f"(1, {t}, {h * hd})", "a weighted sum of values"),
        ("attention", "o_proj", f"(1, {t}, {d})", f"{h * hd} -> {d}"),
        ("residual", "x = x + attention output", f"(1, {t}, {d})", "first residual add"),
        ("mlp", "post_attention_layernorm: RMSNorm", f"(1, {t}, {d})", "x / rms(x) * weight"),
        ("mlp", "gate_proj and up_proj", f"(1, {t}, {f})", f"{d} -> {f} each"),
        ("mlp", "silu(gate) * up: SwiGLU", f"(1, {t}, {f})", "a gated activation"),
        ("mlp", "down_proj", f"(1, {t}, {d})", f"{f} -> {d}"),
        ("residual", "x = x + MLP output: the block's output", f"(1, {t}, {d})", "second residual add"),
    ]


def block_diagram(model, tokens: int = 5) -> HtmlView:
    """Every step of one decoder block, top to bottom, with the shape of its output for `tokens` tokens."""
    if not int_in(tokens, 1, 1_000_000):
        raise ValueError(f"tokens must be an int from 1 to 1,000,000 (the prompt's length, e.g. "
                         f"input_ids.shape[1]), got {short_repr(tokens)}")
    layout = _layout(model)
    steps = _steps(layout, int(tokens))
    colour = {"attention": ATTENTION_COLOUR, "mlp": MLP_COLOUR, "residual": RESIDUAL_COLOUR}
    rows = "".join(
        f"<tr style='background:{colour[part]}'><td style='padding:2px 8px;opacity:0.7'>{esc(part)}</td>"
        f"<td style='padding:2px 8px'>{esc(op)}</td><td style='padding:2px 8px;font-family:monospace;"
        f"white-space:pre'>{esc(shape)}</td><td style='padding:2px 8px;opacity:0.8'>{esc(note)}</td></tr>"
        for part, op, shape, note in steps)
    title = (f"One decoder block of {layout['blocks']}, on {tokens} token{'s' if tokens != 1 else ''}: "
             f"hidden size {layout['d']}, {layout['heads']} query heads and {layout['kv']} KV heads of "
             f"{layout['head_dim']}, MLP size {layout['ffn']}")
    html_text = (f"<div id='{content_id('block', title)}'><div style='font-weight:600'>{esc(title)}</div>"
                 f"<table style='border-collapse:collapse;margin-top:4px'><tr><th>part</th><th>step</th>"
                 f"<th>output shape</th><th></th></tr>{rows}</table></div>")
    width = max(len(op) for _, op, _, _ in steps)
    text = title + "\n" + "\n".join(f"  {op:<{width}}  {shape}" for _, op, shape, _ in steps)
    return HtmlView(html_text, text)


def _floats(name: str, values, *, positive: bool = True) -> list[float]:
    """A 1-D sequence of finite numbers (a tensor, an array, a list) as Python floats."""
    if hasattr(values, "detach"):
        values = values.detach().float().cpu()
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
        raise TypeError(f"{name} must be a non-empty 1-D list or tensor of numbers, got {short_repr(values)}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must hold numbers only (a 1-D list or tensor), found {short_repr(v)}")
        if not math.isfinite(v) or (positive and v <= 0):
            raise ValueError(f"{name} must hold {'positive ' if positive else ''}finite numbers, found {v!r}")
        out.append(float(v))
    return out


def plot_rope(inv_freq, positions: int = 64, *, title: str | None = None):
    """RoPE's rotation per dimension pair: radians per token (left) and cos(angle) by position (right).

    inv_freq: the notebook's 1 / theta ** (2i / head_dim), one rotation speed per pair of dimensions.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .fonts import use_cjk_font
    from .render import mpl_text

    speeds = _floats("inv_freq", inv_freq)
    if not int_in(positions, 2, 100_000):
        raise ValueError(f"positions must be an int from 2 to 100,000 (how many token positions to draw), "
                         f"got {short_repr(positions)}")
    use_cjk_font()
    angles = np.arange(positions)[:, None] * np.array(speeds)[None, :]  # (position, pair)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1, 1.3]})
    left.semilogy(range(len(speeds)), speeds, marker="o", markersize=3)
    left.set_xlabel("dimension pair i")
    left.set_ylabel("radians per token (log scale)")
    left.set_title("how fast each pair rotates", fontsize=10)
    left.grid(alpha=0.3)
    image = right.imshow(np.cos(angles).T, aspect="auto", cmap="RdBu", vmin=-1, vmax=1, origin="lower")
    right.set_xlabel("token position")
    right.set_ylabel("dimension pair i")
    right.set_title("cos(position x speed): fast pairs cycle, slow ones barely turn", fontsize=10)
    fig.colorbar(image, ax=right, label="cos(angle)")
    fig.suptitle(mpl_text(title or f"RoPE: {len(speeds)} dimension pairs"), fontsize=11)
    fig.tight_layout()
    plt.close(fig)
    return fig


def largest_tensor_bytes(fn) -> int:
    """Run fn() and return the size in bytes of the largest tensor any torch operation produced inside it.

    Example: largest_tensor_bytes(lambda: q @ k.transpose(-1, -2)) is the bytes of the score matrix.
    A fused kernel (scaled_dot_product_attention) shows only what it returns, not its small internal tiles.
    """
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    if not callable(fn):
        raise TypeError(f"pass a function to run, e.g. lambda: attention(q, k, v); got {short_repr(fn)}")

    class Largest(TorchDispatchMode):
        largest = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor):
                    self.largest = max(self.largest, t.numel() * t.element_size())
            return out

    with torch.no_grad(), Largest() as mode:
        fn()
    return mode.largest


def plot_attention_cost(lengths, eager_bytes, sdpa_bytes, contexts, seconds_with_cache, seconds_without_cache):
    """Left: the largest attention tensor by sequence length, eager vs SDPA. Right: seconds per new token."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    from .fonts import use_cjk_font

    lengths, eager, sdpa = (_floats(n, v) for n, v in
                            (("lengths", lengths), ("eager_bytes", eager_bytes), ("sdpa_bytes", sdpa_bytes)))
    contexts, cached, uncached = (_floats(n, v) for n, v in (("contexts", contexts), ("seconds_with_cache",
                                  seconds_with_cache), ("seconds_without_cache", seconds_without_cache)))
    for name, values, ref, ref_name in (("eager_bytes", eager, lengths, "lengths"), ("sdpa_bytes", sdpa, lengths,
                                        "lengths"), ("seconds_with_cache", cached, contexts, "contexts"),
                                        ("seconds_without_cache", uncached, contexts, "contexts")):
        if len(values) != len(ref):
            raise ValueError(f"{name} has {len(values)} numbers but {ref_name} has {len(ref)}: give one per length")
    use_cjk_font()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.loglog(lengths, [b / 1e6 for b in eager], marker="o", label="eager: the (heads, T, T) weights")
    left.loglog(lengths, [b / 1e6 for b in sdpa], marker="s", label="SDPA: only its (heads, T, head size) output")
    left.xaxis.set_minor_formatter(NullFormatter())  # label only the measured lengths
    left.set_xticks(lengths, [f"{int(n):,}" for n in lengths])
    left.set_xlabel("sequence length T (tokens)")
    left.set_ylabel("largest tensor (MB)")
    left.set_title("attention memory in one layer", fontsize=10)
    left.legend(fontsize=8)
    left.grid(alpha=0.3, which="both")
    right.plot(contexts, [s * 1000 for s in uncached], marker="o", label="without the cache: the whole context again")
    right.plot(contexts, [s * 1000 for s in cached], marker="s", label="with the KV cache: the new token only")
    right.set_xlabel("tokens already in the context")
    right.set_ylabel("milliseconds per new token")
    right.set_title("time for one more token (measured)", fontsize=10)
    right.set_ylim(bottom=0)
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _qkv(records, layer):
    """One layer's (q, k, v) from the notebook's records: q (1, heads, T, d) after RoPE, k and v (1, kv, T, d)."""
    import torch

    if isinstance(records, (str, bytes, dict)) or not hasattr(records, "__len__") or len(records) == 0:
        raise TypeError("records must be the list the hand-written forward pass fills: one (q, k, v) per layer, "
                        f"q of shape (1, heads, tokens, head size) after RoPE; got {short_repr(records)}")
    if not int_in(layer, 0, len(records) - 1):
        raise ValueError(f"layer must be an int in 0..{len(records) - 1} (one per block), got {short_repr(layer)}")
    entry = records[layer]
    if not (isinstance(entry, (tuple, list)) and len(entry) == 3 and all(isinstance(t, torch.Tensor) for t in entry)):
        raise TypeError(f"records[{layer}] must be a (q, k, v) tuple of tensors, got {short_repr(entry)}")
    q, k, v = (t.detach().float().cpu() for t in entry)
    if q.dim() != 4 or k.dim() != 4 or v.shape != k.shape or q.shape[0] != 1 or q.shape[2:] != k.shape[2:] \
            or q.shape[1] % k.shape[1]:
        raise ValueError(f"records[{layer}]: q must be (1, heads, T, d) and k, v (1, kv heads, T, d) with kv heads "
                         f"dividing heads; got q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}")
    return q, k, v


def attention_row(records, layer: int, head: int, query: int) -> dict:
    """One query token's attention in one head, step by step: dot products, scaled, masked, softmax, output.

    records[layer] = (q, k, v) as the notebook's hand-written block made them (q and k after RoPE).
    Returns numpy arrays: "dots" (q·k per key), "scaled" (÷ sqrt(head size)), "masked" (-inf after the
    query), "weights" (softmax), "output" (the weighted sum of values), and "kv_head".
    """
    import torch

    q, k, v = _qkv(records, layer)
    heads, tokens, size = q.shape[1], q.shape[2], q.shape[3]
    for name, value, top in (("head", head, heads), ("query", query, tokens)):
        if not int_in(value, 0, top - 1):
            raise ValueError(f"{name} must be an int in 0..{top - 1}, got {short_repr(value)}")
    kv_head = head // (heads // k.shape[1])  # query heads 0..g-1 share KV head 0, and so on (repeat_kv)
    dots = k[0, kv_head] @ q[0, head, query]  # (T,)
    scaled = dots / math.sqrt(size)
    masked = scaled.masked_fill(torch.arange(tokens) > query, float("-inf"))
    weights = torch.softmax(masked, dim=-1)
    return {"dots": dots.numpy(), "scaled": scaled.numpy(), "masked": masked.numpy(), "weights": weights.numpy(),
            "output": (weights @ v[0, kv_head]).numpy(), "kv_head": kv_head}


def attention_row_html(records, tokens, layer: int, head: int, query: int) -> str:
    """The table the attention explorer shows: one row per key token, the query's output vector below."""
    from .render import FONT

    row = attention_row(records, layer, head, query)
    labels = list(tokens) if not isinstance(tokens, str) and hasattr(tokens, "__len__") else None
    if labels is None or len(labels) != len(row["dots"]):
        raise ValueError(f"tokens must hold one label per position ({len(row['dots'])}): "
                         "tokens = H.token_labels(tokenizer, input_ids[0])")
    cells = []
    for j, label in enumerate(labels):
        w = float(row["weights"][j])
        masked = j > query
        mask = "-inf (future)" if masked else "0"
        bar = f"<div style='background:#4e79a7;height:10px;width:{w * 160:.1f}px;display:inline-block'></div>"
        style = "opacity:0.45;" if masked else ("font-weight:700;" if w == float(row["weights"].max()) else "")
        cells.append(f"<tr style='{style}'><td style='padding:1px 6px;{FONT}white-space:pre'>{j}: {esc(label)}</td>"
                     f"<td style='padding:1px 6px;text-align:right'>{row['dots'][j]:.2f}</td>"
                     f"<td style='padding:1px 6px;text-align:right'>{row['scaled'][j]:.2f}</td>"
                     f"<td style='padding:1px 6px;text-align:right'>{mask}</td>"
                     f"<td style='padding:1px 6px'>{bar} {w:.3f}</td></tr>")
    out = row["output"]
    size = len(out)
    shown = ", ".join(f"{x:.3f}" for x in out[:8])
    head_line = (f"layer {layer}, head {head} (KV head {row['kv_head']}), query {query}: "
                 f"{esc(labels[query])}")
    return (f"<div><div style='font-weight:600'>{head_line}</div><table style='border-collapse:collapse'>"
            f"<tr><th style='text-align:left'>key token</th><th>q·k</th><th>÷ √{size}</th><th>mask</th>"
            f"<th style='text-align:left'>softmax weight</th></tr>{''.join(cells)}</table>"
            f"<div style='margin-top:4px'>output = Σ weight × v: {size} numbers, the first 8: "
            f"<code>[{shown}, …]</code>, length {float((out ** 2).sum()) ** 0.5:.3f}</div></div>")
