"""Device and dtype policy, in one place: cuda, then mps, then cpu; bf16 on GPUs that support it.

The book's notebooks hard-code `device_map="cuda"` and die on a laptop. Ours ask:

    DEVICE = H.pick_device()            # "cuda", "mps" or "cpu" (or $LLM_LAB_DEVICE)
    DTYPE = H.pick_dtype(DEVICE)        # bfloat16 on a bf16 GPU, float16 on older ones, else float32
    model = AutoModelForCausalLM.from_pretrained(path, device_map=DEVICE, dtype=DTYPE)
"""

from __future__ import annotations

import os
import re

ENV_VAR = "LLM_LAB_DEVICE"
CHOICES = ("auto", "cpu", "cuda", "mps")
# What a device setting may look like: a kind, and for a GPU its number (cuda:0, cuda:1, ...).
_DEVICE = re.compile(r"auto|(cpu|mps)(:0)?|cuda(:\d+)?")
_FORMS = "choose one of auto, cpu, cuda, mps (or cuda:N for GPU number N, e.g. cuda:0)"


class DeviceError(RuntimeError):
    """A device was requested that this machine does not have."""


def pick_device(requested: str | None = None) -> str:
    """The device to run on: `requested`, else $LLM_LAB_DEVICE, else the best available.

    Example: pick_device() -> "cpu" on a laptop, "cuda" on a GPU machine.
    """
    import torch

    if isinstance(requested, torch.device):
        requested = str(requested)
    if requested is not None and not isinstance(requested, str):
        raise TypeError(f"the device must be a str such as 'cpu', 'cuda', 'cuda:0', 'mps' or 'auto', "
                        f"got {type(requested).__name__} {requested!r}")
    source = "the argument" if requested else f"${ENV_VAR}"
    req = (requested or os.environ.get(ENV_VAR) or "auto").strip().lower()
    kind = req.split(":")[0]
    if not _DEVICE.fullmatch(req):
        raise DeviceError(f"unknown device {req!r}; {_FORMS} (set by {source})")
    if kind == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if kind == "cuda" and not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise DeviceError(f"CUDA was requested ({req!r}) but no CUDA GPU is available here "
                          f"(torch {torch.__version__}, {build}). Fix: use device 'auto' or 'cpu' "
                          f"(unset ${ENV_VAR}); the notebooks run on a CPU as they are.")
    if kind == "cuda" and ":" in req:
        index = req.split(":", 1)[1]
        if not index.isdigit() or int(index) >= torch.cuda.device_count():
            raise DeviceError(f"{req!r}: this machine has CUDA devices 0..{torch.cuda.device_count() - 1}")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"MPS (Apple GPU) was requested but is not available here. Fix: use "
                          f"'auto' or 'cpu' (unset ${ENV_VAR}).")
    return req


def pick_dtype(device: str | None = None):
    """torch.bfloat16 on a CUDA GPU that supports it, float16 on an older one, float32 elsewhere.

    CPUs and Apple GPUs get float32: it is what the stored notebook outputs were made with.
    """
    import torch

    if isinstance(device, torch.device):
        device = str(device)
    if isinstance(device, str):  # "CPU" and " cuda " mean what pick_device takes them to mean
        device = device.strip().lower()
    device = device or pick_device()
    if not isinstance(device, str) or not _DEVICE.fullmatch(device) or device == "auto":
        raise DeviceError(f"unknown device {device!r}; pass 'cpu', 'cuda' or 'mps' (what H.pick_device() returns)")
    if device.startswith("cuda"):
        pick_device(device)  # a GPU that is not there gets pick_device's message, not a half-precision dtype
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def describe_device(device: str | None = None) -> str:
    """One line a notebook prints: which device and dtype it runs on. Example: 'cpu, float32'."""
    import torch

    device = pick_device(device)  # checks a device that is asked for: "cuda" on a laptop gets the fix
    dtype = str(pick_dtype(device)).replace("torch.", "")
    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(device)}), {dtype}"
    return f"{device}, {dtype}"
