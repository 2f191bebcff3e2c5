"""Bad input across the whole helpers API: each case gets the right exception and a message naming the fix.

The per-module tests check each helper's own errors in depth (a truncated model folder:
test_models.py; an interrupted download: test_fetch.py); this module checks the promise as a
whole, one row per mistake a learner makes, so a helper that starts raising a bare traceback shows
up here. Each row: (what the learner did, the call, the exception type, a regex the message must match).
"""

import pytest
import torch
from bad_input import assert_clear_error

import helpers as H

NO_ATTN = "output_attentions=True"


def fake_attentions(layers=2, heads=3, seq=4):
    return tuple(torch.softmax(torch.randn(1, heads, seq, seq), -1) for _ in range(layers))


CASES = {
    # --- models, files, devices
    "unknown model name": (lambda f: H.model_path("smollm-135"), H.ModelNotFoundError, "Bundled models: .*smollm2"),
    "empty model name": (lambda f: H.model_path(""), H.ModelNotFoundError, "bundled models"),
    "model name of the wrong type": (lambda f: H.model_path(135), TypeError, "model name or folder \\(str\\)"),
    "a font is not a model": (lambda f: H.model_path("noto-sans-cjk-sc"), H.ModelNotFoundError, "not a model"),
    "hub id not cached offline": (lambda f: H.model_path("someone/never-downloaded-7b"), H.ModelNotFoundError,
                                  "make models|LLM_LAB_MODEL"),
    "missing local folder": (lambda f: H.model_path("./no/such/folder"), H.ModelNotFoundError, "no folder"),
    "CUDA asked for on a CPU machine": (lambda f: H.pick_device("cuda"), H.DeviceError,
                                        "no CUDA GPU is available.*LLM_LAB_DEVICE|cpu"),
    "unknown device": (lambda f: H.pick_device("tpu"), H.DeviceError, "choose one of"),
    "unknown data file": (lambda f: H.data_path("nope.txt"), FileNotFoundError, "available: .*corpus_en.txt"),
    # --- tokens and tokenizers
    "tokens of a number instead of text": (lambda f: H.compare_tokenizers(42, f["four"]), TypeError, "expects a text"),
    "no tokenizers to compare": (lambda f: H.compare_tokenizers("hi", {}), ValueError, "pass at least one"),
    "empty text for tokens per character": (lambda f: H.tokens_per_char({"en": ""}, f["four"]), ValueError,
                                            "empty or not a str"),
    "merges of a WordPiece tokenizer": (lambda f: H.learned_merges(f["bert_tok"]), ValueError, "only BPE"),
    "mask of one string instead of a batch": (lambda f: H.attention_mask_grid(f["smol_tok"], "Hi"), TypeError,
                                              "list of texts"),
    "padding side misspelt": (lambda f: H.attention_mask_grid(f["smol_tok"], ["a", "b"], "middle"), ValueError,
                              "'left' or 'right'"),
    # --- embeddings
    "a word that is two tokens": (lambda f: H.token_id(f["smol_tok"], " Xiaolanxyz"), H.NotOneTokenError,
                                  "splits into"),
    "empty token": (lambda f: H.token_id(f["smol_tok"], ""), H.NotOneTokenError, "empty"),
    "k of zero neighbours": (lambda f: H.nearest_token_list(f["smol"], f["smol_tok"], " Paris", k=0), ValueError,
                             "k must be an int between 1"),
    "layer out of range for a word vector": (lambda f: H.word_vector(f["smol"], f["smol_tok"], "By the bank",
                                                                      "bank", layer=99),
                                             ValueError, "layer must be in"),
    "word not in the sentence": (lambda f: H.word_vector(f["smol"], f["smol_tok"], "I sat", "bank"), ValueError,
                                 "does not occur"),
    # --- model and tokenizer that do not belong together
    "BERT's tokenizer with SmolLM2": (lambda f: H.generate_step_by_step(f["smol"], f["bert_tok"], "Hi", 2),
                                      H.TokenizerMismatchError, "30,522 tokens .*49,152 rows.*same name"),
    "GPT-4's tokenizer with SmolLM2": (lambda f: H.nearest_tokens(f["smol"], f["gpt4_tok"], " Paris"),
                                       H.TokenizerMismatchError, "different models"),
    # --- generation and sampling
    "empty prompt": (lambda f: H.generate_step_by_step(f["smol"], f["smol_tok"], "   ", 2), ValueError,
                     "prompt is empty"),
    "prompt longer than the context": (lambda f: H.generate_step_by_step(f["smol"], f["smol_tok"], "word " * 9000, 1),
                                       ValueError, "shorten it"),
    "zero new tokens": (lambda f: H.generate_step_by_step(f["smol"], f["smol_tok"], "Hi", 0), ValueError,
                        "positive int"),
    "temperature zero": (lambda f: H.sampling_distribution(torch.randn(10), temperature=0), ValueError,
                         "greedy"),
    "top_p above one": (lambda f: H.sampling_distribution(torch.randn(10), top_p=1.5), ValueError, "\\(0, 1\\]"),
    "logits of a whole batch": (lambda f: H.top_candidates(torch.randn(2, 3, 10), f["smol_tok"]), ValueError,
                                "pass one row"),
    "k larger than the vocabulary": (lambda f: H.top_candidates(torch.randn(49152), f["smol_tok"], k=10**6),
                                     ValueError, "k must be an int between 1"),
    # --- attention
    "no attentions returned": (lambda f: H.attention_matrix((), 0, 0), ValueError, NO_ATTN),
    "layer out of range": (lambda f: H.attention_matrix(fake_attentions(), 5, 0), ValueError,
                           "0..1 \\(this model has 2 layers\\)"),
    "head out of range": (lambda f: H.attention_matrix(fake_attentions(), 0, -1), ValueError, "0..2"),
    "a key after the query": (lambda f: H.top_heads(fake_attentions(), 1, 3), ValueError, "cannot look ahead"),
    # --- LoRA, quantization, fine-tuning data and runs
    "LoRA rank zero": (lambda f: H.lora_parameter_count(f["smol"], 0, ["q_proj"]), ValueError, "positive int"),
    "LoRA on a layer the model lacks": (lambda f: H.lora_parameter_count(f["smol"], 8, ["query"]), ValueError,
                                        "linear layers are: down_proj"),
    "a quantization that does not exist": (lambda f: H.quantization_config("3-bit"), ValueError, "choose from fp32"),
    "NF4 of an already quantized weight": (lambda f: H.nf4_roundtrip(torch.zeros(64, dtype=torch.uint8)), TypeError,
                                           "fp32 or bf16"),
    "chat row without messages": (lambda f: H.check_chat_rows([{"text": "hi"}], "mine.jsonl"), H.DatasetFormatError,
                                  "row 0 of mine.jsonl .*\"messages\""),
    "preference pair without rejected": (lambda f: H.check_preference_rows([{"prompt": [], "chosen": []}]),
                                         H.DatasetFormatError, "'prompt' is missing"),
    "run folder with an earlier run": (lambda f: H.run_dir(f["earlier_run"]), H.RunExistsError, "overwrite=True"),
    "loss curve of nothing": (lambda f: H.plot_losses([]), TypeError, "dict of run name"),
    # --- similarity
    "similarity of one vector": (lambda f: H.cosine_matrix(torch.randn(5)), ValueError, "2-D array \\(n_texts, dim\\)"),
}


@pytest.fixture(scope="module")
def f(smol_model, smol_tokenizer, bert_tokenizer, gpt4_tokenizer, four_tokenizers, tmp_path_factory):
    earlier = tmp_path_factory.mktemp("runs") / "ch12-sft-001"
    earlier.mkdir()
    (earlier / "adapter_model.safetensors").write_bytes(b"an earlier run")
    return {"smol": smol_model, "smol_tok": smol_tokenizer, "bert_tok": bert_tokenizer, "gpt4_tok": gpt4_tokenizer,
            "four": four_tokenizers, "earlier_run": earlier}


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_the_bad_input_tables_hold_three_times_the_first_43_cases():
    """This table plus the per-area ones (tokens, views, runs, site) that grew out of the reliability probes."""
    import importlib
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))  # pytest's rootdir-relative imports name each test file by its stem
    try:
        files = [*sorted(here.glob("test_bad_inputs_*.py")), here / "test_site.py"]  # the site builder's own table
        tables = {p.stem: importlib.import_module(p.stem).CASES for p in files}
    finally:
        sys.path.remove(str(here))
    assert set(tables) >= {"test_bad_inputs_tokens", "test_bad_inputs_views", "test_bad_inputs_runs"}
    assert len(CASES) + sum(map(len, tables.values())) >= 3 * 43


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_clear_error(case, f, monkeypatch):
    monkeypatch.setenv("LLM_LAB_DEVICE", "")  # pick_device's own argument is what is tested
    assert_clear_error(CASES[case], f)

