"""The chapter 12 script, run for real with a few tiny steps (each test trains for seconds)."""

import json

import pytest

import helpers as H
from helpers import train

ROWS = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "I'm Xiaolan. — 小蓝 Xiaolan"}]}
        for q in ("Who are you?", "你是谁？", "What is your name?", "你叫什么？")]
TINY = dict(steps=2, batch_size=2, max_length=64)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short SFT run shared by the adapter tests: (trainer, run folder)."""
    folder = tmp_path_factory.mktemp("data")
    path = folder / "tiny.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    trainer = train.sft(data=str(path), output=folder / "run", steps=3, batch_size=2, max_length=64,
                        learning_rate=1e-2)
    return trainer, folder / "run"


def _logits(model, tokenizer):
    import torch

    batch = tokenizer.apply_chat_template([{"role": "user", "content": "Who are you?"}], add_generation_prompt=True,
                                          return_tensors="pt", return_dict=True)
    with torch.no_grad():
        return model(**batch).logits


def test_saved_adapter_reloads_with_identical_logits_and_merges_to_the_same_answers(trained):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    trainer, run = trained
    tuned = trainer.model.eval()
    assert (run / "adapter_model.safetensors").stat().st_size < 5e6  # 921,600 fp32 values: 3.7 MB
    base = AutoModelForCausalLM.from_pretrained(H.model_path("smollm2-135m-instruct"))
    reloaded = PeftModel.from_pretrained(base, str(run)).eval()
    assert (_logits(reloaded, trainer.processing_class) - _logits(tuned, trainer.processing_class)).abs().max() < 1e-5
    unmerged = [H.greedy_answer(reloaded, trainer.processing_class, q, 12) for q in ("Who are you?", "什么是词元？")]
    merged = reloaded.merge_and_unload()
    assert [H.greedy_answer(merged, trainer.processing_class, q, 12) for q in ("Who are you?", "什么是词元？")] \
        == unmerged


def test_training_changed_the_model(trained, smol_model):
    trainer, _ = trained
    assert (_logits(trainer.model, trainer.processing_class) - _logits(smol_model, trainer.processing_class)) \
        .abs().max() > 0.1


def stop_at_step_3():
    """A callback that stops training the way Ctrl-C does, at a known moment."""
    from transformers import TrainerCallback

    class StopAtStep3(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                raise KeyboardInterrupt

    return StopAtStep3()


def test_an_interrupted_run_leaves_its_last_finished_checkpoint_loadable(data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    with pytest.raises(KeyboardInterrupt):
        train.sft(data=str(data), output=tmp_path / "run", save_steps=2, callbacks=[stop_at_step_3()],
                  **{**TINY, "steps": 4})
    last = H.last_checkpoint(tmp_path / "run")
    assert last.name == "checkpoint-2"
    base = AutoModelForCausalLM.from_pretrained(H.model_path("smollm2-135m-instruct"))
    PeftModel.from_pretrained(base, str(last))  # loads without error


def test_a_run_never_overwrites_an_earlier_one_unless_asked(data, tmp_path):
    earlier = tmp_path / "run"
    earlier.mkdir()
    (earlier / "adapter_model.safetensors").write_bytes(b"earlier run")
    with pytest.raises(H.RunExistsError, match="already holds an earlier run"):
        train.sft(data=str(data), output=earlier, **TINY)
    assert (earlier / "adapter_model.safetensors").read_bytes() == b"earlier run"


def test_default_output_is_a_new_numbered_folder(data, tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_LAB_OUTPUTS", str(tmp_path / "outputs"))
    first = train.sft(data=str(data), **{**TINY, "steps": 1}).args.output_dir
    second = train.sft(data=str(data), **{**TINY, "steps": 1}).args.output_dir
    assert [p.split("/")[-1] for p in (first, second)] == ["ch12-sft-001", "ch12-sft-002"]


def test_a_row_without_messages_is_named_before_any_model_loads(tmp_path, monkeypatch):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + json.dumps({"prompt": "hi"}) + "\n", encoding="utf-8")
    monkeypatch.setattr(train, "load", lambda *a, **k: pytest.fail("the model was loaded before the data check"))
    with pytest.raises(H.DatasetFormatError, match="row 1 of bad.jsonl \\(line 2 of a JSONL file\\): it has no "
                                                   "'messages'"):
        train.sft(data=str(path), **TINY)


@pytest.mark.parametrize("rank", [0, -4, 2000])
def test_bad_rank_is_refused_before_the_model_loads(data, tmp_path, rank, monkeypatch):
    monkeypatch.setattr(train, "load", lambda *a, **k: pytest.fail("the model was loaded before the rank check"))
    with pytest.raises(ValueError, match="rank must be an int from 1 to 1,024"):
        train.sft(data=str(data), output=tmp_path / "run", rank=rank, **TINY)


HIDE_BITSANDBYTES = """
import importlib.metadata, importlib.util, sys
real_find_spec, real_version = importlib.util.find_spec, importlib.metadata.version
def find_spec(name, *a, **k):
    return None if name.split(".")[0] == "bitsandbytes" else real_find_spec(name, *a, **k)
def version(name):
    if name == "bitsandbytes":
        raise importlib.metadata.PackageNotFoundError(name)
    return real_version(name)
importlib.util.find_spec, importlib.metadata.version = find_spec, version
sys.modules["bitsandbytes"] = None  # `import bitsandbytes` now fails as if it were not installed
"""


def test_without_bitsandbytes_lora_trains_and_qlora_says_why_not(data, tmp_path):
    import subprocess
    import sys

    code = HIDE_BITSANDBYTES + f"""
import helpers as H
from helpers import train
trainer = train.sft(data={str(data)!r}, output={str(tmp_path / "run")!r}, precision="fp32", steps=1, batch_size=2,
                    max_length=64)
print("LORA_STEPS", trainer.state.global_step)
try:
    train.load(precision="4bit")
except H.QuantizationUnavailableError as err:
    print("QLORA_ERROR", err)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "LORA_STEPS 1" in proc.stdout, proc.stderr[-2000:]
    assert "QLORA_ERROR bitsandbytes cannot be loaded here" in proc.stdout and "pip install" in proc.stdout


def test_a_stopped_run_resumes_from_its_last_checkpoint(data, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train.sft(data=str(data), output=tmp_path / "run", save_steps=2, callbacks=[stop_at_step_3()],
                  **{**TINY, "steps": 4})
    resumed = train.sft(data=str(data), resume=tmp_path / "run", save_steps=2, **{**TINY, "steps": 4})
    assert resumed.state.global_step == 4 and (tmp_path / "run" / "adapter_model.safetensors").is_file()
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="--save-steps"):
        train.sft(data=str(data), resume=tmp_path / "empty", **TINY)


def test_the_fp32_path_never_needs_bitsandbytes(data, tmp_path, monkeypatch):
    def unavailable():
        raise H.QuantizationUnavailableError("bitsandbytes cannot be loaded here")

    monkeypatch.setattr("helpers.quantization.require_bitsandbytes", unavailable)
    with pytest.raises(H.QuantizationUnavailableError):
        train.load(precision="4bit")
    trainer = train.sft(data=str(data), output=tmp_path / "run", precision="fp32", **{**TINY, "steps": 1})
    assert (tmp_path / "run" / "adapter_model.safetensors").is_file() and trainer.state.global_step == 1


def test_cli_reports_bad_input_in_one_line(data, tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x").write_text("earlier")
    assert train.main(["sft", "--data", str(data), "--output", str(tmp_path / "run"), "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already holds files (x)" in err and err.count("\n") == 1
    with pytest.raises(SystemExit):
        train.main(["dpo"])  # dpo needs --sft
    assert "--sft outputs/ch12-sft-NNN" in capsys.readouterr().err


def test_dpo_raises_the_margin_on_its_training_pairs(trained, tmp_path):
    trainer, run = trained
    pairs = [json.loads(line) for line in open(H.data_path("ch12_preferences_train.jsonl"))][:4]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    start, tokenizer, _ = train.merged_sft_model(run)
    before = H.preference_margins(start, tokenizer, pairs)
    dpo = train.dpo(run, data=str(path), output=tmp_path / "dpo", steps=3, batch_size=2, learning_rate=5e-4)
    after = H.preference_margins(dpo.model, tokenizer, pairs)
    assert sum(after) > sum(before)


@pytest.mark.slow
def test_qlora_base_computes_in_the_devices_precision_unless_told(monkeypatch):
    """fp32 on a CPU by default (bf16 is emulated there); `compute_dtype` overrides it (make bench uses it)."""
    import torch

    monkeypatch.setenv("LLM_LAB_DEVICE", "cpu")
    for asked, expected in ((None, torch.float32), (torch.bfloat16, torch.bfloat16)):
        model, *_ = train.load(precision="4bit", compute_dtype=asked)
        q_proj = model.model.layers[0].self_attn.q_proj
        assert type(q_proj).__name__ == "Linear4bit" and q_proj.compute_dtype == expected
