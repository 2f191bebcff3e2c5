"""Plumbing and pictures for the llm-concepts-lab notebooks. Use it as `import helpers as H`.

Importing this package is instant: torch, transformers and matplotlib are imported inside the
functions that need them.
"""

from .anatomy import describe_model, parameter_groups, tied_weights
from .attention import attention_matrix, plot_attention, plot_attention_heads, token_labels, top_heads
from .attention_mask import NoPadTokenError, attention_mask_grid, show_attention_mask
from .block import attention_row, block_diagram, largest_tensor_bytes, plot_attention_cost, plot_rope
from .compare import compare_tokenizers, learned_merges, plot_tokens_per_char, tokenizer_rows, tokens_per_char
from .device import DeviceError, describe_device, pick_device, pick_dtype
from .embeddings import NotOneTokenError, nearest_token_list, nearest_tokens, token_id, word_vector
from .exercises import check_exercise
from .finetune import (
    DatasetFormatError,
    answer_table,
    check_chat_rows,
    compare_answers,
    folder_mb,
    greedy_answer,
    greedy_answers,
    loss_drop,
    losses,
    plot_losses,
    seconds_per_step,
    training_table,
)
from .fonts import FontNotFoundError, use_cjk_font
from .generation import (
    generate_step_by_step,
    plot_temperatures,
    sampling_distribution,
    show_next_token_probs,
    top_candidates,
)
from .logit_lens import logit_lens
from .lora import LoraConfigError, check_lora_config, lora_parameter_count, lora_parameter_table, lora_targets
from .models import (
    ModelNotFoundError,
    TokenizerMismatchError,
    check_pair,
    chinese_model,
    default_model,
    model_path,
    multilingual_embedder,
    trust_remote_code,
)
from .notebook import setup, versions
from .playgrounds import (
    attention_explorer,
    generation_stepper,
    sampling_playground,
    similarity_playground,
    tokenizer_playground,
)
from .preference import answer_logprob, check_preference_rows, margin_table, preference_margins
from .quantization import (
    VARIANTS,
    QuantizationUnavailableError,
    decoder_layers,
    footprint,
    memory_footprints,
    memory_table,
    nf4_roundtrip,
    plot_nf4,
    quantization_config,
    require_bitsandbytes,
)
from .registry import BUNDLED, bundled_model_names, bundled_names
from .render import HtmlView
from .runs import RunExistsError, checkpoints, is_finished, last_checkpoint, new_run_dir, outputs_dir, run_dir, run_info
from .similarity import cosine_matrix, pca_2d, plot_embeddings_2d, plot_similarity
from .store import data_path, models_dir
from .tokens import Group, Piece, group_pieces, show_tokens, token_pieces
from .training_cost import StepCost, measure_training, training_cost_table
from .word_vectors import (
    WordVectorsError,
    analogy_rank,
    genre_agreement,
    movie_id,
    movies,
    newsgroup_sentences,
    vectors_path,
    watch_histories,
)
from .workflow import show_workflow, workflow

__all__ = [
    "check_exercise",
    "attention_explorer",
    "attention_row",
    "block_diagram",
    "largest_tensor_bytes",
    "plot_attention_cost",
    "plot_rope",
    "BUNDLED",
    "DatasetFormatError",
    "DeviceError",
    "FontNotFoundError",
    "Group",
    "HtmlView",
    "LoraConfigError",
    "ModelNotFoundError",
    "TokenizerMismatchError",
    "NoPadTokenError",
    "NotOneTokenError",
    "Piece",
    "QuantizationUnavailableError",
    "RunExistsError",
    "VARIANTS",
    "answer_logprob",
    "answer_table",
    "attention_mask_grid",
    "attention_matrix",
    "bundled_model_names",
    "bundled_names",
    "check_pair",
    "chinese_model",
    "check_chat_rows",
    "check_lora_config",
    "check_preference_rows",
    "checkpoints",
    "compare_answers",
    "compare_tokenizers",
    "cosine_matrix",
    "data_path",
    "decoder_layers",
    "default_model",
    "describe_device",
    "describe_model",
    "folder_mb",
    "footprint",
    "generate_step_by_step",
    "generation_stepper",
    "greedy_answer",
    "greedy_answers",
    "group_pieces",
    "last_checkpoint",
    "learned_merges",
    "logit_lens",
    "lora_parameter_count",
    "lora_parameter_table",
    "lora_targets",
    "loss_drop",
    "losses",
    "margin_table",
    "memory_footprints",
    "memory_table",
    "model_path",
    "multilingual_embedder",
    "models_dir",
    "nearest_token_list",
    "nearest_tokens",
    "new_run_dir",
    "nf4_roundtrip",
    "outputs_dir",
    "parameter_groups",
    "pca_2d",
    "pick_device",
    "pick_dtype",
    "plot_attention",
    "plot_attention_heads",
    "plot_embeddings_2d",
    "plot_losses",
    "plot_nf4",
    "plot_similarity",
    "plot_temperatures",
    "plot_tokens_per_char",
    "preference_margins",
    "quantization_config",
    "require_bitsandbytes",
    "run_dir",
    "run_info",
    "is_finished",
    "sampling_distribution",
    "sampling_playground",
    "seconds_per_step",
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
    "trust_remote_code",
    "training_table",
    "top_candidates",
    "top_heads",
    "use_cjk_font",
    "versions",
    "word_vector",
    "StepCost",
    "measure_training",
    "training_cost_table",
    "WordVectorsError",
    "analogy_rank",
    "genre_agreement",
    "movie_id",
    "movies",
    "newsgroup_sentences",
    "vectors_path",
    "watch_histories",
    "workflow",
]
