"""Plumbing and pictures for the llm-concepts-lab notebooks. Use it as `import helpers as H`.

Importing this package is instant: torch, transformers and matplotlib are imported inside the
functions that need them.
"""

from .device import DeviceError, describe_device, pick_device, pick_dtype
from .fonts import FontNotFoundError, use_cjk_font
from .models import ModelNotFoundError, default_model, model_path
from .notebook import setup, versions
from .registry import BUNDLED, bundled_model_names, bundled_names
from .render import HtmlView
from .store import models_dir
from .tokens import Piece, show_tokens, token_pieces
from .workflow import show_workflow, workflow

__all__ = [
    "BUNDLED",
    "DeviceError",
    "FontNotFoundError",
    "HtmlView",
    "ModelNotFoundError",
    "Piece",
    "bundled_model_names",
    "bundled_names",
    "default_model",
    "describe_device",
    "model_path",
    "models_dir",
    "pick_device",
    "pick_dtype",
    "setup",
    "show_tokens",
    "show_workflow",
    "token_pieces",
    "use_cjk_font",
    "versions",
    "workflow",
]
