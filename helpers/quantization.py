"""Quantization by the numbers（量化）: measured model footprints and the 4-bit NF4 levels.

    H.memory_table(H.model_path("smollm2-135m-instruct"))   # fp32, bf16, 8-bit, NF4, NF4 + double quant
    H.plot_nf4(model.model.layers[0].self_attn.q_proj.weight)

Footprints are counted tensor by tensor: weights, plus the quantization constants bitsandbytes
keeps beside them (per-block absmax, and for double quantization the second-level constants).
`model.get_memory_footprint()` leaves those constants out, so it shows no saving from double
quantization. Counted, they are 0.5 bits per parameter (one fp32 absmax per 64 weights, as in the
QLoRA paper) and 0.143 with double quantization: the paper's 0.127 (8/64 + 32/(64·256)) plus the
256-entry lookup table bitsandbytes keeps with every quantized tensor (1 KB each).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .checks import int_arg
from .render import HtmlView, content_id, mpl_text
from .render import table as render_table

VARIANTS = ("fp32", "bf16", "8-bit", "4-bit NF4", "4-bit NF4 + double quant")


def quantization_config(variant: str, compute_dtype=None):
    """The from_pretrained keywords for one variant of VARIANTS.

    `compute_dtype` is what a 4-bit layer dequantizes its weights to for each matmul. By default it
    is the device's own precision, `H.pick_dtype()`: bf16 on a GPU that has it (the QLoRA paper's
    choice), fp32 on a CPU, where a CPU without bf16 instructions emulates bf16 arithmetic and a
    training step takes several times longer (`make bench` measures both). It changes speed, not
    the footprint: the stored 4-bit weights and their constants are the same.
    """
    import torch
    from transformers import BitsAndBytesConfig

    if variant == "fp32":
        return {"dtype": torch.float32}
    if variant == "bf16":
        return {"dtype": torch.bfloat16}
    if variant == "8-bit":
        return {"quantization_config": BitsAndBytesConfig(load_in_8bit=True)}
    if variant in ("4-bit NF4", "4-bit NF4 + double quant"):
        if compute_dtype is None:
            from .device import pick_dtype

            compute_dtype = pick_dtype()
        compute_dtype = _compute_dtype(compute_dtype)
        return {"quantization_config": BitsAndBytesConfig(
            load_in_4bit=True,  # store linear weights in 4 bits
            bnb_4bit_quant_type="nf4",  # NormalFloat4: 16 levels placed for normally distributed weights
            bnb_4bit_use_double_quant=variant.endswith("double quant"),  # quantize the constants too
            bnb_4bit_compute_dtype=compute_dtype,  # dequantize to this dtype for each matmul
        )}
    raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


# The project's short names for a compute dtype, and the torch names BitsAndBytesConfig reads from a str.
_DTYPE_NAMES = {"bf16": "bfloat16", "fp32": "float32", "fp16": "float16",
                "bfloat16": "bfloat16", "float32": "float32", "float16": "float16"}


def _compute_dtype(value):
    """A torch dtype as it is; 'bf16' / 'fp32' / 'fp16' (the project's words) or 'bfloat16' as torch's name."""
    import torch

    if isinstance(value, torch.dtype):
        return value
    if not isinstance(value, str):
        raise TypeError(f"compute_dtype must be a torch dtype such as torch.bfloat16 (or 'bf16', 'fp32'), got "
                        f"{type(value).__name__} {value!r}")
    name = _DTYPE_NAMES.get(value.strip().lower().removeprefix("torch."))
    if name is None:
        raise ValueError(f"unknown compute_dtype {value!r}; pass torch.bfloat16, torch.float32 or torch.float16 "
                         "(or 'bf16', 'fp32', 'fp16')")
    return name  # BitsAndBytesConfig turns the str into getattr(torch, name)


def _nbytes(t) -> int:
    return t.numel() * t.element_size()


@dataclass(frozen=True)
class Footprint:
    variant: str
    weight_bytes: int  # every parameter and buffer as stored (4-bit weights packed two per byte)
    constant_bytes: int  # quantization constants kept beside quantized weights
    quantized_params: int  # parameters stored in 8 or 4 bits
    layer_bytes: int | None = None  # the decoder layers alone (weights + constants): what quantization shrinks

    @property
    def total(self) -> int:
        return self.weight_bytes + self.constant_bytes

    @property
    def constant_bits_per_param(self) -> float | None:
        return 8 * self.constant_bytes / self.quantized_params if self.quantized_params else None


def footprint(model, variant: str = "") -> Footprint:
    """Count a loaded model's bytes: parameters and buffers, plus bitsandbytes' constants."""
    if not callable(getattr(model, "parameters", None)) or not callable(getattr(model, "modules", None)):
        raise TypeError(f"footprint expects a loaded model such as AutoModelForCausalLM.from_pretrained(...), "
                        f"got {type(model).__name__}")
    weight = sum(_nbytes(p) for p in model.parameters()) + sum(_nbytes(b) for b in model.buffers())
    quantized = 0
    constants: dict[int, int] = {}  # data_ptr -> bytes: a lookup table shared by layers counts once

    def add(t):
        constants[t.data_ptr()] = _nbytes(t)

    for module in model.modules():
        w = getattr(module, "weight", None)
        state = getattr(w, "quant_state", None)
        if state is not None:  # 4-bit: packed uint8 (2 values a byte) + absmax per 64-value block
            quantized += 2 * w.numel()
            add(state.absmax)
            if getattr(state, "nested", False):  # double quant: absmax in 8 bits + its own constants
                add(state.state2.absmax)
                add(state.state2.code)
        elif getattr(w, "SCB", None) is not None:  # 8-bit: int8 weights + one scale per row
            quantized += w.numel()
            add(w.SCB)
    return Footprint(variant, weight, sum(constants.values()), quantized)


class QuantizationUnavailableError(RuntimeError):
    """bitsandbytes is missing or cannot load on this machine."""


def require_bitsandbytes() -> str:
    """Import bitsandbytes or raise a clear error saying what still works without it; returns its version."""
    try:
        import bitsandbytes
    except Exception as err:  # ImportError, or a broken native library raising RuntimeError/OSError
        reason = (str(err).splitlines() or [""])[0]
        raise QuantizationUnavailableError(
            f"bitsandbytes cannot be loaded here ({type(err).__name__}: {reason})."
            " The 8-bit / 4-bit (QLoRA) cells need it: reinstall it with `make setup` or "
            "`pip install bitsandbytes==0.50.2`. Everything in full precision (fp32 / bf16 LoRA) runs without it."
        ) from None
    return bitsandbytes.__version__


def decoder_layers(model):
    """The stack of transformer blocks (model.model.layers for Llama/Qwen/Phi-3 style models)."""
    for path in ("model.layers", "transformer.h", "gpt_neox.layers"):
        module = model
        for part in path.split("."):
            module = getattr(module, part, None)
        if module is not None:
            return module
    raise ValueError(f"cannot find the decoder layers of {type(model).__name__}")


def memory_footprints(path, variants=VARIANTS) -> list[Footprint]:
    """Load the model once per variant on the CPU and measure each; frees each before the next."""
    import gc
    from dataclasses import replace

    from transformers import AutoModelForCausalLM

    from .models import check_generator, model_path

    if isinstance(variants, str) or not variants or any(v not in VARIANTS for v in variants):
        raise ValueError(f"variants must be a non-empty list of {', '.join(VARIANTS)}; got {variants!r}")
    check_generator(path)  # an embedder would load with a random LM head, a tokenizer folder not at all
    path = model_path(path)  # a folder, a bundled name or a cached hub id; the error names the fix
    if any(v not in ("fp32", "bf16") for v in variants):
        require_bitsandbytes()
    rows = []
    for variant in variants:
        model = AutoModelForCausalLM.from_pretrained(path, device_map="cpu", **quantization_config(variant))
        rows.append(replace(footprint(model, variant), layer_bytes=footprint(decoder_layers(model)).total))
        del model
        gc.collect()
    return rows


def memory_table(path_or_rows, variants=VARIANTS) -> HtmlView:
    """Measured footprint of one model in each precision, with the ratio to fp32.

    Pass a model folder (each variant is loaded and measured) or the rows memory_footprints returned.
    """
    if isinstance(path_or_rows, (list, tuple)):
        rows = list(path_or_rows)
        if not rows or not all(isinstance(r, Footprint) for r in rows):
            raise ValueError("memory_table needs the rows H.memory_footprints(path) returns (a non-empty list), or "
                             f"a model folder such as H.model_path(MODEL); got {_describe(rows)}")
    elif isinstance(path_or_rows, (str, os.PathLike)):
        rows = memory_footprints(path_or_rows, variants)
    else:
        raise TypeError("memory_table takes a model folder such as H.model_path(MODEL), or the rows "
                        f"H.memory_footprints(...) returned; got {type(path_or_rows).__name__}")
    base = next((r for r in rows if r.variant == "fp32"), rows[0])

    def layers(r, sep):  # H.footprint(model) alone does not count the decoder layers apart: leave them blank
        if r.layer_bytes is None or not base.layer_bytes:
            return ["", ""] if sep is None else ""
        mb, ratio = f"{r.layer_bytes / 1e6:,.1f} MB", f"{r.layer_bytes / base.layer_bytes:.2f}"
        return [mb, ratio] if sep is None else f"{sep}decoder layers {mb} ({ratio} x fp32)"

    html_text = render_table(
        ["precision", "footprint", "× fp32", "decoder layers", "× fp32", "quantization constants",
         "constant bits / quantized parameter"],
        [[r.variant or "model", f"{r.total / 1e6:,.1f} MB", f"{r.total / base.total:.2f}", *layers(r, None),
          f"{r.constant_bytes / 1e6:,.2f} MB",
          "" if r.constant_bits_per_param is None else f"{r.constant_bits_per_param:.3f}"] for r in rows],
        element_id=content_id("memory", [(r.variant, r.total) for r in rows]))
    plain = "\n".join(f"{r.variant or 'model'}: {r.total / 1e6:,.1f} MB ({r.total / base.total:.2f} x fp32)"
                      f"{layers(r, '; ')}" for r in rows)
    return HtmlView(html_text, plain)


def _describe(rows: list) -> str:
    return "an empty list" if not rows else f"a list of {', '.join(sorted({type(r).__name__ for r in rows}))}"


def nf4_roundtrip(weight, blocksize: int = 64):
    """(normalized values in [-1, 1], the 16 NF4 levels, dequantized weight) for one real matrix.

    Uses bitsandbytes' own quantize_4bit / dequantize_4bit, so the error is the real one.
    """
    import bitsandbytes.functional as F
    import torch

    if not isinstance(weight, torch.Tensor) or weight.dim() != 2 or not weight.is_floating_point():
        raise TypeError("pass one floating-point weight matrix, e.g. model.model.layers[0].self_attn.q_proj.weight "
                        "of a model loaded in fp32 or bf16 (not an already quantized one)")
    blocksize = int_arg("blocksize (values per block; the QLoRA paper uses 64)", blocksize, 1, example=64)
    w = weight.detach().float().cpu()
    if w.numel() % blocksize:
        raise ValueError(f"the matrix has {w.numel()} values, not a multiple of the block size {blocksize}")
    blocks = w.reshape(-1, blocksize)
    normalized = blocks / blocks.abs().amax(dim=1, keepdim=True).clamp_min(1e-12)
    packed, state = F.quantize_4bit(w, blocksize=blocksize, quant_type="nf4")
    return normalized.flatten(), F.get_4bit_type("nf4", device="cpu"), F.dequantize_4bit(packed, state)


def plot_nf4(weight, *, title: str | None = None):
    """Left: one real matrix's block-normalized weights with the 16 NF4 levels. Right: the error."""
    import matplotlib.pyplot as plt
    import torch

    from .fonts import use_cjk_font

    if isinstance(weight, torch.Tensor) and weight.is_floating_point() and not torch.isfinite(weight).all():
        raise ValueError("the weight matrix contains NaN or inf, so it has no histogram: pass a finite matrix "
                         "(a NaN weight usually means training diverged: lower the learning rate and train again)")
    normalized, levels, dequantized = nf4_roundtrip(weight)
    use_cjk_font()
    error = (weight.detach().float().cpu() - dequantized).flatten()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.hist(normalized.numpy(), bins=200, color="#4e79a7")
    for level in levels.tolist():
        left.axvline(level, color="#e15759", linewidth=0.8)
    left.set_xlabel("weight / absmax of its block of 64")
    left.set_title("Weights and the 16 NF4 levels（NF4 量化级别）")
    right.hist(error.numpy(), bins=200, color="#59a14f")
    right.set_xlabel("weight − dequantized weight")
    right.set_title(f"Quantization error: mean |error| {error.abs().mean():.2e}")
    fig.suptitle(mpl_text(title or ""))
    fig.tight_layout()
    plt.close(fig)
    return fig
