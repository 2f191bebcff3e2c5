"""Chapter 12's training recipe as a script: SFT with LoRA or QLoRA, then DPO, on one machine or many.

    python -m helpers.train sft                         # CPU defaults: SmolLM2, 40 steps, a few minutes
    python -m helpers.train sft --precision 4bit        # QLoRA: the same on a 4-bit base
    python -m helpers.train sft --resume outputs/ch12-sft-001   # continue a run stopped part-way
    python -m helpers.train dpo --sft outputs/ch12-sft-001
    LLM_LAB_MODEL=Qwen/Qwen2.5-1.5B-Instruct python -m helpers.train sft --steps 300 --batch-size 16
    accelerate launch --num_processes 4 -m helpers.train sft --steps 300   # several GPUs (data parallel)

Every run writes a new folder outputs/ch12-<method>-NNN (checkpoint-N every --save-steps, the
adapter at the end, LLM_LAB_RUN.json with its method and settings) and never overwrites an
earlier run unless --output names one and --overwrite is given; then that run's files go first,
and a folder that is not a run, or also holds other files, is refused. Until the adapter is saved
the folder holds INCOMPLETE.txt: a run stopped by Ctrl-C, a crash or a kill says so, and --resume
continues it. Training stops, saving nothing, at the first NaN or inf loss or weight.

Nothing leaves the machine: the script sets HF_HUB_OFFLINE, HF_DATASETS_OFFLINE and
HF_HUB_DISABLE_TELEMETRY unless you set them, reads the data in memory (no datasets cache) and
writes only into the run folder. Under accelerate launch each process trains on its own
--batch-size examples per step (4 GPUs x 16 = 64 per step) and the main process writes the folder.
The notebook ch12b_fine_tuning.ipynb makes the same calls one cell at a time.
"""

from __future__ import annotations

import argparse
import numbers
import os
import sys
from pathlib import Path

from .checks import int_in, is_number
from .finetune import DatasetFormatError, check_chat_rows
from .lora import check_lora_config
from .notebook import quiet_offline_defaults
from .preference import check_preference_rows
from .runs import (
    _folder,
    _recorded,
    checkpoints,
    is_finished,
    last_checkpoint,
    mark_finished,
    mark_started,
    new_run_dir,
    record_in_run_info,
    run_dir,
)

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
PRECISIONS = ("fp32", "bf16", "4bit")
# The range of every number a run takes, checked before anything loads: (low, high) inclusive.
LIMITS = {"steps": (1, 100_000), "batch_size": (1, 1024), "rank": (1, 1024), "save_steps": (0, 100_000),
          "max_length": (8, 32_768), "seed": (0, 2**32 - 1)}
MAX_LEARNING_RATE = 0.1  # LoRA trains at 1e-4 to 1e-2; at 1 a short run's loss climbed from 5.7 to 13.2
MAX_BETA = 100.0


class NonFiniteError(RuntimeError):
    """The loss or a trained weight became NaN or inf: training stopped before saving it."""


def check_settings(**settings) -> dict:
    """Refuse a number out of its range with one line naming the setting, before any data or model loads.
    Returns the settings as plain Python numbers (a numpy or torch scalar as its int or float), which is
    what LoRA's JSON config and the run record can hold.

    Example: check_settings(steps=0) -> ValueError("steps must be an int from 1 to 100,000, got 0 ...").
    """
    settings = {name: _plain(value) for name, value in settings.items()}
    for name, value in settings.items():
        if value is None:
            continue
        if name in LIMITS:
            lo, hi = LIMITS[name]
            if not int_in(value, lo, hi):
                hint = " (0 saves no checkpoint)" if name == "save_steps" else ""
                raise ValueError(f"{name} must be an int from {lo:,} to {hi:,}{hint}, got {value!r}")
        elif name in ("learning_rate", "beta"):
            top = MAX_LEARNING_RATE if name == "learning_rate" else MAX_BETA
            if isinstance(value, numbers.Number) and not isinstance(value, (int, float)):  # Fraction, Decimal
                raise ValueError(f"{name} must be a plain float such as {1e-3 if name == 'learning_rate' else 0.1}, "
                                 f"got {type(value).__name__} {value!r}: pass float({name})")
            if not is_number(value) or not 0 < value <= top:  # False for nan and inf too
                raise ValueError(f"{name} must be a number above 0 and at most {top:g}, got {value!r}"
                                 + (" (LoRA trains well at 1e-4 to 1e-3)" if name == "learning_rate" else ""))
    return settings


def load(model_name: str | None = None, precision: str | None = None, *, trust_remote_code: bool | None = None,
         compute_dtype=None):
    """(model, tokenizer, device, precision) with the project's device policy; 4bit = QLoRA's NF4 base.

    trust_remote_code defaults to H.trust_remote_code(): False unless LLM_LAB_TRUST_REMOTE_CODE=1.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .device import pick_device
    from .models import check_generator, default_model, model_path
    from .models import trust_remote_code as trust_setting
    from .quantization import quantization_config, require_bitsandbytes

    if trust_remote_code is None:
        trust_remote_code = trust_setting()
    name = model_name or default_model()
    check_generator(name)  # an embedder or a tokenizer would load with a random LM head and train nonsense
    path = model_path(name)
    device = pick_device()
    precision = precision or ("bf16" if device == "cuda" and torch.cuda.is_bf16_supported() else "fp32")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    if precision == "4bit":
        require_bitsandbytes()
        from accelerate import PartialState
        from peft import prepare_model_for_kbit_training

        # under accelerate launch each process puts its copy on its own GPU, not all on cuda:0
        placement = {"": PartialState().process_index} if device == "cuda" else device
        model = AutoModelForCausalLM.from_pretrained(path, device_map=placement, trust_remote_code=trust_remote_code,
                                                     **quantization_config("4-bit NF4 + double quant", compute_dtype))
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=quantization_config(precision)["dtype"],
                                                     trust_remote_code=trust_remote_code)
        if device != "cuda":  # on GPUs the Trainer places each process's copy on its own device
            model = model.to(device)
    return model, tokenizer, device, precision


def lora_config(rank: int = 8, targets=TARGETS):
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=list(targets),
                      task_type="CAUSAL_LM")


def _output(method: str, output, overwrite: bool) -> Path:
    """The run folder, chosen once on the main process and shared with the others under accelerate launch."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    from .device import pick_device

    # cpu=True on a CPU: without it accelerate sees no GPU, takes `accelerate launch --multi_gpu` for one process,
    # and every process would pick (and fill) a run folder of its own
    state = PartialState(cpu=pick_device() == "cpu")
    chosen = [None]
    if state.is_main_process:
        chosen = [str(run_dir(output, overwrite=overwrite) if output else new_run_dir(f"ch12-{method}"))]
    if state.num_processes > 1:
        broadcast_object_list(chosen)
    return Path(chosen[0])


def _common(device: str, precision: str, steps: int, batch_size: int, learning_rate: float, save_steps, seed: int):
    """Training arguments shared by SFTConfig and DPOConfig, one comment each."""
    return dict(
        max_steps=steps,  # optimizer steps (not epochs): the run's length is fixed whatever the data size
        per_device_train_batch_size=batch_size,  # examples per step on each device
        learning_rate=learning_rate,  # LoRA tolerates much larger rates than full fine-tuning
        lr_scheduler_type="constant",  # a short run: no warm-up or decay to tune
        logging_steps=min(5, max(1, steps // 4)),  # every 5 steps; a short run logs more often, so a rise shows
        logging_first_step=True,  # the first loss is the baseline the curve is judged against
        save_strategy="steps" if save_steps else "no", save_steps=save_steps or steps,  # checkpoint-N folders
        report_to="none",  # no wandb / tensorboard: nothing leaves the machine
        use_cpu=device == "cpu",
        bf16=precision in ("bf16", "4bit") and device == "cuda",  # mixed precision only where the GPU has bf16
        gradient_checkpointing=False,  # trades compute for memory; a small model does not need it
        seed=seed, data_seed=seed,  # same data order and same LoRA initialisation every run
        disable_tqdm=True,  # the loss log is printed every logging_steps instead of a progress bar
    )


def _data_file(data) -> Path:
    """The file `data` names: a path, or a bare name in the project's data/ folder."""
    from .store import data_path

    if not isinstance(data, (str, os.PathLike)):
        raise TypeError(f"data must be a file name or path (str), or a list of rows; got {type(data).__name__}")
    if not os.fspath(data).strip():
        raise DatasetFormatError("--data is empty; pass a .jsonl file, e.g. data/ch12_sft_train.jsonl")
    path = Path(data).expanduser()
    if path.is_file():  # a path from the current folder, e.g. data/ch12_sft_train.jsonl or ~/my.jsonl
        return path
    if path.is_dir() or len(path.parts) > 1:  # data_path says "a folder" / "no file", listing only our data
        return data_path(str(path.resolve()))
    return data_path(str(data))  # a bare name in the project's data/ folder


def read_jsonl(path) -> list:
    """The rows of a JSONL file (one JSON value per line; a JSON array file also works), read as UTF-8.

    Each problem is one line naming the file and line: not UTF-8, a line that is not JSON, a blank
    line in the middle, no rows at all. Read in memory: nothing is cached outside the run.
    """
    import json

    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raise DatasetFormatError(f"{path.name} is gzip-compressed; unpack it first (gunzip {path.name})")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DatasetFormatError(f"{path.name} is UTF-16 text (as Windows Notepad saves 'Unicode'); save it as "
                                 "UTF-8 instead")
    try:
        text = raw.decode("utf-8-sig")  # -sig: a byte-order mark from Windows editors is fine
    except UnicodeDecodeError as err:
        raise DatasetFormatError(f"{path.name} is not UTF-8 text (byte {err.start}); save it as UTF-8 (from "
                                 f"Latin-1, for example: iconv -f latin1 -t utf-8 {path.name})") from None
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except ValueError as err:
            hint = ("; it looks like JSON Lines whose lines are arrays: each line must be one JSON object"
                    if err.msg == "Extra data" else "")
            raise DatasetFormatError(f"{path.name} starts with '[' but is not a JSON array ({err}){hint}") from None
    else:
        lines = text.rstrip().split("\n") if text.strip() else []
        rows = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                raise DatasetFormatError(f"line {number} of {path.name} is blank; each line must be one JSON "
                                         "object (remove the empty line)")
            try:
                rows.append(json.loads(line))
            except ValueError as err:
                raise DatasetFormatError(f"line {number} of {path.name} is not valid JSON ({err.msg} at "
                                         f"character {err.pos + 1}); each line must be one complete JSON "
                                         "object") from None
    if not rows:
        raise DatasetFormatError(f"{path.name} is empty: it has no rows; each line must be one JSON row like "
                                 '{"messages": [...]}')
    return rows


def _load_rows(data, check) -> list:
    """The rows of a data file (or a list of rows), checked row by row before any model loads, kept in memory."""
    if isinstance(data, list):
        check(data, "the rows passed as data")
        return data
    path = _data_file(data)
    rows = read_jsonl(path)
    check(rows, path.name)
    return rows


# What a resumed run must share with the run it continues (steps may grow: that is what resuming is for).
SAME_ON_RESUME = ("model", "data", "rank", "batch_size", "learning_rate", "max_length", "precision", "seed")


def _data_name(data) -> str:
    """How a run records its data: the file's full path, or "rows" for rows passed in memory."""
    return "rows" if isinstance(data, list) else str(_data_file(data).resolve())


def _check_resume(run, steps: int, settings: dict) -> Path:
    """The checkpoint an SFT run continues from, after checking the run can be continued with these settings."""
    import json

    checkpoint = last_checkpoint(run)  # no folder, a checkpoint instead of its run, none finished: one line each
    info = _recorded(run)
    method = info.get("method", "sft")
    if method != "sft":
        raise ValueError(f"{run} is a {method} run; `sft --resume` continues an SFT run")
    if is_finished(run):
        raise ValueError(f"{run} has finished (its adapter is saved); --resume continues a stopped run. To train "
                         "longer, start a new run")
    done = int(checkpoint.name.split("-")[1])
    if steps <= done:
        raise ValueError(f"{checkpoint} is at step {done}, and steps={steps} is not beyond it: raise --steps to "
                         "continue")
    for key in SAME_ON_RESUME:
        if key in info and settings.get(key) is not None and settings[key] != info[key]:
            flag = "--" + key.replace("_", "-")
            raise ValueError(f"{run} was trained with {flag} {info[key]}, not {settings[key]}: --resume continues it "
                             f"with its own settings, so leave out {flag} ({key}=)")
    try:
        saved = json.loads((checkpoint / "adapter_config.json").read_text()).get("r")
    except (OSError, ValueError, AttributeError):  # missing, not JSON, or JSON but not an object
        raise ValueError(f"{checkpoint}/adapter_config.json is damaged; resume from an earlier checkpoint (move "
                         f"{checkpoint.name} aside) or start a new run") from None
    if settings.get("rank") is not None and saved is not None and saved != settings["rank"]:
        raise ValueError(f"{checkpoint} was trained with --rank {saved}; resume it with --rank {saved} "
                         f"(not {settings['rank']})")
    return checkpoint


def _first_batches(trainer, n: int = 4) -> list[dict]:
    """Up to n batches of the training data as the trainer collates them, drawn without disturbing the run's
    random state: a yardstick for the saved adapter, which no logged loss measures (each is taken before its step)."""
    import itertools

    import torch

    with torch.random.fork_rng():
        batches = list(itertools.islice(trainer.get_train_dataloader(), n))
    return batches


def _batch_loss(trainer, batches: list[dict], method: str) -> float:
    """The mean training loss of these batches with the weights as they are now: SFT's loss on the answer
    tokens, or DPO's own loss (its reference is the model with the adapter switched off)."""
    import torch

    model = trainer.model
    was_training = model.training
    model.eval()
    with torch.no_grad():
        if method == "sft":
            keys = ("input_ids", "attention_mask", "labels")
            losses = [float(model(**{k: b[k] for k in keys if k in b}).loss) for b in batches]
        else:
            losses = [float(trainer.compute_loss(model, b)) for b in batches]
    model.train(was_training)
    return sum(losses) / len(losses)


def _check_prompt_lengths(rows, tokenizer, max_length: int) -> None:
    """Refuse rows whose prompt alone fills max_length: their answer would be cut away, leaving nothing to learn."""
    for i, row in enumerate(rows):
        n = len(tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True,
                                              return_dict=True)["input_ids"])
        if n >= max_length:
            raise DatasetFormatError(f"row {i}'s prompt is {n:,} tokens, and max_length is {max_length}: its answer "
                                     f"would be cut off. Raise --max-length (to {n + 64}, say) or shorten the prompt")


def finite_guard():
    """A TrainerCallback that stops training at the first step whose weights or logged loss are NaN or inf.

    It runs after each optimizer step and before that step's checkpoint is written, so nothing
    non-finite is saved: the folder keeps only the finished, finite checkpoints before it.
    """
    import math

    import torch
    from transformers import TrainerCallback

    class FiniteGuard(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            for name, p in model.named_parameters():
                if p.requires_grad and not torch.isfinite(p).all():
                    raise NonFiniteError(f"training stopped at step {state.global_step}: {name} became NaN or "
                                         "inf (learning rate too high?); that step was not saved")

        def on_log(self, args, state, control, logs=None, **kwargs):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(loss):
                raise NonFiniteError(f"training stopped at step {state.global_step}: the loss is {loss} "
                                     "(learning rate too high?); that step was not saved")

    return FiniteGuard()


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; the message says which checkpoint is complete and how to continue."""


def _train(trainer, out: Path, method: str, checkpoint=None, settings=None) -> None:
    """Train with the run folder marked unfinished until the result is saved; say how to go on if it stops."""
    main = trainer.is_world_process_zero()  # under accelerate launch only the main process writes the record
    if main:
        mark_started(out, method, settings)  # on a resume too: the record then holds the new --steps
    probe = _first_batches(trainer)  # no logged loss judges the saved adapter: each is taken before its step
    before = _batch_loss(trainer, probe, method)
    try:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except (KeyboardInterrupt, NonFiniteError) as err:
        state = _unfinished(out, method)
        if isinstance(err, NonFiniteError):
            raise NonFiniteError(f"{err}. {state}") from None
        raise RunInterrupted(f"stopped at step {trainer.state.global_step}. {state}") from None
    try:  # the run is finished only once its adapter is saved and judged, and the verdict recorded
        _save(trainer, trainer.processing_class, out)
        after = _batch_loss(trainer, probe, method)
        warning = None
        if after > before:  # the saved adapter is worse than the start on data it trained on
            warning = (f"on the first training batches the loss rose from {before:.2f} before training to "
                       f"{after:.2f} with the saved adapter; the learning rate is probably too high (try 1e-4 to 1e-3)")
        verdict = {"warning": warning} if warning else {}  # kept for a notebook that loads it: H.run_info(run)
        if main:
            record_in_run_info(out, first_batches_loss={"before": round(before, 4), "after": round(after, 4)},
                               **verdict)
            mark_finished(out)
    except KeyboardInterrupt:
        raise RunInterrupted(f"stopped after training step {trainer.state.global_step}, while saving and checking the "
                             f"adapter. {_unfinished(out, method)}") from None
    if warning and main:
        print(f"warning: {warning}", file=sys.stderr)


def _unfinished(out: Path, method: str) -> str:
    """What a stopped run folder holds and how to go on, in one sentence."""
    done = checkpoints(out)
    state = (f"{out} is unfinished; its last finished checkpoint is {done[-1].name}" if done else
             f"{out} is unfinished and holds no finished checkpoint")
    if done and method == "sft":
        state += f"; continue with: python -m helpers.train sft --resume {out}"
    elif method == "dpo" or not done:
        state += "; start the run again to get its adapter"
    return state


SFT_DEFAULTS = dict(data="ch12_sft_train.jsonl", steps=40, batch_size=4, learning_rate=1e-3, rank=8, max_length=128,
                    save_steps=None, seed=0, precision=None)


def sft(model_name=None, *, data=None, output=None, overwrite=False, steps=None, batch_size=None, learning_rate=None,
        rank=None, precision=None, max_length=None, save_steps=None, seed=None, callbacks=(), resume=None,
        compute_dtype=None):
    """Supervised fine-tuning with LoRA (QLoRA: precision='4bit'); returns the trainer, adapter in output_dir.

    Defaults: SFT_DEFAULTS (40 steps of data/ch12_sft_train.jsonl at batch 4, rank 8, learning rate 1e-3).
    compute_dtype: what 4-bit layers compute in (default: the device's, see H.quantization_config).

    resume: a run folder stopped part-way; training continues from its last finished checkpoint-N
    in that same folder with the settings it recorded (pass steps= to train it further).
    """
    quiet_offline_defaults()
    if resume is not None:
        resume = _folder(resume)  # "~" expanded, "" refused
    if resume and output:
        raise ValueError(f"resume continues {resume} in that same folder; leave out output ({output})")
    from .models import default_model

    given = dict(model=model_name, data=data, steps=steps, batch_size=batch_size, learning_rate=learning_rate,
                 rank=rank, max_length=max_length, save_steps=save_steps, seed=seed, precision=precision)
    recorded = _recorded(resume) if resume else {}
    given = {k: _plain(v) for k, v in given.items()}  # numpy / torch numbers recorded as numbers, not as text
    s = {k: v if v is not None else recorded.get(k, SFT_DEFAULTS.get(k)) for k, v in given.items()}
    s["model"] = s["model"] or default_model()
    if s["data"] == "rows":
        raise ValueError(f"{resume} was trained on rows passed in memory; pass the same rows again as data=")
    check_settings(**{k: s[k] for k in ("steps", "batch_size", "learning_rate", "rank", "max_length", "save_steps",
                                        "seed")})
    model_name, data, steps, batch_size, learning_rate, rank, max_length, save_steps, seed, precision = (
        s[k] for k in ("model", "data", "steps", "batch_size", "learning_rate", "rank", "max_length", "save_steps",
                       "seed", "precision"))
    # prompt = every turn but the last, completion = the answer: the loss is computed on the answer only
    rows = [{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in _load_rows(data, check_chat_rows)]
    settings = {**s, "data": _data_name(data)}
    explicit = {k: v for k, v in given.items() if v is not None}  # what the caller asked for, not the defaults
    if "data" in explicit:
        explicit["data"] = settings["data"]
    checkpoint = _check_resume(resume, steps, explicit) if resume else None  # before loading anything: fail fast
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model, tokenizer, device, precision = load(model_name, precision, compute_dtype=compute_dtype)
    _check_prompt_lengths(rows, tokenizer, max_length)
    peft_config = lora_config(rank)
    print(check_lora_config(model, peft_config))
    out = Path(resume) if resume else _output("sft", output, overwrite)  # checked writable before training
    args = SFTConfig(output_dir=str(out), max_length=max_length,
                     **_common(device, precision, steps, batch_size, learning_rate, save_steps, seed))
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=peft_config, callbacks=[*callbacks, finite_guard()])
    _train(trainer, out, "sft", checkpoint, {**settings, "precision": precision})  # precision as resolved
    return trainer


def _save(trainer, tokenizer, out: Path) -> None:
    trainer.save_model(str(out))  # the adapter only: adapter_config.json + adapter_model.safetensors
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out))


def _plain(value):
    """A numpy or torch scalar as the Python number it holds (so LLM_LAB_RUN.json records 0.001, not '0.001')."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) == 0:
        return value.item()
    return value


def _same_base(sft_run, recorded, asked):
    """The base model DPO loads: the one the SFT run was trained on; another one asked for is refused."""
    from .models import default_model, model_path

    if not recorded:  # an SFT run made by hand in a notebook records nothing: use what was asked
        return asked or default_model()
    if asked is None:
        return recorded
    try:
        same = model_path(asked).resolve() == model_path(recorded).resolve()
    except (OSError, ValueError, LookupError):
        same = asked == recorded
    if not same:
        raise ValueError(f"{sft_run} was trained on {recorded}, so its adapter only fits that model; leave out "
                         f"--model (dpo then uses {recorded}) or pass --model {recorded}")
    return recorded


def merged_sft_model(sft_run, model_name=None):
    """(model, tokenizer, precision): the base with an SFT adapter merged in, DPO's start and reference."""
    from peft import PeftModel

    model, tokenizer, _, precision = load(model_name)
    try:
        adapted = PeftModel.from_pretrained(model, str(sft_run))
    except RuntimeError as err:  # a 190-line list of shape mismatches: another base model
        if "size mismatch" not in str(err):
            raise
        raise ValueError(f"the adapter in {sft_run} was trained on another base model than "
                         f"{model_name or 'the default model'} (its shapes do not fit); pass the SFT run's "
                         "model with --model") from None
    return adapted.merge_and_unload(), tokenizer, precision


def dpo(sft_run, model_name=None, *, data="ch12_preferences_train.jsonl", output=None, overwrite=False, steps=20,
        batch_size=4, learning_rate=3e-4, beta=0.1, rank=8, max_length=128, save_steps=None, seed=0, callbacks=()):
    """DPO with a fresh LoRA adapter on the merged SFT model; the frozen SFT model is the reference."""
    quiet_offline_defaults()
    steps, batch_size, learning_rate, beta, rank, max_length, save_steps, seed = check_settings(
        steps=steps, batch_size=batch_size, learning_rate=learning_rate, beta=beta, rank=rank,
        max_length=max_length, save_steps=save_steps, seed=seed).values()
    rows = _load_rows(data, check_preference_rows)
    if not isinstance(sft_run, (str, os.PathLike)) or not os.fspath(sft_run).strip():
        raise TypeError(f"dpo starts from an SFT run folder, e.g. 'outputs/ch12-sft-001'; got {sft_run!r}")
    if not Path(sft_run, "adapter_model.safetensors").is_file():
        raise FileNotFoundError(f"{sft_run} holds no SFT adapter (adapter_model.safetensors); pass the folder an "
                                "sft run printed, e.g. --sft outputs/ch12-sft-001")
    sft_info = _recorded(sft_run)
    if sft_info.get("method", "sft") != "sft":
        raise ValueError(f"{sft_run} is a {sft_info['method']} run; dpo starts from an SFT run")
    model_name = _same_base(sft_run, sft_info.get("model"), model_name)
    if not is_finished(sft_run):
        raise ValueError(f"{sft_run} is unfinished (it holds INCOMPLETE.txt); finish it with `sft --resume "
                         f"{sft_run}`, then start dpo from it")
    if output and Path(output).expanduser().resolve() == Path(sft_run).expanduser().resolve():
        raise ValueError(f"output {output} is the SFT run dpo starts from; choose another folder")
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    dataset = Dataset.from_list(rows)
    model, tokenizer, precision = merged_sft_model(sft_run, model_name)
    _check_prompt_lengths(rows, tokenizer, max_length)
    peft_config = lora_config(rank)
    print(check_lora_config(model, peft_config))
    out = _output("dpo", output, overwrite)
    from .device import pick_device

    args = DPOConfig(output_dir=str(out), max_length=max_length, beta=beta,
                     loss_type=["sigmoid", "sft"],  # DPO's loss plus the chosen answers' NLL keeps the text fluent
                     **_common(pick_device(), precision, steps, batch_size, learning_rate, save_steps, seed))
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config, callbacks=[*callbacks, finite_guard()])
    _train(trainer, out, "dpo", settings=dict(sft=str(sft_run), model=model_name, data=str(data), steps=steps,
                                               rank=rank, learning_rate=learning_rate, beta=beta))
    return trainer


def main(argv=None) -> int:
    quiet_offline_defaults()  # before datasets, huggingface_hub or transformers is imported
    parser = argparse.ArgumentParser(prog="python -m helpers.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("method", choices=("sft", "dpo"))
    parser.add_argument("--model", help="bundled name, folder or cached hub id (default: $LLM_LAB_MODEL or SmolLM2)")
    parser.add_argument("--sft", help="dpo only: the SFT run folder whose adapter is merged first")
    parser.add_argument("--data", help="a JSONL file (default: the chapter's data/ch12_*_train.jsonl)")
    parser.add_argument("--output", help="run folder (default: a new outputs/ch12-<method>-NNN)")
    parser.add_argument("--overwrite", action="store_true", help="allow --output to name a folder that holds a "
                        "run; that run's files are removed first")
    parser.add_argument("--steps", type=int, help=_range("steps"))
    parser.add_argument("--batch-size", type=int, help=_range("batch_size"))
    parser.add_argument("--learning-rate", type=float, help=f"above 0, at most {MAX_LEARNING_RATE:g}")
    parser.add_argument("--rank", type=int, help=_range("rank") + ", at most the smaller side of "
                        "each trained matrix")
    parser.add_argument("--max-length", type=int, help=_range("max_length") + " tokens per chat (default 128)")
    parser.add_argument("--precision", choices=PRECISIONS, help="sft only (default: bf16 on a bf16 GPU, else fp32)")
    parser.add_argument("--save-steps", type=int, help="write checkpoint-N every this many steps "
                        "(default 20; 0 for none)")
    parser.add_argument("--resume", metavar="RUN", help="sft only: continue a stopped run from its last checkpoint")
    args = parser.parse_args(argv)
    common = {k: v for k, v in dict(output=args.output, overwrite=args.overwrite, steps=args.steps,
                                    batch_size=args.batch_size, learning_rate=args.learning_rate, rank=args.rank,
                                    max_length=args.max_length,
                                    save_steps=args.save_steps, data=args.data).items() if v is not None}
    if args.method == "dpo" and (args.precision or args.resume):
        parser.error("--precision and --resume are for sft; dpo uses the precision of the SFT run's base model")
    if args.resume and args.output:
        parser.error(f"--resume continues {args.resume} in that same folder; leave out --output")
    for flag in ("resume", "output", "model", "sft", "data"):  # an unset shell variable: "" is not a folder
        if getattr(args, flag) is not None and not getattr(args, flag).strip():
            parser.error(f"--{flag} is empty; name a folder or file (an unset shell variable?)")
    if not args.resume:  # a resumed run keeps the checkpoints it recorded; sft() fills in its settings
        common.setdefault("save_steps", 20)
    if args.method == "dpo" and not args.sft:
        parser.error("dpo starts from an SFT run: pass --sft outputs/ch12-sft-NNN")
    try:
        if args.method == "sft":
            trainer = sft(args.model, precision=args.precision, resume=args.resume, **common)
        else:
            trainer = dpo(args.sft, args.model, **common)
    except RunInterrupted as err:
        print(f"{err}", file=sys.stderr)
        return 130  # the shell's code for Ctrl-C
    except KeyboardInterrupt:  # during imports or loading: nothing was trained
        print("stopped (Ctrl-C) before training started; nothing was trained", file=sys.stderr)
        return 130
    except NonFiniteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (ValueError, OSError, LookupError, RuntimeError, MemoryError) as err:  # bad input: a line, no traceback
        message = str(err).strip() or type(err).__name__
        if "can't allocate memory" in message or isinstance(err, MemoryError):
            message = (f"out of memory at --batch-size {common.get('batch_size', 4)}: lower it (4 to 16 on a CPU) "
                       "or --max-length")
        print(f"error: {message}", file=sys.stderr)
        return 2
    except Exception as err:  # e.g. safetensors' SafetensorError on a damaged file: still one line
        if type(err).__module__.split(".")[0] not in ("safetensors", "datasets", "transformers", "peft", "trl"):
            raise
        print(f"error: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}", file=sys.stderr)
        return 2
    if trainer.is_world_process_zero():
        print(f"saved to {trainer.args.output_dir}")
    return 0


def _range(name: str) -> str:
    lo, hi = LIMITS[name]
    return f"an int from {lo:,} to {hi:,}"


if __name__ == "__main__":
    sys.exit(main())
