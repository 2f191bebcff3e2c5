"""Run folders（训练运行目录）: where a training run writes, what it leaves if it stops, and how it is resumed.

    run = H.new_run_dir("ch12-sft")          # outputs/ch12-sft-001, -002, ... never reused
    H.run_dir("my-run", overwrite=True)      # a folder you name; an earlier run in it is replaced
    H.last_checkpoint(run)                   # the newest finished checkpoint-N, for --resume

A run made by helpers/train.py also holds LLM_LAB_RUN.json (its method and settings, kept) and,
until its adapter is saved, INCOMPLETE.txt: a run stopped by Ctrl-C, a crash or a kill says so.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

INCOMPLETE = "INCOMPLETE.txt"
RUN_INFO = "LLM_LAB_RUN.json"
# What a training run writes (Trainer, PEFT, TRL, the tokenizer, our two markers), at the top and
# inside checkpoint-N: an overwrite removes these, and only in a folder that is a run.
RUN_FILES = re.compile(r"checkpoint-\d+|README\.md|adapter_(config\.json|model\.safetensors)|training_args\.bin|"
                       r"trainer_state\.json|tokenizer(_config)?\.json|special_tokens_map\.json|chat_template\.jinja|"
                       r"added_tokens\.json|vocab\.json|merges\.txt|INCOMPLETE\.txt|LLM_LAB_RUN\.json")
CHECKPOINT_FILES = re.compile(RUN_FILES.pattern + r"|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state(_\d+)?\.pth")


class RunExistsError(FileExistsError):
    """A run folder that already holds an earlier run, or files a run does not make."""


def outputs_dir() -> Path:
    """Where runs go: $LLM_LAB_OUTPUTS or <project>/outputs (git-ignored). The tests point it at a temp folder."""
    env = os.environ.get("LLM_LAB_OUTPUTS")
    return Path(env).expanduser() if env else Path(__file__).resolve().parent.parent / "outputs"


def _folder(path, what: str = "run") -> Path:
    if path is None or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"pass the {what} folder as a path (str or Path), e.g. 'outputs/ch12-sft-001'; "
                        f"got {type(path).__name__}")
    if not os.fspath(path).strip():
        raise ValueError(f"the {what} folder is empty (''); name a folder, e.g. 'outputs/ch12-sft-001'")
    return Path(path).expanduser()


def new_run_dir(name: str, root: Path | str | None = None) -> Path:
    """Create and return a new, empty folder `<root>/<name>-NNN` (outputs/ by default, see outputs_dir).

    The number is one more than the highest existing run of that name, so an earlier run is never
    overwritten. Example: new_run_dir("ch12-sft") -> outputs/ch12-sft-003 when -001 and -002 exist.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ValueError(f"run name must be letters, digits, '-', '_' or '.', e.g. 'ch12-sft'; got {name!r}")
    root = _folder(root, "runs") if root is not None else outputs_dir()
    if root.exists() and not root.is_dir():
        raise RunExistsError(f"runs go into {root}, but that is a file; set LLM_LAB_OUTPUTS (or root=) to a folder")
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for p in root.iterdir() if (m := re.fullmatch(re.escape(name) + r"-(\d+)", p.name))]
    number = max(taken, default=0) + 1
    while True:  # mkdir without exist_ok: two kernels starting at once still get different folders
        path = root / f"{name}-{number:03d}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            number += 1


def is_run(path: Path | str) -> bool:
    """True for a folder a training run wrote: one of its markers, an adapter, or a finished checkpoint."""
    path = _folder(path)
    markers = (RUN_INFO, INCOMPLETE, "trainer_state.json", "adapter_model.safetensors")
    return any((path / f).is_file() for f in markers) or \
        any((p / "trainer_state.json").is_file() for p in path.glob("checkpoint-*"))


def _not_made_by_a_run(path: Path) -> list[str]:
    """Names in a run folder (and its checkpoint-N folders) that no training run writes."""
    foreign = [p.name for p in sorted(path.iterdir()) if not RUN_FILES.fullmatch(p.name)]
    for checkpoint in sorted(path.glob("checkpoint-*")):
        if checkpoint.is_dir():
            foreign += [f"{checkpoint.name}/{p.name}" for p in sorted(checkpoint.iterdir())
                        if not CHECKPOINT_FILES.fullmatch(p.name)]
        elif not checkpoint.is_file():
            foreign.append(checkpoint.name)
    return foreign


def run_dir(path: Path | str, *, overwrite: bool = False) -> Path:
    """Use a folder you name for a run: refused if it already holds files, unless overwrite=True.

    overwrite=True removes an earlier *run* (checkpoints, adapter, logs) so nothing of it can be
    resumed by mistake. A folder that is not a run (your notes, a saved tokenizer), or a run that
    also holds files no run makes, is refused, never emptied. The folder must be writable: that is
    checked now, not at the first save after training.
    """
    path = _folder(path, "output")
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False, got {overwrite!r}")
    if path.exists() and not path.is_dir():
        raise RunExistsError(f"{path} is a file, not a folder; choose another output folder")
    held = sorted(path.iterdir()) if path.is_dir() else []
    if held and not overwrite:
        what = "an earlier run" if is_run(path) else f"files ({', '.join(p.name for p in held[:5])})"
        raise RunExistsError(f"{path} already holds {what}; choose a new folder (or leave it out to get "
                             "a fresh outputs/<name>-NNN)" + (", or pass overwrite=True / --overwrite to replace it"
                                                             if is_run(path) else ""))
    if held:
        if not is_run(path):
            raise RunExistsError(f"{path} holds files but no training run ({', '.join(p.name for p in held[:5])}); "
                                 "overwrite only replaces a run. Choose another output folder")
        foreign = _not_made_by_a_run(path)
        if foreign:
            raise RunExistsError(f"{path} holds files that no training run makes ({', '.join(foreign[:5])}); "
                                 "overwrite only replaces a run. Move them, or choose another output folder")
        import shutil

        for p in held:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        print(f"{path}: removed the earlier run ({', '.join(p.name for p in held)})")
    path.mkdir(parents=True, exist_ok=True)
    _check_writable(path)
    return path


def _check_writable(path: Path) -> None:
    probe = path / ".llm-lab-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise PermissionError(f"cannot write into {path} ({err.strerror}); choose an output folder you can "
                              "write to") from None


def mark_started(run: Path | str, method: str, settings: dict | None = None) -> None:
    """Record what the run is (LLM_LAB_RUN.json, kept) and mark it unfinished (INCOMPLETE.txt) until mark_finished."""
    run = Path(run)
    _write_record(run, {"method": method, **(settings or {})})
    how = (f"If it holds a checkpoint-N folder with trainer_state.json, continue it with:\n"
           f"    python -m helpers.train sft --resume {run}\nIf it holds none, start the run again.\n"
           if method == "sft" else "Start it again to get its adapter.\n")
    (run / INCOMPLETE).write_text(f"This {method} run has not finished: it was stopped, or is still training.\n"
                                  "Its finished checkpoints are the checkpoint-N folders that hold "
                                  f"trainer_state.json.\n{how}", encoding="utf-8")


def mark_finished(run: Path | str) -> None:
    Path(run, INCOMPLETE).unlink(missing_ok=True)


def _write_record(run: Path | str, info: dict) -> None:
    Path(run, RUN_INFO).write_text(json.dumps(info, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")


def record_in_run_info(run: Path | str, **fields) -> None:
    """Add fields to a run's LLM_LAB_RUN.json (a warning, a measured loss), so whoever loads the run sees them."""
    _write_record(run, {**_recorded(run), **fields})


def _read_record(run: Path | str) -> dict | None:
    """What LLM_LAB_RUN.json holds; None when there is none; ValueError when it is not a JSON object."""
    path = Path(run, RUN_INFO)
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        info = None
    if not isinstance(info, dict):
        raise ValueError(f"{path} is damaged (not a JSON object), so this run's settings and any warning are "
                         "unknown; train the run again, or delete the file if you made the folder by hand")
    return info


def _recorded(run: Path | str) -> dict:
    """What LLM_LAB_RUN.json holds, {} when it is absent or damaged (the training code's lenient read)."""
    try:
        return _read_record(run) or {}
    except ValueError:
        return {}


def run_info(run: Path | str) -> dict:
    """The method and settings a run recorded ({} for a run made by hand in a notebook), and after training
    its first batches' loss before and with the saved adapter, and a warning when that loss rose.

    A checkpoint-N folder gives its run's record (H.run_info(H.last_checkpoint(run)) works); a path
    that is not a folder is refused, so a typo never reads as "a run with no warning".
    """
    from .checks import short_repr

    folder = _folder(run)
    if not folder.is_dir():
        state = "is a file, not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"{short_repr(str(folder))} {state}; pass a run folder such as "
                                "outputs/ch12-sft-001 (a training run prints its folder when it starts)")
    if re.fullmatch(r"checkpoint-\d+", folder.name) and not (folder / RUN_INFO).is_file():
        folder = folder.parent  # the record lives in the run folder, beside its checkpoints
    return _read_record(folder) or {}


def is_finished(run: Path | str) -> bool:
    """A run whose adapter was saved and that is not marked INCOMPLETE."""
    run = _folder(run)
    return (run / "adapter_model.safetensors").is_file() and not (run / INCOMPLETE).exists()


def _readable_weights(checkpoint: Path) -> bool:
    """The checkpoint's weights file starts with a whole safetensors header (a full disk leaves a stub)."""
    from .store import safetensors_header_ok

    weights = [checkpoint / n for n in ("adapter_model.safetensors", "model.safetensors") if (checkpoint / n).is_file()]
    return bool(weights) and safetensors_header_ok(weights[0])


def checkpoints(run: Path | str) -> list[Path]:
    """The finished checkpoints of a run, oldest first: checkpoint-N folders whose trainer state was written.

    The Trainer writes trainer_state.json after the weights, so a folder without it (a run stopped
    while saving) is skipped, and so is one whose weights file is cut short (a disk that filled up).
    """
    run = _folder(run)
    found = [p for p in run.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()
             and (p / "trainer_state.json").is_file() and _readable_weights(p)]
    return sorted(found, key=lambda p: int(p.name.split("-")[-1]))


def last_checkpoint(run: Path | str) -> Path:
    """The newest finished checkpoint of a run; a clear error when there is none."""
    run = _folder(run)
    if not run.exists():
        raise FileNotFoundError(f"no folder {run}: pass the run folder a training run printed, e.g. "
                                "outputs/ch12-sft-001")
    if re.fullmatch(r"checkpoint-\d+", run.name) and (run / "trainer_state.json").is_file():
        raise FileNotFoundError(f"{run} is a checkpoint; pass its run folder, {run.parent}")
    found = checkpoints(run)
    if not found:
        raise FileNotFoundError(f"{run} has no finished checkpoint (checkpoint-N with trainer_state.json): the run "
                                "stopped before its first save, or saved none. Train with --save-steps N "
                                "(save_steps=N in SFTConfig); a run that finished keeps its adapter in the folder "
                                "itself (adapter_model.safetensors)")
    return found[-1]
