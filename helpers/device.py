"""Device and dtype policy, in one place: cuda, then mps, then cpu; bf16 on GPUs that support it.

The book's notebooks hard-code `device_map="cuda"` and die on a laptop. Ours ask:

    DEVICE = H.pick_device()            # "cuda", "mps" or "cpu" (or $LLM_LAB_DEVICE)
    DTYPE = H.pick_dtype(DEVICE)        # bfloat16 on a bf16 GPU, float16 on older ones, else float32
    model = AutoModelForCausalLM.from_pretrained(path, device_map=DEVICE, dtype=DTYPE)
"""

from __future__ import annotations

import os

ENV_VAR = "LLM_LAB_DEVICE"
CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceError(RuntimeError):
    """A device was requested that this machine does not have."""


def pick_device(requested: str | None = None) -> str:
    """The device to run on: `requested`, else $LLM_LAB_DEVICE, else the best available.

    Example: pick_device() -> "cpu" on a laptop, "cuda" on a GPU machine.
    """
    import torch

    req = (requested or os.environ.get(ENV_VAR) or "auto").strip().lower()
    kind = req.split(":")[0]
    if kind not in CHOICES:
        raise DeviceError(f"unknown device {req!r}; choose one of {', '.join(CHOICES)} "
                          f"(argument or ${ENV_VAR})")
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

    device = device or pick_device()
    if not isinstance(device, str) or device.split(":")[0] not in CHOICES[1:]:
        raise DeviceError(f"unknown device {device!r}; pass 'cpu', 'cuda' or 'mps' (what H.pick_device() returns)")
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def describe_device(device: str | None = None) -> str:
    """One line a notebook prints: which device and dtype it runs on. Example: 'cpu, float32'."""
    import torch

    device = device or pick_device()
    dtype = str(pick_dtype(device)).replace("torch.", "")
    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(device)}), {dtype}"
    return f"{device}, {dtype}"
