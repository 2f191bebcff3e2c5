"""LoRA（低秩适配） by the numbers: how many parameters an adapter of rank r trains.

A frozen weight W of shape (d_out, d_in) gets a trainable update B·A with A (r x d_in) and
B (d_out x r): r·(d_in + d_out) new parameters per adapted matrix, instead of d_out·d_in.

    H.lora_parameter_table(model, ranks=[1, 2, 4, 8, 16, 64], target_modules=["q_proj", "v_proj"])
"""

from __future__ import annotations

from .checks import int_in
from .render import HtmlView, content_id, esc


def lora_targets(model, target_modules) -> list[tuple[str, int, int]]:
    """(name, d_in, d_out) of every nn.Linear whose name ends with one of `target_modules`."""
    import torch

    if isinstance(target_modules, str) or not target_modules:
        raise ValueError("target_modules must be a non-empty list of module names, e.g. ['q_proj', 'v_proj']")
    found = [(name, m.in_features, m.out_features) for name, m in model.named_modules()
             if isinstance(m, torch.nn.Linear) and name.split(".")[-1] in set(target_modules)]
    if not found:
        linear = sorted({n.split(".")[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)})
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
    td = "padding:2px 10px;border-top:1px solid #dddddd;text-align:right;"
    body = "".join(f"<tr><td style='{td}'>{r}</td><td style='{td}'>{n:,}</td><td style='{td}'>{n / total:.2%}</td></tr>"
                   for r, n in rows)
    caption = (f"LoRA on {len(targets)} matrices ({', '.join(esc(t) for t in target_modules)}) of a "
               f"{total:,}-parameter model")
    html_text = (f"<div id='{content_id('lora', rows, list(target_modules))}'><div style='font-weight:600;'>"
                 f"{caption}</div><table style='border-collapse:collapse;'><tr><th>rank r</th>"
                 f"<th>trainable parameters</th><th>share of the model</th></tr>{body}</table></div>")
    plain = "\n".join(f"r={r}: {n:,} ({n / total:.2%})" for r, n in rows)
    return HtmlView(html_text, plain)
