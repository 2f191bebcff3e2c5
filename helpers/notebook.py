"""The first cell of every notebook: quiet, offline defaults and a line saying what runs where."""

from __future__ import annotations

import logging
import os
import platform
import sys
import warnings

# Read by huggingface_hub and transformers when they are imported, so set before that happens.
QUIET_OFFLINE_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",  # notebooks never download; set-up (make models) does
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # progress bars print rates that differ every run
    "TRANSFORMERS_VERBOSITY": "error",  # keep the teaching output free of library chatter
    "TOKENIZERS_PARALLELISM": "false",  # no fork warnings from the Rust tokenizers
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",  # datasets' map/tokenize bars print rates too
    "HF_HUB_DISABLE_TELEMETRY": "1",  # no usage pings to the hub, even where a user allows the network
    "HF_DATASETS_OFFLINE": "1",  # datasets never looks up a hub dataset or counts a download
}
# Loggers that print the same harmless line in every run; quieted so learners see what matters.
QUIET_LOGGERS = (
    "bitsandbytes.backends.cpu.ops",  # "Failed to load CPU gemm_4bit_forward from kernels-community"
)
# Deprecation notices raised inside the libraries, not by the learner's code; they print on every run.
QUIET_WARNINGS = (
    r"`is_gradient_checkpointing` is deprecated",  # PEFT 0.21 calling transformers 5.24
    r"`gradient_checkpointing` is deprecated",  # TRL 1.16's SFTConfig/DPOConfig field, renamed in transformers 5
)
PACKAGES = ("torch", "transformers", "tokenizers", "sentence-transformers", "peft", "trl",
            "bitsandbytes", "datasets", "matplotlib")


def quiet_offline_defaults() -> None:
    """No hub, no telemetry, no library chatter: for notebooks (H.setup) and scripts (helpers.train).

    A value the user set wins (HF_HUB_OFFLINE=0 to reach the hub on purpose). Call it before
    huggingface_hub, datasets or transformers is imported: they read these variables then.
    """
    for key, value in QUIET_OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for message in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message)


class SetupSummary(str):
    """What runs where, as text that notebooks show as lines (not a quoted string with a literal \\n)."""

    def _repr_pretty_(self, printer, cycle):  # IPython's text/plain: the lines themselves
        printer.text(str(self))

    def _repr_html_(self):
        from .render import esc

        rows = "".join(f"<div>{esc(line)}</div>" for line in self.splitlines())
        return f'<div class="llm-lab-setup" style="font-family:monospace;font-size:90%">{rows}</div>'


def setup() -> SetupSummary:
    """Apply the offline, quiet defaults (a value the user set wins) and draw Chinese in figures.

    Call it first, before importing transformers. Returns what runs where: device, dtype, versions
    (a str, shown as lines in a notebook).
    """
    late = [m for m in ("huggingface_hub", "transformers") if m in sys.modules]
    quiet_offline_defaults()
    from .fonts import use_cjk_font

    use_cjk_font()
    from .device import describe_device

    summary = f"device: {describe_device()}\n{versions()}"
    if late:
        summary += (f"\nnote: {', '.join(late)} was imported before H.setup(); restart the kernel "
                    "and run this cell first so the offline setting takes effect")
    return SetupSummary(summary)


def versions(packages=PACKAGES) -> str:
    """Python and library versions, one line. Example: 'Python 3.11.7 · torch 2.13.0 · ...'."""
    from importlib import metadata  # 25 ms: only when asked, so `import helpers` stays instant

    if isinstance(packages, (str, bytes)) or not hasattr(packages, "__iter__"):
        raise TypeError(f"versions expects a list of package names, e.g. versions(['torch']), got {packages!r}")
    packages = list(packages)
    odd = [name for name in packages if not isinstance(name, str) or not name.strip()]
    if odd:
        raise TypeError(f"versions expects package names (str) such as 'torch', got {odd[0]!r}")
    parts = [f"Python {platform.python_version()}"]
    for name in packages:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return " · ".join(parts)
