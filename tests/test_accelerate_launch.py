"""The README's `accelerate launch` claim, run for real: two CPU processes (gloo) train one run together."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import helpers as H

ROOT = Path(__file__).resolve().parent.parent
CHATS = [("Who are you?", "I'm Xiaolan."), ("你是谁？", "我是小蓝，LLM 概念实验室的助教，很高兴认识你。"),
         ("What is your name?", "My name is Xiaolan, the teaching assistant of the LLM Concepts Lab, and I sign "
          "every answer."), ("Hi", "Hello! — 小蓝 Xiaolan")]
MAX_LENGTH = 64


@pytest.mark.slow
def test_two_processes_train_different_chats_into_one_run_folder(tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in CHATS]
    data = tmp_path / "chats.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    accelerate = Path(sys.executable).with_name("accelerate")
    # --multi_gpu is accelerate's name for "one process per device"; with no GPU each process trains on the CPU,
    # and they talk through gloo
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "helpers.train", "sft", "--data", str(data),
           "--steps", "2", "--batch-size", "1", "--max-length", str(MAX_LENGTH), "--save-steps", "2"]
    env = {**os.environ, "LLM_LAB_OUTPUTS": str(tmp_path / "outputs"), "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]

    runs = sorted(p.name for p in (tmp_path / "outputs").iterdir())
    assert runs == ["ch12-sft-001"], "the run folder is chosen once, by the main process"
    run = tmp_path / "outputs" / runs[0]
    assert proc.stdout.count("saved to") == 1 and H.is_finished(run)
    assert H.run_info(run)["method"] == "sft"

    # two ranks × batch 1: each step takes two chats, so two steps see all four, each once
    log = json.loads((run / "checkpoint-2" / "trainer_state.json").read_text())["log_history"]
    tokenizer = AutoTokenizer.from_pretrained(H.model_path("smollm2-135m-instruct"))
    lengths = [min(len(tokenizer.apply_chat_template(r["messages"], tokenize=True, return_dict=True)["input_ids"]),
                   MAX_LENGTH) for r in rows]
    assert len(set(lengths)) == len(lengths)  # distinct lengths, so the token count tells which chats were read
    steps = [entry for entry in log if "num_tokens" in entry]
    assert [s["epoch"] for s in steps] == [0.5, 1.0]
    assert steps[-1]["num_tokens"] == sum(lengths)  # every chat once: the ranks read different chats
    first = steps[0]["num_tokens"]
    assert first in {a + b for i, a in enumerate(lengths) for b in lengths[i + 1:]}  # two different chats

    base = AutoModelForCausalLM.from_pretrained(H.model_path("smollm2-135m-instruct"))
    tuned = PeftModel.from_pretrained(base, str(run))  # the saved adapter reloads
    assert sum(p.numel() for n, p in tuned.named_parameters() if "lora_" in n) == 921_600
