"""Plumbing and pictures for the llm-concepts-lab notebooks. Use it as `import helpers as H`.

Importing this package is instant: torch, transformers and matplotlib are imported inside the
functions that need them.
"""

from .anatomy import describe_model, parameter_groups, tied_weights
from .attention import attention_matrix, plot_attention, plot_attention_heads, token_labels, top_heads
from .attention_mask import NoPadTokenError, attention_mask_grid, show_attention_mask
from .compare import compare_tokenizers, learned_merges, plot_tokens_per_char, tokenizer_rows, tokens_per_char
from .device import DeviceError, describe_device, pick_device, pick_dtype
from .embeddings import NotOneTokenError, nearest_token_list, nearest_tokens, token_id, word_vector
from .fonts import FontNotFoundError, use_cjk_font
from .generation import (
    generate_step_by_step,
    plot_temperatures,
    sampling_distribution,
    show_next_token_probs,
    top_candidates,
)
from .logit_lens import logit_lens
from .lora import lora_parameter_count, lora_parameter_table, lora_targets
from .models import ModelNotFoundError, default_model, model_path
from .notebook import setup, versions
from .playgrounds import generation_stepper, sampling_playground, similarity_playground, tokenizer_playground
from .quantization import (
    VARIANTS,
    footprint,
    memory_footprints,
    memory_table,
    nf4_roundtrip,
    plot_nf4,
    quantization_config,
)
from .registry import BUNDLED, bundled_model_names, bundled_names
from .render import HtmlView
from .similarity import cosine_matrix, pca_2d, plot_embeddings_2d, plot_similarity
from .store import data_path, models_dir
from .tokens import Piece, show_tokens, token_pieces
from .workflow import show_workflow, workflow

__all__ = [
    "BUNDLED",
    "DeviceError",
    "FontNotFoundError",
    "HtmlView",
    "ModelNotFoundError",
    "NoPadTokenError",
    "NotOneTokenError",
    "Piece",
    "VARIANTS",
    "attention_mask_grid",
    "attention_matrix",
    "bundled_model_names",
    "bundled_names",
    "compare_tokenizers",
    "cosine_matrix",
    "data_path",
    "default_model",
    "describe_device",
    "describe_model",
    "footprint",
    "generate_step_by_step",
    "generation_stepper",
    "learned_merges",
    "logit_lens",
    "lora_parameter_count",
    "lora_parameter_table",
    "lora_targets",
    "memory_footprints",
    "memory_table",
    "model_path",
    "models_dir",
    "nearest_token_list",
    "nearest_tokens",
    "nf4_roundtrip",
    "parameter_groups",
    "pca_2d",
    "pick_device",
    "pick_dtype",
    "plot_attention",
    "plot_attention_heads",
    "plot_embeddings_2d",
    "plot_nf4",
    "plot_similarity",
    "plot_temperatures",
    "plot_tokens_per_char",
    "quantization_config",
    "sampling_distribution",
    "sampling_playground",
    "setup",
    "show_attention_mask",
    "show_next_token_probs",
    "show_tokens",
    "show_workflow",
    "similarity_playground",
    "tied_weights",
    "token_id",
    "token_labels",
    "token_pieces",
    "tokenizer_playground",
    "tokenizer_rows",
    "tokens_per_char",
    "top_candidates",
    "top_heads",
    "use_cjk_font",
    "versions",
    "word_vector",
    "workflow",
]
