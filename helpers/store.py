"""What set-up left in models/: where it is, and whether it is intact.

Every installed folder carries a manifest (size and sha256 of each file). `verify` compares the
folder with it: sizes only when a notebook loads a model (cheap), sha256 too during set-up.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .checks import short_repr
from .registry import Artifact

MANIFEST = "LLM_LAB_MANIFEST.json"


def models_dir() -> Path:
    """The folder that holds the bundled models: $LLM_LAB_MODELS_DIR or <project>/models."""
    env = os.environ.get("LLM_LAB_MODELS_DIR")
    return Path(env).expanduser().resolve() if env else Path(__file__).resolve().parent.parent / "models"


def data_path(name: str) -> Path:
    """A file in the project's data/ folder, e.g. data_path("corpus_en.txt"); clear error if absent."""
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"data_path expects a file name (str) such as 'corpus_en.txt', got {type(name).__name__}")
    data = Path(__file__).resolve().parent.parent / "data"
    path = data / name  # an absolute path replaces data/
    known = ", ".join(sorted(p.name for p in data.glob("*") if p.is_file()))  # the project's files, never yours
    shown = short_repr(os.fspath(name), 200)
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError:  # a name too long to be a file
        is_file = is_dir = False
    if is_dir:
        raise FileNotFoundError(f"{shown} is a folder; give one data file, e.g. data_path('corpus_en.txt'). "
                                f"The project's data files (in {data}): {known}")
    if not is_file:
        if path.parent == data:
            raise FileNotFoundError(f"no data file {shown} in {data}; available: {known}")
        raise FileNotFoundError(f"no data file {shown} (there is no file {path}); the project's data files "
                                f"are in {data}, available: {known}")
    return path


def safetensors_header_ok(path: Path) -> bool:
    """True if a .safetensors file starts with a whole, readable header: cheap (reads the header only).

    A file cut short (a full disk) or overwritten with the same number of bytes fails this, where
    loading it would fail deep inside the safetensors library ("header too large").
    """
    try:
        with open(path, "rb") as f:
            length = int.from_bytes(f.read(8), "little")
            if not 2 <= length <= min(Path(path).stat().st_size - 8, 100 << 20):  # safetensors' own limit
                return False
            return isinstance(json.loads(f.read(length)), dict)
    except (OSError, ValueError):
        return False


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------- verification


def verify(artifact: Artifact, folder: Path, full: bool = True) -> str | None:
    """None if `folder` holds exactly what the manifest promises, else the reason it does not.

    full=False compares sizes only (cheap enough for every model load); full=True also hashes.
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return "it has not been fetched yet" if not folder.exists() else "its manifest is missing"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return "its manifest is unreadable"
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return "its manifest is unreadable (not a file list)"
    if (manifest.get("wheel_sha256") != artifact.sha256 or manifest.get("version") != artifact.version
            or manifest.get("wheels", _pins(artifact)) != _pins(artifact)):
        return f"it was fetched from another release (the registry now pins {artifact.version})"
    entries = manifest["files"].items()
    if not all(isinstance(info, dict) and isinstance(info.get("size"), int) and isinstance(info.get("sha256"), str)
               and isinstance(rel, str) and ".." not in Path(rel).parts for rel, info in entries):
        return "its manifest is unreadable (a file entry without its size and sha256)"
    for rel, info in entries:
        p = folder / rel
        if not p.is_file():
            return f"{rel} is missing"
        if p.stat().st_size != info["size"]:
            return f"{rel} has {p.stat().st_size:,} bytes, expected {info['size']:,} (truncated?)"
        if full and sha256_file(p) != info["sha256"]:
            return f"{rel} has changed (sha256 differs from the manifest)"
    return None


def _pins(artifact: Artifact) -> dict[str, str]:
    """{"name==version": sha256} for every wheel the artifact is read from."""
    return {f"{w.wheel}=={w.version}": w.sha256 for w in artifact.wheels()}


def write_manifest(artifact: Artifact, folder: Path) -> None:
    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            files[p.relative_to(folder).as_posix()] = {"size": p.stat().st_size, "sha256": sha256_file(p)}
    manifest = {
        "name": artifact.name,
        "wheel": artifact.wheel,
        "version": artifact.version,
        "wheel_sha256": artifact.sha256,
        "wheels": _pins(artifact),
        "conversion": artifact.conversion,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
