"""LoRA（低秩适配） by the numbers: how many parameters an adapter of rank r trains.

A frozen weight W of shape (d_out, d_in) gets a trainable update B·A with A (r x d_in) and
B (d_out x r): r·(d_in + d_out) new parameters per adapted matrix, instead of d_out·d_in.

    H.lora_parameter_table(model, ranks=[1, 2, 4, 8, 16, 64], target_modules=["q_proj", "v_proj"])
"""

from __future__ import annotations

import difflib

from .checks import int_in
from .render import HtmlView, content_id
from .render import table as render_table


def lora_targets(model, target_modules) -> list[tuple[str, int, int]]:
    """(name, d_in, d_out) of every nn.Linear whose name ends with one of `target_modules`.

    Every requested name must match a layer: a misspelt one ('v_prj') is an error, not a smaller count.
    """
    names = _module_names(target_modules)
    layers = _linear_layers(_check_model(model))
    have = sorted({n.split(".")[-1] for n, _, _ in layers})
    missing = [n for n in names if n not in have]
    if missing:
        close = difflib.get_close_matches(missing[0].strip(), have, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"this model has no linear layer named {missing}{hint}; its linear layers are: "
                         f"{', '.join(have)}")
    return [(name, d_in, d_out) for name, d_in, d_out in layers if name.split(".")[-1] in set(names)]


def _module_names(target_modules) -> list[str]:
    """target_modules as a list of str; a TypeError for one str (it would be read letter by letter) or a number."""
    if isinstance(target_modules, str):
        raise TypeError(f"target_modules must be a list of module names such as ['q_proj', 'v_proj'], got the str "
                        f"{target_modules!r}: write [{target_modules!r}]")
    if isinstance(target_modules, dict) or not hasattr(target_modules, "__iter__"):
        raise TypeError("target_modules must be a list of module names such as ['q_proj', 'v_proj'], got "
                        f"{type(target_modules).__name__}")
    names = list(target_modules)
    if not names:
        raise ValueError("target_modules must be a non-empty list of module names, e.g. ['q_proj', 'v_proj']")
    odd = [n for n in names if not isinstance(n, str)]
    if odd:
        raise TypeError(f"target_modules must hold module names (str) such as 'q_proj', got {odd[0]!r}")
    return names


def _check_model(model):
    """The model, or a TypeError with the fix for a name, None or another object (before any layer is read)."""
    if isinstance(model, str):
        raise TypeError(f"expected a model as the first argument, got the name {model!r}: load it first with "
                        f"AutoModelForCausalLM.from_pretrained(H.model_path({model!r}))")
    if not callable(getattr(model, "named_modules", None)) or not callable(getattr(model, "parameters", None)):
        raise TypeError("expected a model as the first argument (e.g. AutoModelForCausalLM.from_pretrained(...)), "
                        f"got a {type(model).__name__}")
    return model


def lora_parameter_count(model, r: int, target_modules) -> int:
    """Trainable parameters of a LoRA adapter of rank r: the sum of r·(d_in + d_out)."""
    if not int_in(r, 1):
        raise ValueError(f"rank r must be a positive int, got {r!r}")
    return sum(r * (d_in + d_out) for _, d_in, d_out in lora_targets(model, target_modules))


def lora_parameter_table(model, ranks=(1, 2, 4, 8, 16, 64), target_modules=("q_proj", "k_proj", "v_proj", "o_proj")):
    """Rank -> trainable parameters, and their share of the model, for the given target modules."""
    target_modules = _module_names(target_modules)
    targets = lora_targets(model, target_modules)
    if isinstance(ranks, (str, dict)) or not hasattr(ranks, "__iter__"):
        raise TypeError(f"ranks must be a list of ints such as [1, 2, 4, 8], got {type(ranks).__name__} {ranks!r}"
                        + (f": write [{ranks!r}]" if int_in(ranks, 1) else ""))
    ranks = list(ranks)
    if not ranks:
        raise ValueError("ranks is empty: give at least one rank, e.g. ranks=[1, 2, 4, 8]")
    total = sum(p.numel() for p in model.parameters())
    rows = [(r, lora_parameter_count(model, r, target_modules)) for r in ranks]
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
    _check_model(model)
    if isinstance(config, dict):
        raise TypeError("config must be a peft.LoraConfig, got a dict: write LoraConfig(**config) "
                        "(e.g. LoraConfig(r=8, target_modules=['q_proj', 'v_proj'], task_type='CAUSAL_LM'))")
    if not hasattr(config, "r") or not hasattr(config, "target_modules"):
        raise TypeError("config must be a peft.LoraConfig, e.g. LoraConfig(r=8, target_modules=['q_proj', "
                        f"'v_proj'], task_type='CAUSAL_LM'); got {type(config).__name__}")
    r = config.r
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
        found = lora_targets(model, names)  # every name must match a linear layer
    except ValueError as err:
        raise LoraConfigError(str(err)) from None
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
