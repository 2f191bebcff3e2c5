"""LoRA（低秩适配） by the numbers: how many parameters an adapter of rank r trains.

A frozen weight W of shape (d_out, d_in) gets a trainable update B·A with A (r x d_in) and
B (d_out x r): r·(d_in + d_out) new parameters per adapted matrix, instead of d_out·d_in.

    H.lora_parameter_table(model, ranks=[1, 2, 4, 8, 16, 64], target_modules=["q_proj", "v_proj"])
"""

from __future__ import annotations

from .checks import int_in
from .render import HtmlView, content_id
from .render import table as render_table


def lora_targets(model, target_modules) -> list[tuple[str, int, int]]:
    """(name, d_in, d_out) of every nn.Linear whose name ends with one of `target_modules`."""

    if isinstance(target_modules, str) or not target_modules:
        raise ValueError("target_modules must be a non-empty list of module names, e.g. ['q_proj', 'v_proj']")
    found = [(name, d_in, d_out) for name, d_in, d_out in _linear_layers(model)
             if name.split(".")[-1] in set(target_modules)]
    if not found:
        linear = sorted({n.split(".")[-1] for n, _, _ in _linear_layers(model)})
        raise ValueError(f"no linear layer is named {list(target_modules)}; this model's linear layers are: "
                         f"{', '.join(linear)}")
    return found


def lora_parameter_count(model, r: int, target_modules) -> int:
    """Trainable parameters of a LoRA adapter of rank r: the sum of r·(d_in + d_out)."""
    if not int_in(r, 1):
        raise ValueError(f"rank r must be a positive int, got {r!r}")
    return sum(r * (d_in + d_out) for _, d_in, d_out in lora_targets(model, target_modules))


def lora_parameter_table(model, ranks=(1, 2, 4, 8, 16, 64), target_modules=("q_proj", "k_proj", "v_proj", "o_proj")):
    """Rank -> trainable parameters, and their share of the model, for the given target modules."""
    targets = lora_targets(model, list(target_modules))
    total = sum(p.numel() for p in model.parameters())
    rows = [(r, lora_parameter_count(model, r, list(target_modules))) for r in ranks]
    html_text = render_table(
        ["rank r", "trainable parameters", "share of the model"],
        [[r, f"{n:,}", f"{n / total:.2%}"] for r, n in rows], align="rrr",
        caption=f"LoRA on {len(targets)} matrices ({', '.join(target_modules)}) of a {total:,}-parameter model",
        element_id=content_id("lora", rows, list(target_modules)))
    plain = "\n".join(f"r={r}: {n:,} ({n / total:.2%})" for r, n in rows)
    return HtmlView(html_text, plain)


class LoraConfigError(ValueError):
    """A LoRA configuration that cannot work on this model."""


def check_lora_config(model, config) -> str:
    """Check a peft.LoraConfig against a model before training; return a one-line summary.

    Catches what PEFT accepts silently or reports late: a rank of 0 or below, and target module
    names the model does not have (the error lists the linear layers it has).
    """
    r = getattr(config, "r", None)
    if not int_in(r, 1):
        raise LoraConfigError(f"LoRA rank r must be a positive int (1, 2, 4, 8, 16, ...), got {r!r}: "
                              "r is the inner size of B·A, so r=0 would train nothing")
    targets = config.target_modules
    if targets in (None, "all-linear"):
        names = sorted({n.split(".")[-1] for n, _, _ in _linear_layers(model)} - {"lm_head"})  # PEFT's all-linear
    elif isinstance(targets, str):
        raise LoraConfigError(f"target_modules={targets!r} is a regular expression; pass a list of module names "
                              "like ['q_proj', 'v_proj'] so they can be checked")
    else:
        names = sorted(targets)
    try:
        found = lora_targets(model, names)
    except ValueError as err:
        raise LoraConfigError(str(err)) from None
    missing = sorted(set(names) - {n.split(".")[-1] for n, _, _ in found})
    if missing:
        have = sorted({n.split(".")[-1] for n, _, _ in _linear_layers(model)})
        raise LoraConfigError(f"this model has no linear layer named {missing}; its linear layers are: "
                              f"{', '.join(have)}")
    name, d_in, d_out = min(found, key=lambda t: min(t[1], t[2]))
    if r > min(d_in, d_out):  # B·A of a (d_out x d_in) matrix cannot have a rank above its smaller side
        raise LoraConfigError(f"LoRA rank r={r:,} is larger than {name.split('.')[-1]}'s smaller side "
                              f"({d_out} x {d_in}): its update B·A can have rank {min(d_in, d_out)} at most, and "
                              f"r={r:,} would only cost memory. Use r from 1 to {min(d_in, d_out)} (8 or 16 is usual)")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(r * (d_in + d_out) for _, d_in, d_out in found)
    return (f"LoRA r={r} on {len(found)} matrices ({', '.join(names)}): {trainable:,} trainable parameters, "
            f"{trainable / total:.2%} of {total:,}")


def _linear_layers(model) -> list[tuple[str, int, int]]:
    """(name, d_in, d_out) of every linear layer; in a PEFT-wrapped model, the frozen layer under its own name."""
    import torch

    layers = []
    for name, m in model.named_modules():
        parts = name.split(".")
        if not isinstance(m, torch.nn.Linear) or "lora_A" in parts or "lora_B" in parts:
            continue
        if parts[-1] == "base_layer":  # PEFT keeps the original layer as q_proj.base_layer
            name = ".".join(parts[:-1])
        layers.append((name, m.in_features, m.out_features))
    return layers
