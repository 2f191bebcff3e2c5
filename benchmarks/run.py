"""`make bench`: measure the figures the README quotes, in one run, and print one table.

Every figure is measured here and now on this machine; ratios compare numbers from this run only.
Each measurement runs in a fresh Python process so one cannot warm the other's caches (the OS page
cache is shared, and the first measurement reads the files once to level that).

    python benchmarks/run.py            # all run-time figures (about 12 minutes)
    python benchmarks/run.py --quick    # fewer repeats, no notebooks or browser
    python benchmarks/run.py --notebooks 'ch03*'  # only the notebooks matching the pattern, executed
    python benchmarks/run.py --suite    # set-up and `make test` in a fresh clone of HEAD (about 35 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
       "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false",
       "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}


def in_child(code: str) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON object as its last line."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_import(repeats: int) -> list[tuple[str, str, str]]:
    wall = []
    for _ in range(repeats):
        wall.append(in_child(
            "import time, json, sys; t = time.perf_counter(); import helpers; "
            "print(json.dumps({'s': time.perf_counter() - t, "
            "'heavy': [m for m in ('torch', 'transformers', 'matplotlib') if m in sys.modules]}))"))
    ms = statistics.median(w["s"] for w in wall) * 1000
    heavy = wall[0]["heavy"] or "none"
    return [("`import helpers`", f"{ms:.0f} ms", f"median of {repeats} fresh interpreters; "
             f"heavy modules imported: {heavy}")]


LOAD = """
import json, time
import helpers as H
import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
path = H.model_path("smollm2-135m-instruct")
gguf = sorted((path / "gguf").glob("*.gguf"))[0]
# Import the model and tokenizer code first: import time is not load time.
AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(path))
AutoTokenizer.from_pretrained(path)
t = time.perf_counter()
if {gguf!r}:
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
else:
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
print(json.dumps({{"s": time.perf_counter() - t}}))
"""


def bench_load(repeats: int) -> list[tuple[str, str, str]]:
    in_child(LOAD.format(gguf=False))  # read the files once so both start from a warm page cache
    folder = statistics.median(in_child(LOAD.format(gguf=False))["s"] for _ in range(repeats))
    gguf = in_child(LOAD.format(gguf=True))["s"]
    return [
        ("model + tokenizer load, converted folder", f"{folder:.2f} s", f"median of {repeats}"),
        ("model + tokenizer load, GGUF (dequantize)", f"{gguf:.1f} s", "once"),
        ("converted folder speed-up over GGUF", f"{gguf / folder:.0f}x", "same run"),
    ]


GENERATE = """
import json, time, torch
import helpers as H
from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline
path = H.model_path("smollm2-135m-instruct")
model = AutoModelForCausalLM.from_pretrained(path, device_map="cpu", dtype=torch.float32)
tok = AutoTokenizer.from_pretrained(path)
gen = pipeline("text-generation", model=model, tokenizer=tok, return_full_text=False,
               max_new_tokens=60, do_sample=False)
messages = [{"role": "user", "content": "Create a funny joke about chickens."}]
gen(messages)  # warm-up
t = time.perf_counter()
out = gen(messages)
s = time.perf_counter() - t
n = len(tok(out[0]["generated_text"], add_special_tokens=False).input_ids)
print(json.dumps({"s": s, "tokens": n, "threads": torch.get_num_threads()}))
"""


def bench_generate() -> list[tuple[str, str, str]]:
    r = in_child(GENERATE)
    return [("ch01 joke: pipeline, greedy", f"{r['s']:.2f} s",
             f"{r['tokens']} new tokens, {r['tokens'] / r['s']:.1f} tokens/s, {r['threads']} torch threads")]


QWEN = """
import json, time, torch
import helpers as H
from transformers import AutoModelForCausalLM, AutoTokenizer
path = H.model_path("qwen2.5-coder-0.5b-instruct")
tok = AutoTokenizer.from_pretrained(path)
messages = [{"role": "user", "content": "请写一个关于人工智能的故事"}]
ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
out = {"threads": torch.get_num_threads()}
for name in ("float32", "bfloat16"):
    loads = []
    for _ in range(3):
        t = time.perf_counter()
        model = AutoModelForCausalLM.from_pretrained(path, device_map="cpu", dtype=getattr(torch, name))
        loads.append(time.perf_counter() - t)
    model.generate(**ids, max_new_tokens=4, do_sample=False)  # warm-up
    t = time.perf_counter()
    gen = model.generate(**ids, max_new_tokens=40, min_new_tokens=40, do_sample=False)
    new = gen.shape[1] - ids["input_ids"].shape[1]
    out[name] = {"load": sorted(loads)[1], "tps": new / (time.perf_counter() - t)}
    del model
print(json.dumps(out))
"""


def bench_qwen() -> list[tuple[str, str, str]]:
    r = in_child(QWEN)
    rows = []
    for name, note in (("float32", "what the notebooks load on a CPU"), ("bfloat16", "the stored dtype")):
        rows.append((f"Qwen2.5-Coder-0.5B load ({name})", f"{r[name]['load']:.1f} s", f"median of 3; {note}"))
        rows.append((f"Qwen2.5-Coder-0.5B greedy ({name})", f"{r[name]['tps']:.1f} tok/s",
                     f"40 new tokens after a Chinese chat prompt, {r['threads']} torch threads"))
    return rows


PLAYGROUND = """
import json, statistics, time
import helpers as H
from helpers.playgrounds import tokenizer_html
from transformers import AutoTokenizer
names = {"SmolLM2": "smollm2-135m-instruct", "BERT": "all-minilm-l6-v2", "Qwen2.5": "qwen2.5-tokenizer",
         "GPT-4": "cl100k-base"}
toks = {k: AutoTokenizer.from_pretrained(H.model_path(v)) for k, v in names.items()}
base = "Tokenizers split text into tokens. 分词器把文本切分成词元。 def f(x): return x * 2  # 🎵\\n"
text = (base * 50)[:1000]
tokenizer_html(text, toks)  # warm-up
times = []
for i in range(20):
    t = time.perf_counter()
    tokenizer_html(text[: 1000 - i] + "x" * i, toks)  # a new text each time, like typing
    times.append(time.perf_counter() - t)
print(json.dumps({"median": statistics.median(times), "max": max(times), "chars": len(text)}))
"""


def bench_playground() -> list[tuple[str, str, str]]:
    r = in_child(PLAYGROUND)
    return [("ch02 tokenizer playground redraw", f"{r['median'] * 1000:.0f} ms",
             f"{r['chars']:,} characters, 4 tokenizers, median of 20 (max {r['max'] * 1000:.0f} ms)")]


LOOP = """
import json, statistics, time, torch
import helpers as H
from transformers import AutoModelForCausalLM, AutoTokenizer
path = H.model_path("smollm2-135m-instruct")
model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
tok = AutoTokenizer.from_pretrained(path)
prompt = "Once upon a time"
ids = tok(prompt, return_tensors="pt").input_ids
def gen(use_cache=True):
    return model.generate(ids, max_new_tokens=64, min_new_tokens=64, do_sample=False, use_cache=use_cache)
def loop():
    return H.generate_step_by_step(model, tok, prompt, max_new_tokens=64)
gen(); loop()  # warm-up
g, l = [], []
for _ in range(3):  # interleaved, so machine noise hits both alike
    t = time.perf_counter(); gen(); g.append(time.perf_counter() - t)
    t = time.perf_counter(); steps = loop(); l.append(time.perf_counter() - t)
t = time.perf_counter(); gen(use_cache=False); nocache = time.perf_counter() - t
stepper = H.generation_stepper(model, tok, prompt)
clicks = []
for _ in range(20):
    t = time.perf_counter(); stepper.choose(0); clicks.append(time.perf_counter() - t)
print(json.dumps({"generate": statistics.median(g), "loop": statistics.median(l), "n": len(steps.steps),
                  "nocache": nocache, "click": statistics.median(clicks), "click_max": max(clicks)}))
"""


def bench_generation_loop() -> list[tuple[str, str, str]]:
    r = in_child(LOOP)
    return [
        ("ch03 step-by-step loop / model.generate", f"{r['loop'] / r['generate']:.2f}x",
         f"64 new tokens, both cached, median of 3 interleaved ({r['generate']:.2f} s vs {r['loop']:.2f} s)"),
        ("ch03 KV-cache speed-up for generate", f"{r['nocache'] / r['generate']:.1f}x",
         f"64 new tokens after a 4-token prompt: {r['nocache']:.1f} s without the cache"),
        ("ch03 generation stepper, one click", f"{r['click'] * 1000:.0f} ms",
         f"median of 20 clicks (max {r['click_max'] * 1000:.0f} ms): one cached forward pass + redraw"),
    ]


TRAIN = """
import json, statistics, tempfile, time
import helpers as H
from helpers import train
from transformers import TrainerCallback

class StepTimes(TrainerCallback):
    def __init__(self):
        self.ends = []
    def on_step_end(self, args, state, control, **kwargs):
        self.ends.append(time.perf_counter())

out = {}
for precision in ("fp32", "4bit"):  # the same recipe, one after the other in this one process
    timer = StepTimes()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = train.sft(precision=precision, steps=10, output=tmp + "/run", callbacks=[timer])
    steps = [b - a for a, b in zip(timer.ends, timer.ends[1:])][1:]  # drop the slow first steps
    out[precision] = {"step": statistics.median(steps), "mb": H.footprint(trainer.model).total / 1e6}
    del trainer
# QLoRA computing in bf16 (the paper's GPU choice) instead of the device's fp32: three steps, the third timed
import torch
timer = StepTimes()
with tempfile.TemporaryDirectory() as tmp:
    train.sft(precision="4bit", steps=3, output=tmp + "/run", callbacks=[timer], compute_dtype=torch.bfloat16)
out["4bit-bf16"] = {"step": timer.ends[2] - timer.ends[1]}
rows = {f.variant: f for f in H.memory_footprints(H.model_path("smollm2-135m-instruct"),
                                                  ("fp32", "4-bit NF4 + double quant"))}
out["layers"] = {v: f.layer_bytes / 1e6 for v, f in rows.items()}
print(json.dumps(out))
"""


def bench_training() -> list[tuple[str, str, str]]:
    r = in_child(TRAIN)
    fp32, nf4 = r["layers"]["fp32"], r["layers"]["4-bit NF4 + double quant"]
    return [
        ("ch12 LoRA step, fp32 base", f"{r['fp32']['step']:.2f} s",
         f"SFT r=8 q/k/v/o, batch 4, median of steps 3-10; model in memory {r['fp32']['mb']:.0f} MB"),
        ("ch12 QLoRA step, 4-bit NF4 base", f"{r['4bit']['step']:.2f} s",
         f"same recipe and run; model in memory {r['4bit']['mb']:.0f} MB"),
        ("ch12 QLoRA / LoRA seconds per step", f"{r['4bit']['step'] / r['fp32']['step']:.2f}x", "same run"),
        ("ch12 QLoRA step computing in bf16 / in fp32", f"{r['4bit-bf16']['step'] / r['4bit']['step']:.1f}x",
         f"{r['4bit-bf16']['step']:.1f} s: bnb_4bit_compute_dtype=bfloat16 (third step of three) on this CPU"),
        ("ch12 decoder layers, 4-bit NF4+DQ / fp32", f"{nf4 / fp32:.2f}x",
         f"{nf4:.1f} MB vs {fp32:.1f} MB, quantization constants counted (goal: at most 1/3)"),
    ]


NOTEBOOK = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--stdout",
                       "--ExecutePreprocessor.timeout=1800", {path!r}], capture_output=True)
wall = time.perf_counter() - start
if proc.returncode:
    sys.exit(proc.stderr.decode()[-2000:])
# the largest descendant waited for: the kernel (nbconvert waits for it), in KiB on Linux
print(json.dumps({{"s": wall, "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""


NOTEBOOK_GOALS = {"ch03_inside_llms": "; goal: under 60 s on 2 cores",
                  "ch03b_inside_the_block": "; goal: under 60 s on 2 cores"}


def bench_notebooks(pattern: str = "*") -> list[tuple[str, str, str]]:
    """Execute every notebook in a fresh kernel, as `make notebooks` does, without saving it; time and peak RSS."""
    rows, ch12 = [], 0.0
    for nb in sorted((ROOT / "notebooks").glob(f"{pattern}.ipynb")):
        r = in_child(NOTEBOOK.format(path=str(nb)))
        rows.append((f"{nb.stem} executed", f"{r['s']:.0f} s",
                     f"fresh kernel, kernel start included; peak RSS {r['rss_mb']:,.0f} MB"
                     f"{NOTEBOOK_GOALS.get(nb.stem, '')}"))
        ch12 += r["s"] if nb.name.startswith("ch12") else 0
    if ch12:
        rows.append(("ch12 notebooks together", f"{ch12:.0f} s", "goal: under 6 minutes on 2 cores"))
    return rows


def bench_browser() -> list[tuple[str, str, str]]:
    """The browser suite (tests/test_browser.py) timed as a whole, and its per-interaction latencies."""
    timings = ROOT / "tests" / "screenshots" / "browser_timings.json"
    timings.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/test_browser.py", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts="], capture_output=True, text=True, env=ENV, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not timings.is_file():
        return [("browser suite", "failed", (proc.stdout + proc.stderr).strip().splitlines()[-1][:100])]
    t = json.loads(timings.read_text())
    rows = [("browser suite, all notebooks + static site", f"{wall / 60:.1f} min", "JupyterLab + headless Chromium")]
    goals = {"tokenizer playground: key to redraw": "goal < 300 ms",
             "sampling playground: slider to redraw": "goal < 300 ms",
             "generation stepper: next token to new chip": "goal < 1 s",
             "attention explorer: head slider to redraw": "goal < 300 ms",
             "similarity playground: edit to new heatmap": "re-embeds every sentence"}
    for label, goal in goals.items():
        if label in t:
            rows.append((f"browser: {label}", f"{t[label] * 1000:.0f} ms", f"key/click to updated output; {goal}"))
    return rows


def folder_bytes(path: Path) -> int:
    """Bytes of every file under a folder, symlinks not followed (what `du --apparent-size` counts)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            f = Path(root) / name
            if not f.is_symlink():
                total += f.stat().st_size
    return total


def bench_disk(root: Path = ROOT) -> list[tuple[str, str, str]]:
    sizes = {name: folder_bytes(root / name) for name in (".venv", "models") if (root / name).is_dir()}
    if not sizes:
        return []
    shown = [f"{b / 1e9:.2f} GB" if b >= 1e9 else f"{b / 1e6:.0f} MB" for b in sizes.values()]
    return [("disk: " + " / ".join(f"`{n}`" for n in sizes), " / ".join(shown), "what set-up created, files only")]


def timed(cmd: list[str], cwd: Path) -> tuple[float, str, str]:
    """Run a make target as a user would (their environment, not the offline one): (seconds, pytest summary,
    its whole output)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed in {cwd}:\n{(proc.stdout + proc.stderr)[-3000:]}")
    summary = re.findall(r"^=+ (\d+ passed.*?) in [\d.]+s", proc.stdout, flags=re.M)
    return time.perf_counter() - start, summary[-1] if summary else "", proc.stdout


def slowest(output: str, n: int = 6) -> list[tuple[str, str, str]]:
    """The slowest test items from pytest's `--durations` list (pyproject.toml asks for it)."""
    found = re.findall(r"^\s*([\d.]+)s (call|setup|teardown)\s+(\S+)", output, flags=re.M)
    return [(f"slowest: {item.split('::')[-1][:80]}", f"{float(s):.0f} s", f"{phase} of {item.split('::')[0]}")
            for s, phase, item in found[:n]]


def notebooks_in_browser(clone: Path) -> list[tuple[str, str, str]]:
    """Each notebook's Run All in JupyterLab during that `make test` (tests/test_browser.py records them)."""
    path = clone / "tests" / "screenshots" / "browser_timings.json"
    if not path.is_file():
        return []
    return [(f"{label.removesuffix(' run all').removesuffix('.ipynb')} executed in JupyterLab", f"{s:.0f} s",
             "Run All in the browser suite of that `make test`, kernel start excluded")
            for label, s in json.loads(path.read_text()).items() if label.endswith(" run all")]


def bench_suite(runs: int = 2) -> list[tuple[str, str, str]]:
    """Clone HEAD into a temporary folder, then time `make setup`, `make test`, and (runs=2) `make test` again."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    note = f"fresh clone of {commit}" + (" (uncommitted changes not included)" if dirty else "")
    with tempfile.TemporaryDirectory(prefix="llm-lab-suite-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        setup, _, _ = timed(["make", "setup"], clone)
        disk = bench_disk(clone)
        first, first_result, output = timed(["make", "test"], clone)
        rows = [("first-run set-up: `make setup`", f"{setup / 60:.1f} min", f"{note}: venv, pinned installs, models"),
                *[(name, value, f"{how}, after set-up") for name, value, how in disk],
                ("first `make test` (set-up and test together)", f"{(setup + first) / 60:.1f} min",
                 f"lint, unit tests, every notebook, browser suite, model switch: {first_result}"),
                *notebooks_in_browser(clone), *slowest(output)]
        if runs > 1:
            warm, warm_result, _ = timed(["make", "test"], clone)
            rows.append(("warm `make test` (second run, nothing to set up)", f"{warm / 60:.1f} min",
                         f"same clone: {warm_result}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1 repeat instead of 5 / 3, no notebooks or browser")
    parser.add_argument("--suite", action="store_true",
                        help="instead: time set-up and two `make test` runs in a fresh clone of HEAD")
    parser.add_argument("--runs", type=int, choices=(1, 2), default=2,
                        help="with --suite: 1 times only the first `make test` (half the time)")
    parser.add_argument("--notebooks", metavar="PATTERN",
                        help="instead: execute only the notebooks whose name matches PATTERN (e.g. 'ch03*'), timed")
    parser.add_argument("--write", metavar="FILE", help="also write the table into FILE (e.g. BENCHMARKS.md)")
    args = parser.parse_args()
    if args.suite:
        rows = bench_suite(args.runs)
    elif args.notebooks:
        rows = bench_notebooks(args.notebooks.removesuffix(".ipynb")) or [("notebooks", "none", f"no notebook matches "
                                                                          f"{args.notebooks!r}")]
    else:
        with tempfile.TemporaryDirectory(prefix="llm-lab-bench-") as runs:
            ENV["LLM_LAB_OUTPUTS"] = runs  # the ch12 notebook's training runs do not pile up in outputs/
            rows = measure(args.quick)
    table = report(rows)
    print(table)
    if args.write:
        write_block(Path(args.write), "suite" if args.suite else "bench", table)


def write_block(path: Path, marker: str, table: str) -> None:
    """Put `table` between <!-- marker:begin --> and <!-- marker:end --> in `path` (appended if absent)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    block = f"{begin}\n{table}\n{end}"
    text = re.sub(f"{begin}.*?{end}", lambda _m: block, text, flags=re.S) if begin in text else text + block + "\n"
    path.write_text(text, encoding="utf-8")


def measure(quick: bool) -> list[tuple[str, str, str]]:
    rows = []
    rows += bench_import(1 if quick else 5)
    rows += bench_load(1 if quick else 3)
    rows += bench_generate()
    rows += bench_qwen()
    rows += bench_playground()
    rows += bench_generation_loop()
    rows += bench_training()
    rows += bench_disk()
    if not quick:
        rows += bench_notebooks()
        rows += bench_browser()
    return rows


def machine() -> str:
    mem = ""
    if Path("/proc/meminfo").is_file():
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024**2:.0f} GB RAM"
    import torch  # only for the build string: the CPU or CUDA build changes every figure

    gpu = "no GPU" if not torch.cuda.is_available() else torch.cuda.get_device_name(0)
    return (f"{platform.machine()}, {os.cpu_count()} cores{mem}, {gpu}, Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def report(rows) -> str:
    lines = [f"llm-concepts-lab benchmarks · {time.strftime('%Y-%m-%d')} · {machine()}", ""]
    w = max(len(r[0]) for r in rows)
    lines.append(f"| {'figure':{w}} | {'value':>9} | how |")
    lines.append(f"|{'-' * (w + 2)}|{'-' * 11}|-----|")
    lines += [f"| {name:{w}} | {value:>9} | {how} |" for name, value, how in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
