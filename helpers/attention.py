"""Attention maps（注意力图）: who looks at whom, per layer and head.

    out = model(input_ids, output_attentions=True)   # model loaded with attn_implementation="eager"
    H.plot_attention(out.attentions, tokens, layer=3, head=0)
    H.plot_attention_heads(out.attentions, tokens, layer=3)
    H.top_heads(out.attentions, query=8, key=1)      # heads where position 8 attends most to 1
"""

from __future__ import annotations

import numbers

from .render import mpl_text
from .tokens import token_pieces

FIX = ("load the model with attn_implementation=\"eager\" and call it with output_attentions=True "
       "(the default SDPA attention computes the weights inside one fused kernel and returns none)")


def token_labels(tokenizer, ids) -> list[str]:
    """Readable labels for token ids (␣ for spaces, bytes for partial characters)."""
    return [p.text for p in token_pieces(tokenizer, ids)]


def _is_int_in(name: str, value, lo: int, hi: int | None = None) -> bool:
    """True for an int (numpy ints too, never a bool) with lo <= value <= hi; TypeError for a float, str, tensor."""
    if not isinstance(value, numbers.Integral):
        hint = ": pass int(x)" if hasattr(value, "item") else ""
        raise TypeError(f"{name} must be an int such as 3, got {type(value).__name__} {value!r}{hint}")
    return not isinstance(value, bool) and lo <= value and (hi is None or value <= hi)


def _tensors(attentions) -> tuple:
    """The per-layer attention weights as torch tensors (numpy float arrays are converted)."""
    import numpy as np
    import torch

    if attentions is None or (hasattr(attentions, "__len__") and len(attentions) == 0):
        raise ValueError(f"no attention weights were returned: {FIX}")
    if isinstance(attentions, (str, bytes, dict)) or not hasattr(attentions, "__len__"):
        raise TypeError(f"attentions must be the tuple model(..., output_attentions=True).attentions returns "
                        f"(one tensor per layer), got {type(attentions).__name__}")
    layers = []
    for a in attentions:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            a = torch.from_numpy(a)
        if not isinstance(a, torch.Tensor):
            raise TypeError(f"attentions must hold one tensor per layer (torch, or a numpy float array), as "
                            f"model(..., output_attentions=True).attentions returns; got a {type(a).__name__}")
        layers.append(a)
    return tuple(layers)


def _check(attentions, layer: int | None = None, head: int | None = None):
    attentions = _tensors(attentions)
    first = attentions[0]
    if first.dim() != 4:
        raise ValueError(f"each attention tensor should be (batch, heads, query, key), got {tuple(first.shape)}")
    for i, a in enumerate(attentions[1:], start=1):
        if a.shape != first.shape:
            raise ValueError(f"layer {i}'s attention has shape {tuple(a.shape)} but layer 0's has "
                             f"{tuple(first.shape)}: pass the attentions of one forward pass, "
                             "model(ids, output_attentions=True).attentions")
    if first.shape[0] != 1:
        raise ValueError(f"these attentions are for a batch of {first.shape[0]} texts; pass one example: run the "
                         "model on one text (input_ids of shape (1, seq)), or pick one with "
                         "tuple(a[i:i + 1] for a in attentions)")
    n_layers, n_heads = len(attentions), first.shape[1]
    if layer is not None and not _is_int_in("layer", layer, 0, n_layers - 1):
        raise ValueError(f"layer must be an int in 0..{n_layers - 1} (this model has {n_layers} layers), got {layer!r}")
    if head is not None and not _is_int_in("head", head, 0, n_heads - 1):
        raise ValueError(f"head must be an int in 0..{n_heads - 1} (this model has {n_heads} heads per layer), "
                         f"got {head!r}")
    return attentions, n_layers, n_heads


def _check_tokens(tokens, n: int) -> list[str]:
    if tokens is None or isinstance(tokens, (bytes, dict)) or not hasattr(tokens, "__len__"):
        raise TypeError(f"tokens must be a list of {n} labels, one per position: "
                        f"tokens = H.token_labels(tokenizer, ids[0]); got {type(tokens).__name__}")
    if isinstance(tokens, str) or len(tokens) != n:
        raise ValueError(f"need one token label per position: the attention is over {n} tokens, got "
                         f"{1 if isinstance(tokens, str) else len(tokens)} labels (use H.token_labels(tokenizer, ids))")
    return [str(t) for t in tokens]


def attention_matrix(attentions, layer: int, head: int):
    """(query, key) weights of one head as a numpy array; rows sum to 1, zero above the diagonal."""
    attentions, _, _ = _check(attentions, layer, head)
    return attentions[layer][0, head].detach().float().cpu().numpy()


SMALL_LABELS = 24  # up to this many tokens, the small heatmaps of a grid keep their token labels


def _draw(ax, weights, labels, title, small=False):
    """One heatmap on a fixed 0..1 scale (weights are probabilities), so colours compare across heads."""
    image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0)
    size = 5 if small else 8
    labels = [mpl_text(t) for t in labels]  # a token such as "$" is drawn as itself, not read as maths
    shown = labels if not small or len(labels) <= SMALL_LABELS else []
    ax.set_xticks(range(len(labels)), shown, rotation=90, fontsize=size)
    ax.set_yticks(range(len(labels)), shown, fontsize=size)
    ax.set_title(mpl_text(title), fontsize=size + 3 if small else size + 1)
    return image


def plot_attention(attentions, tokens, layer: int, head: int, *, title: str | None = None):
    """Heatmap of one head: row = the token that looks (query), column = the token looked at (key)."""
    import matplotlib.pyplot as plt

    from .fonts import use_cjk_font

    weights = attention_matrix(attentions, layer, head)
    labels = _check_tokens(tokens, weights.shape[0])
    use_cjk_font()
    side = 1.5 + 0.32 * len(labels)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = _draw(ax, weights, labels, title or f"layer {layer}, head {head}")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight", format="%.1f")
    ax.set_xlabel("attends to (key)")
    ax.set_ylabel("token (query)")
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_attention_heads(attentions, tokens, layer: int, *, cols: int = 5):
    """Every head of one layer as a small heatmap, in a grid."""
    import matplotlib.pyplot as plt

    attentions, _, n_heads = _check(attentions, layer)
    if not _is_int_in("cols", cols, 1, 64):
        raise ValueError(f"cols must be an int from 1 to 64 (heatmaps per row), e.g. cols=5; got {cols!r}")
    labels = _check_tokens(tokens, attentions[layer].shape[-1])
    rows = -(-n_heads // cols)
    side = 2.1 if len(labels) > SMALL_LABELS else 2.6  # room for the token labels
    fig, axes = plt.subplots(rows, cols, figsize=(side * cols + 0.8, side * rows), squeeze=False)
    image = None
    for h, ax in enumerate(axes.flat):
        if h < n_heads:
            image = _draw(ax, attention_matrix(attentions, layer, h), labels, f"head {h}", small=True)
        else:
            ax.axis("off")
    fig.suptitle(f"layer {layer}: all {n_heads} heads (rows look at columns)", fontsize=10)
    fig.tight_layout()
    # one 0..1 scale for all heads
    fig.colorbar(image, ax=axes, fraction=0.02, pad=0.02, label="attention weight", format="%.1f")
    plt.close(fig)
    return fig


def top_heads(attentions, query: int, key: int, n: int = 5) -> list[tuple[int, int, float]]:
    """The n (layer, head, weight) where position `query` puts the most attention on position `key`."""
    attentions, n_layers, n_heads = _check(attentions)
    seq = attentions[0].shape[-1]
    for name, pos in (("query", query), ("key", key)):
        if not _is_int_in(name, pos, 0, seq - 1):
            raise ValueError(f"{name} must be a position in 0..{seq - 1}, got {pos!r}")
    if not _is_int_in("n", n, 0):
        raise ValueError(f"n must be an int >= 0 (how many heads to list), got {n!r}")
    if key > query:
        raise ValueError(f"a causal model cannot look ahead: key {key} comes after query {query}")
    scores = [(layer, head, round(float(attentions[layer][0, head, query, key].detach()), 3))
              for layer in range(n_layers) for head in range(n_heads)]
    return sorted(scores, key=lambda s: -s[2])[:n]
