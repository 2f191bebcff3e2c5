"""What one training step costs: full fine-tuning, LoRA and QLoRA side by side (ch12a, 12.3).

Training memory is the weights, plus for every *trainable* parameter its gradient and AdamW's two
running averages (`exp_avg`, `exp_avg_sq`), plus the activations kept for the backward pass. The
middle part is arithmetic: 4 + 8 = 12 bytes per trainable fp32 parameter. `measure_training` runs
a few real AdamW steps of each method, each in a fresh Python process so that each method's peak
memory is its own, and returns what it counted (gradient and optimizer-state bytes, summed over
the real tensors) and measured (peak resident memory, seconds per step).

    costs = measure_training("smollm2-135m-instruct", steps=3)
    training_cost_table(costs)

Run as a script it measures one method and prints one JSON line:
    python -m helpers.training_cost <model folder> full|lora|qlora <steps> <batch size>
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass

from .checks import int_in

METHODS = ("full", "lora", "qlora")
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]  # as in ch12b: r=8 on the attention projections


@dataclass(frozen=True)
class StepCost:
    """One method's measured training step."""

    method: str
    parameters: int  # every parameter of the model (LoRA's included; a 4-bit weight counted once, not per byte)
    trainable: int  # the ones AdamW updates
    grad_bytes: int  # summed over the real .grad tensors after backward()
    optimizer_bytes: int  # summed over AdamW's state tensors after step()
    loaded_mb: float  # resident memory once the model is loaded (MB)
    peak_mb: float  # peak resident memory while training, sampled every 2 ms (MB; on a GPU: peak allocated)
    loaded_file_mb: float  # of loaded_mb, the part that is mapped files (the checkpoint's pages), 0 if unknown
    peak_file_mb: float  # of the CPU peak, the part that is mapped files, 0 if unknown
    seconds_per_step: float  # the mean of the steps after the first (the first warms caches up)
    steps: int
    device: str


def measure_training(model: str, methods=METHODS, *, steps: int = 3, batch_size: int = 4,
                     timeout: float = 600) -> list[StepCost]:
    """Run `steps` AdamW steps of each method on `model` (a bundled name or a folder), one process each."""
    from .models import model_path

    unknown = [m for m in methods if m not in METHODS]
    if isinstance(methods, str) or unknown:
        raise ValueError(f"methods is a list drawn from {list(METHODS)}; got {methods!r}")
    if not int_in(steps, 2, 50) or not int_in(batch_size, 1, 64):
        raise ValueError(f"steps must be an int from 2 to 50 (the first is not timed) and batch_size from 1 to 64; "
                         f"got steps={steps!r}, batch_size={batch_size!r}")
    folder = str(model_path(model))
    costs = []
    for method in methods:
        cmd = [sys.executable, "-m", "helpers.training_cost", folder, method, str(steps), str(batch_size)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ))
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{method}: {steps} steps took over {timeout:.0f} s; try fewer steps") from None
        if proc.returncode != 0 or not proc.stdout.strip():
            tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
            raise RuntimeError(f"measuring {method} failed (exit {proc.returncode}):\n{tail}")
        costs.append(StepCost(**json.loads(proc.stdout.strip().splitlines()[-1])))
    return costs


def training_cost_table(costs: list[StepCost]):
    """The measured costs as a table: trainable parameters, bytes counted, memory and time measured."""
    from .render import HtmlView, content_id
    from .render import table as render_table

    resident = "GPU allocated" if costs and costs[0].device == "cuda" else "process RSS; of it mapped files"
    header = ["method", "trainable parameters", "gradients", "AdamW state", "12 bytes × trainable",
              "memory after loading (process RSS; of it mapped files)", f"peak while training ({resident})",
              "seconds per step"]

    def memory(mb, file_mb):
        return f"{mb:,.0f} MB ({file_mb:,.0f} MB)" if file_mb else f"{mb:,.0f} MB"

    rows = [[c.method, f"{c.trainable:,} ({c.trainable / c.parameters:.1%})", f"{c.grad_bytes / 1e6:,.1f} MB",
             f"{c.optimizer_bytes / 1e6:,.1f} MB", f"{12 * c.trainable / 1e6:,.1f} MB",
             memory(c.loaded_mb, c.loaded_file_mb), memory(c.peak_mb, c.peak_file_mb),
             f"{c.seconds_per_step:.2f} s"] for c in costs]
    text = "\n".join(" | ".join(map(str, row)) for row in [header, *rows])
    return HtmlView(render_table(header, rows, element_id=content_id("training-cost", text)), text)


# ---------------------------------------------------------------------------- the child process


def _rss_mb() -> tuple[float, float]:
    """Resident memory of this process now and the part of it that is mapped files (MB, 10^6 bytes).

    From /proc (Linux): safetensors maps the checkpoint file, so its pages count as resident once read.
    Elsewhere: the lifetime peak, with the file part unknown (0).
    """
    try:
        with open("/proc/self/statm") as f:
            fields = f.read().split()
        page = os.sysconf("SC_PAGE_SIZE") / 1e6
        return int(fields[1]) * page, int(fields[2]) * page  # resident, resident and file-backed (or shared)
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6), 0.0  # bytes on macOS, KiB elsewhere


def _release_freed_memory() -> None:
    """Hand memory that Python and C code freed back to the system (glibc's malloc_trim), so RSS counts live data."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): RSS then also counts freed memory
        pass


class _PeakSampler:
    """Samples resident memory in a thread while training runs: loading's own peak is not counted."""

    def __init__(self, every: float = 0.002):
        import threading

        self.peak, self.every, self._stop = _rss_mb(), every, threading.Event()  # (resident, file part)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _measure(folder: str, method: str, steps: int, batch_size: int) -> StepCost:
    import time

    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .device import pick_device
    from .quantization import quantization_config
    from .store import data_path

    torch.manual_seed(0)
    device = pick_device()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if method == "qlora":
        # the notebooks' QLoRA base (12a, 12b), computing in fp32 as on a CPU
        model = AutoModelForCausalLM.from_pretrained(folder, device_map=device,
                                                     **quantization_config("4-bit NF4 + double quant", "fp32"))
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    else:
        model = AutoModelForCausalLM.from_pretrained(folder, device_map=device, **quantization_config("fp32"))
    if method != "full":
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=LORA_TARGETS,
                                                 task_type="CAUSAL_LM"))
    _release_freed_memory()  # loading's temporary copies, freed but still held by the C allocator
    loaded, loaded_file = _rss_mb()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    chats = [json.loads(line)["messages"] for line in data_path("ch12_sft_train.jsonl").read_text().splitlines()]
    texts = [tokenizer.apply_chat_template(chats[i % len(chats)], tokenize=False) for i in range(batch_size)]
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    batch = tokenizer(texts, padding=True, return_tensors="pt").to(device)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    model.train()
    times, grad_bytes = [], 0
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()  # the peak while training, not while loading
    with _PeakSampler() as sampler:
        for _ in range(steps):
            start = time.perf_counter()
            model(**batch, labels=labels).loss.backward()
            grad_bytes = sum(p.grad.nbytes for p in trainable if p.grad is not None)
            optimizer.step()
            optimizer.zero_grad(set_to_none=False)  # keep the gradient buffers: they are part of the cost
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
    state_bytes = sum(t.nbytes for s in optimizer.state.values() for t in s.values()
                      if torch.is_tensor(t) and t.dim() > 0)  # exp_avg, exp_avg_sq (not the scalar step count)
    peak, peak_file = (torch.cuda.max_memory_allocated() / 1e6, 0.0) if device == "cuda" else sampler.peak
    return StepCost(method=method, parameters=sum(_weights(p) for p in model.parameters()),
                    trainable=sum(p.numel() for p in trainable), grad_bytes=grad_bytes, optimizer_bytes=state_bytes,
                    loaded_mb=round(loaded, 1), peak_mb=round(peak, 1), loaded_file_mb=round(loaded_file, 1),
                    peak_file_mb=round(peak_file, 1),
                    seconds_per_step=round(sum(times[1:]) / len(times[1:]), 3), steps=steps, device=device)


def _weights(p) -> int:
    """How many weights a parameter holds: bitsandbytes packs two 4-bit weights into each uint8 element."""
    return p.numel() * 2 if type(p).__name__ == "Params4bit" else p.numel()


if __name__ == "__main__":
    folder, method, steps, batch_size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(asdict(_measure(folder, method, steps, batch_size))))
