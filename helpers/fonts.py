"""Chinese text in matplotlib figures: register the bundled Noto Sans CJK SC font.

matplotlib's default DejaVu Sans has no CJK glyphs: Chinese labels become boxes and a
"Glyph ... missing from font" warning. `use_cjk_font()` adds the font that set-up fetched into
models/noto-sans-cjk-sc and makes it the fallback after DejaVu Sans (matplotlib >= 3.6).
Plotting helpers call it themselves; call it once in a notebook that plots Chinese text directly.
"""

from __future__ import annotations

from .registry import BUNDLED
from .store import models_dir, verify

FONT_ARTIFACT = "noto-sans-cjk-sc"
FAMILY = "Noto Sans CJK SC"


class FontNotFoundError(FileNotFoundError):
    """The bundled CJK font is missing; the message says how to fetch it."""


def cjk_font_path():
    """Path of the bundled CJK font file; raises FontNotFoundError with the fix if absent."""
    from pathlib import Path

    artifact = BUNDLED[FONT_ARTIFACT]
    folder = models_dir() / FONT_ARTIFACT
    problem = verify(artifact, folder, full=False)
    path = folder / Path(artifact.member).name
    if problem is None:
        try:
            with open(path, "rb") as f:  # an OpenType/TrueType file starts with one of these tags
                if f.read(4) not in (b"OTTO", b"\x00\x01\x00\x00", b"true", b"ttcf"):
                    problem = f"{path.name} is damaged: it does not start like a font file"
        except OSError as err:
            problem = f"{path.name} cannot be read: {err.strerror}"
    if problem is not None:
        raise FontNotFoundError(f"the CJK font for figures is not usable ({problem}). "
                                "Fix: run `make models` in the project folder.")
    return path


def use_cjk_font() -> str:
    """Let matplotlib draw Chinese with the bundled font; returns the family name. Idempotent.

    The font is added as a fallback after the families already chosen, so a learner's own
    font.family setting is kept (the default becomes ["DejaVu Sans", "Noto Sans CJK SC"]).
    """
    import matplotlib
    from matplotlib import font_manager

    if FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        path = cjk_font_path()
        try:
            font_manager.fontManager.addfont(str(path))
        except (RuntimeError, OSError, ValueError) as err:  # FreeType: "unknown file format"
            raise FontNotFoundError(f"the CJK font for figures is not usable ({path.name} cannot be read as a font: "
                                    f"{err}). Fix: run `make models` in the project folder.") from None
    current = list(matplotlib.rcParams["font.family"])
    if FAMILY not in current:
        base = ["DejaVu Sans"] if current == ["sans-serif"] else current
        matplotlib.rcParams["font.family"] = [*base, FAMILY]
    return FAMILY
