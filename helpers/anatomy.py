"""The parts of a model（模型结构）: a table of its modules, their shapes and parameter counts.

    H.describe_model(model)   # rows add up to sum(p.numel() for p in model.parameters())
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .render import HtmlView, content_id, esc


@dataclass(frozen=True)
class ParamGroup:
    """Parameters that share a name once layer numbers are replaced by '*'."""

    name: str  # e.g. "model.layers.*.self_attn.q_proj.weight"
    shape: tuple[int, ...]
    count: int  # how many tensors (one per layer)
    numel: int  # parameters per tensor

    @property
    def total(self) -> int:
        return self.count * self.numel


def _check_model(model, helper: str) -> None:
    """A torch model (anything with named_parameters), not a tokenizer, a name or None."""
    if callable(getattr(model, "named_parameters", None)):
        return
    hint = ""
    if hasattr(model, "convert_ids_to_tokens"):
        hint = ": that is a tokenizer, which has a vocabulary but no weights; pass the model itself"
    elif isinstance(model, str):
        hint = f": {model!r} is a name; load it with AutoModelForCausalLM.from_pretrained(H.model_path({model!r}))"
    raise TypeError(f"{helper} expects a loaded model such as AutoModelForCausalLM.from_pretrained(...), "
                    f"got {type(model).__name__}{hint}")


def parameter_groups(model) -> list[ParamGroup]:
    """Group model.named_parameters() (tied weights counted once) by name with layer index as '*'."""
    _check_model(model, "parameter_groups")
    groups: dict[str, list] = {}
    for name, p in model.named_parameters():
        key = re.sub(r"\.\d+\.", ".*.", name)
        groups.setdefault(key, []).append(p)
    return [ParamGroup(k, tuple(ps[0].shape), len(ps), ps[0].numel()) for k, ps in groups.items()]


def tied_weights(model) -> list[tuple[str, str]]:
    """(name, shares its tensor with) for weights that appear under two names, e.g. a tied LM head."""
    _check_model(model, "tied_weights")
    seen: dict[int, str] = {}
    tied = []
    for name, p in model.named_parameters(remove_duplicate=False):
        if id(p) in seen:
            tied.append((name, seen[id(p)]))
        else:
            seen[id(p)] = name
    return tied


def describe_model(model) -> HtmlView:
    """Table of parameter groups: name, shape, × layers, parameters; totals equal model.parameters()."""
    _check_model(model, "describe_model")
    groups = parameter_groups(model)
    total = sum(g.total for g in groups)
    td = "padding:2px 8px;border-top:1px solid #dddddd;"
    body = "".join(
        f"<tr><td style='{td}font-family:monospace'>{esc(g.name)}</td><td style='{td}'>{esc(tuple(g.shape))}</td>"
        f"<td style='{td}text-align:right'>{'× ' + str(g.count) if g.count > 1 else ''}</td>"
        f"<td style='{td}text-align:right'>{g.total:,}</td>"
        f"<td style='{td}text-align:right'>{g.total / total:.1%}</td></tr>" for g in groups)
    ties = tied_weights(model)
    tie_note = "".join(f"<div>{esc(a)} is the same tensor as {esc(b)} (tied): counted once.</div>"
                       for a, b in ties)
    html_text = (f"<div id='{content_id('anatomy', [(g.name, g.shape, g.count) for g in groups])}'>"
                 f"<table style='border-collapse:collapse;'><tr><th>parameter</th><th>shape</th><th>layers</th>"
                 f"<th>parameters</th><th>share</th></tr>{body}<tr><td style='{td}font-weight:700'>total</td>"
                 f"<td style='{td}'></td><td style='{td}'></td><td style='{td}text-align:right;font-weight:700'>"
                 f"{total:,}</td><td style='{td}text-align:right'>100%</td></tr></table>{tie_note}</div>")
    plain = "\n".join(f"{g.name:55s} {str(g.shape):16s} x{g.count:<3d} {g.total:>12,}" for g in groups)
    plain += f"\n{'total':55s} {'':16s} {'':4s} {total:>12,}"
    plain += "".join(f"\n{a} is tied to {b}" for a, b in ties)
    return HtmlView(html_text, plain)
