"""Bad input to the figures, attention, model and device settings, quantization and site helpers.

Same promise and table shape as tests/test_bad_inputs.py: each row is a mistake a learner makes
(the reliability probe's rows, issue 14), the call, the exception type and a regex for the words
of the fix. Where the right answer is a result rather than an error (a `$` in a label drawn as
itself, numpy ints accepted, a file name escaped in the site), a small test below checks it.
"""

import io
import json

import numpy as np
import pytest
import torch
from bad_input import assert_clear_error

import helpers as H
from helpers import models as M
from helpers.fonts import cjk_font_path
from helpers.registry import BUNDLED
from helpers.store import write_manifest

GENERATORS = "smollm2-135m-instruct"  # the bundled models that generate text are named in the message


def fake_attentions(layers=2, heads=3, seq=4, batch=1):
    torch.manual_seed(0)
    return tuple(torch.softmax(torch.randn(batch, heads, seq, seq), -1) for _ in range(layers))


def setenv(f, **settings):
    """Set environment variables for one case (undone after it by the test's monkeypatch)."""
    for key, value in settings.items():
        f["env"].setenv(key, value)


def no_cuda(f):
    f["env"].setattr(torch.cuda, "is_available", lambda: False)


CASES = {
    # --- attention maps (probe rows 109-119)
    "attentions as a list of plain lists": (lambda f: H.attention_matrix([[[0.5]]], 0, 0), TypeError,
                                            "one tensor per layer"),
    "attentions as a string": (lambda f: H.attention_matrix("attn", 0, 0), TypeError,
                               "output_attentions=True\\).attentions"),
    "attentions of a batch of two texts": (lambda f: H.attention_matrix(fake_attentions(batch=2), 0, 0), ValueError,
                                           "batch of 2 texts; pass one example"),
    "top heads of a batch of two texts": (lambda f: H.top_heads(fake_attentions(batch=2), 2, 1), ValueError,
                                          "pass one example"),
    "layer as a tensor": (lambda f: H.attention_matrix(fake_attentions(), torch.tensor(0), 0), TypeError,
                          "layer must be an int.*got Tensor.*int\\(x\\)"),
    "head as a string": (lambda f: H.attention_matrix(fake_attentions(), 0, "1"), TypeError,
                         "head must be an int.*got str"),
    "attention plot without token labels": (lambda f: H.plot_attention(fake_attentions(), None, 0, 0), TypeError,
                                            "tokens must be a list of 4 labels.*H.token_labels"),
    "attention plot with a number for labels": (lambda f: H.plot_attention(fake_attentions(), 4, 0, 0), TypeError,
                                                "H.token_labels\\(tokenizer, ids\\[0\\]\\)"),
    "heads grid without token labels": (lambda f: H.plot_attention_heads(fake_attentions(), None, 0), TypeError,
                                        "H.token_labels"),
    "heads grid with zero columns": (lambda f: H.plot_attention_heads(fake_attentions(), list("abcd"), 0, cols=0),
                                     ValueError, "cols must be an int from 1 to 64"),
    "heads grid with negative columns": (lambda f: H.plot_attention_heads(fake_attentions(), list("abcd"), 0, cols=-1),
                                         ValueError, "cols must be an int from 1 to 64.*got -1"),
    "heads grid with a million columns": (lambda f: H.plot_attention_heads(fake_attentions(), list("abcd"), 0,
                                                                           cols=10**6),
                                          ValueError, "cols must be an int from 1 to 64"),
    "heads grid with columns=True": (lambda f: H.plot_attention_heads(fake_attentions(), list("abcd"), 0, cols=True),
                                     ValueError, "cols must be an int"),
    "top heads with n=-1": (lambda f: H.top_heads(fake_attentions(), 2, 1, n=-1), ValueError,
                            "n must be an int >= 0"),
    "top heads with n=1.5": (lambda f: H.top_heads(fake_attentions(), 2, 1, n=1.5), TypeError,
                             "n must be an int such as 3, got float"),
    "top heads with a float position": (lambda f: H.top_heads(fake_attentions(), 2.0, 1), TypeError,
                                        "query must be an int"),
    # --- model anatomy (rows 124, 125, 267, 275)
    "model table of a tokenizer": (lambda f: H.describe_model(f["smol_tok"]), TypeError,
                                   "expects a loaded model.*that is a tokenizer.*pass the model itself"),
    "model table of None": (lambda f: H.describe_model(None), TypeError,
                            "describe_model expects a loaded model such as AutoModelForCausalLM"),
    "model table of a model name": (lambda f: H.describe_model(GENERATORS), TypeError,
                                    "is a name; load it with AutoModelForCausalLM.from_pretrained\\(H.model_path"),
    "tied weights of None": (lambda f: H.tied_weights(None), TypeError, "tied_weights expects a loaded model"),
    "parameter groups of a tokenizer": (lambda f: H.parameter_groups(f["bert_tok"]), TypeError, "tokenizer"),
    "pair check with a Linear layer for a model": (lambda f: H.check_pair(torch.nn.Linear(2, 2), f["smol_tok"]),
                                                   TypeError, "expected a transformers model \\(AutoModelForCausalLM"),
    "pair check with None for a model": (lambda f: H.check_pair(None, f["smol_tok"]), TypeError,
                                         "AutoModelForCausalLM.from_pretrained"),
    "pair check with a name for a tokenizer": (lambda f: H.check_pair(f["smol"], GENERATORS), TypeError,
                                               "expected a tokenizer \\(AutoTokenizer.from_pretrained"),
    "logit lens of None": (lambda f: H.logit_lens(None, f["smol_tok"], "Hi"), TypeError,
                           "logit_lens expects a model loaded with AutoModelForCausalLM"),
    # --- similarity pictures (rows 178 and labels)
    "2-D map of 1-dimensional embeddings": (lambda f: H.plot_embeddings_2d(list("abcd"), np.arange(4.0)[:, None]),
                                            ValueError, "at least 2 dimensions.*model.encode\\(sentences\\)"),
    "PCA of 1-dimensional embeddings": (lambda f: H.pca_2d(np.ones((3, 1))), ValueError, "at least 2 dimensions"),
    "similarity heatmap without labels": (lambda f: H.plot_similarity(None, np.eye(3)), TypeError,
                                          "labels must be a list of 3 texts, one per embedding"),
    "2-D map with a number for labels": (lambda f: H.plot_embeddings_2d(7, np.eye(3)), TypeError, "one per embedding"),
    # --- loss curves (row 185)
    "loss curve of the model instead of its log": (lambda f: H.plot_losses({"LoRA": f["smol"]}), TypeError,
                                                   "run 'LoRA': .*trainer.state.log_history.*LlamaForCausalLM"),
    "loss curve of a missing log": (lambda f: H.plot_losses({"run 1": None}), TypeError, "log_history"),
    # --- devices (rows 186-191, 250, 251)
    "device given as a number": (lambda f: H.pick_device(5), TypeError, "a str such as 'cpu', 'cuda', 'cuda:0'"),
    "device given as True": (lambda f: H.pick_device(True), TypeError, "got bool"),
    "a device index on the CPU": (lambda f: H.pick_device("cpu:banana"), H.DeviceError,
                                  "unknown device 'cpu:banana'; choose one of auto, cpu, cuda, mps.*cuda:0"),
    "a GPU number that is not a number": (lambda f: H.pick_device("cuda:x"), H.DeviceError, "cuda:N for GPU number N"),
    "a second Apple GPU": (lambda f: H.pick_device("mps:1"), H.DeviceError, "unknown device 'mps:1'"),
    "LLM_LAB_DEVICE=cpu:banana": (lambda f: setenv(f, LLM_LAB_DEVICE="cpu:banana") or H.pick_device(),
                                  H.DeviceError, "unknown device 'cpu:banana'.*set by \\$LLM_LAB_DEVICE"),
    "LLM_LAB_DEVICE=cpu:banana in the set-up cell": (lambda f: setenv(f, LLM_LAB_DEVICE="cpu:banana") or H.setup(),
                                                     H.DeviceError, "unknown device 'cpu:banana'"),
    "dtype of a device with a bad index": (lambda f: H.pick_dtype("cpu:banana"), H.DeviceError,
                                           "unknown device 'cpu:banana'; pass 'cpu', 'cuda' or 'mps'"),
    "dtype of auto": (lambda f: H.pick_dtype("auto"), H.DeviceError, "what H.pick_device\\(\\) returns"),
    "describe CUDA without a GPU": (lambda f: no_cuda(f) or H.describe_device("cuda"), H.DeviceError,
                                    "no CUDA GPU is available.*'auto' or 'cpu'"),
    "describe cuda:7 without a GPU": (lambda f: no_cuda(f) or H.describe_device("cuda:7"), H.DeviceError,
                                      "no CUDA GPU"),
    "describe an unknown device": (lambda f: H.describe_device("tpu"), H.DeviceError, "choose one of auto, cpu"),
    # --- model names, folders and files (rows 195-198, 243)
    "a 100,000-character model name": (lambda f: H.model_path("a" * 100_000), H.ModelNotFoundError,
                                       "\\(100,002 characters\\) is too long to be a name or a path.*Bundled models"),
    "a 100,000-character path": (lambda f: H.model_path("./" + "a" * 100_000), H.ModelNotFoundError, "too long"),
    "a 300-character folder name": (lambda f: H.model_path("models/" + "b" * 300), H.ModelNotFoundError,
                                    "file name stops at 255 bytes"),
    "model path of config.json": (lambda f: H.model_path(H.model_path(GENERATORS) / "config.json"),
                                  H.ModelNotFoundError, "is a file; give the folder that holds config.json, "
                                  "e.g. H.model_path\\('.*smollm2-135m-instruct'\\)"),
    "model path of a weights file": (lambda f: H.model_path(f["a_file"]), H.ModelNotFoundError,
                                     "is a file; give the folder"),
    "LLM_LAB_MODEL names a file": (lambda f: setenv(f, LLM_LAB_MODEL=str(f["a_file"]))
                                   or H.model_path(H.default_model()), H.ModelNotFoundError,
                                   "is a file; give the folder that holds config.json"),
    "local model folder with a broken config.json": (lambda f: H.model_path(f["bad_config"]), H.ModelNotFoundError,
                                                     "config.json is not valid JSON.*save_pretrained"),
    # --- the generating role: an embedder or a tokenizer is not a generator (rows 241, 244, 245)
    "LLM_LAB_MODEL=all-minilm-l6-v2": (lambda f: setenv(f, LLM_LAB_MODEL="all-minilm-l6-v2") or H.default_model(),
                                       H.ModelNotFoundError, "LLM_LAB_MODEL='all-minilm-l6-v2' is a bundled text "
                                       "embedder.*cannot generate text.*Fix: unset LLM_LAB_MODEL, or set it to a "
                                       f"bundled one \\(.*{GENERATORS}\\)"),
    "LLM_LAB_MODEL=qwen2.5-tokenizer": (lambda f: setenv(f, LLM_LAB_MODEL="qwen2.5-tokenizer") or H.default_model(),
                                        H.ModelNotFoundError, f"tokenizer only, without model weights.*{GENERATORS}"),
    "LLM_LAB_MODEL=a tokenizer-only folder": (lambda f: setenv(f, LLM_LAB_MODEL=str(f["tokenizer_only"]))
                                              or H.default_model(),
                                              H.ModelNotFoundError, "folder without config.json: a tokenizer can be "
                                              "loaded from it, but no model"),
    "LLM_LAB_MODEL=a BERT folder": (lambda f: setenv(f, LLM_LAB_MODEL=str(f["bert_folder"])) or H.default_model(),
                                    H.ModelNotFoundError, "holds a BertModel, which cannot generate text"),
    "LLM_LAB_MODEL=the font": (lambda f: setenv(f, LLM_LAB_MODEL="noto-sans-cjk-sc") or H.default_model(),
                               H.ModelNotFoundError, "bundled font, which cannot generate"),
    "LLM_LAB_ZH_MODEL=all-minilm-l6-v2": (lambda f: setenv(f, LLM_LAB_ZH_MODEL="all-minilm-l6-v2")
                                          or H.chinese_model(),
                                          H.ModelNotFoundError, "LLM_LAB_ZH_MODEL=.*cannot generate text"),
    "LLM_LAB_ZH_EMBEDDER=smollm2-135m-instruct": (lambda f: setenv(f, LLM_LAB_ZH_EMBEDDER=GENERATORS)
                                                  or H.multilingual_embedder(),
                                                  H.ModelNotFoundError, "not a text embedder.*multilingual-e5-small"),
    "a generator check of a tokenizer": (lambda f: M.check_generator("cl100k-base"), H.ModelNotFoundError,
                                         "cannot generate text.*Fix: use a bundled one"),
    # --- damaged model files and font (rows 256, 257, 261)
    "garbage safetensors header": (lambda f: setenv(f, LLM_LAB_MODELS_DIR=str(f["damaged"]))
                                   or H.model_path(GENERATORS),
                                   H.ModelNotFoundError, "model.safetensors does not start with a readable "
                                   "safetensors header.*run `make models`"),
    "garbage tokenizer.json": (lambda f: setenv(f, LLM_LAB_MODELS_DIR=str(f["damaged"]))
                               or H.model_path("qwen2.5-tokenizer"),
                               H.ModelNotFoundError, "tokenizer.json is not a JSON object.*run `make models`"),
    "garbage font file": (lambda f: setenv(f, LLM_LAB_MODELS_DIR=str(f["damaged"])) or cjk_font_path(),
                          H.FontNotFoundError, "does not start like a font file.*run `make models`"),
    # --- data files, registry, versions (rows 205-208)
    "data_path(None)": (lambda f: H.data_path(None), TypeError, "data_path expects a file name \\(str\\) such as "
                        "'corpus_en.txt'"),
    "data_path of a number": (lambda f: H.data_path(12), TypeError, "got int"),
    "data file missing in another folder": (lambda f: H.data_path(f["tmp"] / "missing.jsonl"), FileNotFoundError,
                                            "the project's data files are in .*data, available: .*corpus_en.txt"),
    "data_path of a folder": (lambda f: H.data_path(f["tmp"]), FileNotFoundError,
                              "is a folder; give one data file, e.g. data_path\\('corpus_en.txt'\\)"),
    "data_path of a 100,000-character name": (lambda f: H.data_path("x" * 100_000), FileNotFoundError,
                                              "no data file .*available: .*corpus_en.txt"),
    "bundled names of an unknown kind": (lambda f: H.bundled_names("nonsense kind"), ValueError,
                                         "unknown kind 'nonsense kind'; choose one of causal-lm, "
                                         "sentence-transformers"),
    "versions of one name as a str": (lambda f: H.versions("torch"), TypeError, "versions\\(\\['torch'\\]\\)"),
    "versions of None": (lambda f: H.versions(None), TypeError, "a list of package names"),
    # --- quantization (rows 230, 231, 234, 237, 271)
    "memory table of no rows": (lambda f: H.memory_table([]), ValueError,
                                "rows H.memory_footprints\\(path\\) returns.*got an empty list"),
    "memory table of names": (lambda f: H.memory_table(["fp32", "bf16"]), ValueError, "got a list of str"),
    "memory table of a number": (lambda f: H.memory_table(5), TypeError, "a model folder such as H.model_path"),
    "memory table of a path that does not exist": (lambda f: H.memory_table("/nonexistent/model"),
                                                   H.ModelNotFoundError, "no folder '/nonexistent/model'.*Bundled"),
    "memory table of an embedder": (lambda f: H.memory_footprints(H.model_path("all-minilm-l6-v2")),
                                    H.ModelNotFoundError, "BertModel, which cannot generate text"),
    "memory table of the tokenizer bundle": (lambda f: H.memory_footprints("qwen2.5-tokenizer"), H.ModelNotFoundError,
                                             "tokenizer only"),
    "memory footprints of one variant as a str": (lambda f: H.memory_footprints(H.model_path(GENERATORS), "fp32"),
                                                  ValueError, "variants must be a non-empty list of fp32, bf16"),
    "memory footprints of an unknown variant": (lambda f: H.memory_footprints(H.model_path(GENERATORS), ["fp8"]),
                                                ValueError, "variants must be a non-empty list"),
    "NF4 with block size zero": (lambda f: H.nf4_roundtrip(torch.zeros(4, 64), blocksize=0), ValueError,
                                 "blocksize .*must be an int of 1 or more, e.g. blocksize=64"),
    "NF4 with a negative block size": (lambda f: H.nf4_roundtrip(torch.zeros(4, 64), blocksize=-64), ValueError,
                                       "blocksize .*must be an int of 1 or more.*got -64"),
    "NF4 with block size True": (lambda f: H.nf4_roundtrip(torch.zeros(4, 64), blocksize=True), TypeError,
                                 "blocksize .*must be an int.*got bool True"),
    "NF4 with a float block size": (lambda f: H.nf4_roundtrip(torch.zeros(4, 64), blocksize=64.0), TypeError,
                                    "blocksize .*must be an int of 1 or more.*got float"),
    "footprint of None": (lambda f: H.footprint(None), TypeError, "footprint expects a loaded model"),
    "footprint of a tokenizer": (lambda f: H.footprint(f["smol_tok"]), TypeError, "AutoModelForCausalLM"),
    "NF4 plot of a NaN weight": (lambda f: H.plot_nf4(torch.full((4, 64), float("nan"))), ValueError,
                                 "contains NaN or inf.*lower the learning rate"),
    "NF4 plot of an inf weight": (lambda f: H.plot_nf4(torch.tensor([[float("inf")] * 64])), ValueError,
                                  "NaN or inf"),
    # ================================================ second probe (/tmp/probe2/report.md), ids in the names
    # --- the embedder setting names a generator's folder (BAD 5, C17)
    "C17: LLM_LAB_ZH_EMBEDDER=a causal LM's folder": (lambda f: setenv(f, LLM_LAB_ZH_EMBEDDER=str(
                                                          H.model_path(GENERATORS))) or H.multilingual_embedder(),
                                                      H.ModelNotFoundError, "LLM_LAB_ZH_EMBEDDER=.* holds a "
                                                      "LlamaForCausalLM, a model that generates text, not a text "
                                                      "embedder.*modules.json.*multilingual-e5-small"),
    # --- model folders, names and settings (P4)
    "E07: LLM_LAB_MODEL=a T5 folder": (lambda f: setenv(f, LLM_LAB_MODEL=str(f["t5"])) or H.default_model(),
                                       H.ModelNotFoundError, "T5ForConditionalGeneration, an encoder-decoder "
                                       "\\(seq2seq\\) model, which AutoModelForCausalLM cannot load.*Fix: unset "
                                       "LLM_LAB_MODEL"),
    "E07: a config that says is_encoder_decoder": (lambda f: M.check_generator(f["seq2seq"]), H.ModelNotFoundError,
                                                   "BartForConditionalGeneration, an encoder-decoder"),
    "E08: LLM_LAB_ZH_MODEL=a T5 folder": (lambda f: setenv(f, LLM_LAB_ZH_MODEL=str(f["t5"])) or H.chinese_model(),
                                          H.ModelNotFoundError, "LLM_LAB_ZH_MODEL=.*encoder-decoder"),
    "C16: LLM_LAB_MODEL=models/... from another folder": (lambda f: f["env"].chdir(f["t5"])
                                                          or setenv(f, LLM_LAB_MODEL=f"models/{GENERATORS}")
                                                          or H.model_path(H.default_model()),
                                                          H.ModelNotFoundError, f"no folder 'models/{GENERATORS}' in "
                                                          "the current folder .*Fix: give the absolute path, "
                                                          f"LLM_LAB_MODEL=/.*/models/{GENERATORS}$"),
    "C18: LLM_LAB_ZH_EMBEDDER=a hub id not cached": (lambda f: setenv(f, LLM_LAB_ZH_EMBEDDER="someone/not-cached")
                                                     or H.model_path(H.multilingual_embedder()),
                                                     H.ModelNotFoundError, "`LLM_LAB_ZH_EMBEDDER=someone/not-cached "
                                                     "make models`"),
    "C26: LLM_LAB_MODELS_DIR=a file": (lambda f: setenv(f, LLM_LAB_MODELS_DIR=str(f["a_file"]))
                                       or H.model_path(GENERATORS),
                                       H.ModelNotFoundError, "LLM_LAB_MODELS_DIR .* is a file, not a folder.*Fix: set "
                                       "LLM_LAB_MODELS_DIR to the folder that holds them"),
    "C33: a bundled name with a trailing slash": (lambda f: H.model_path(GENERATORS + "/"), H.ModelNotFoundError,
                                                  f"Did you mean the bundled name '{GENERATORS}' \\(no slash\\)\\?"),
    "C52: compute_dtype with a typo": (lambda f: H.quantization_config("4-bit NF4", compute_dtype="bf17"), ValueError,
                                       "unknown compute_dtype 'bf17'; pass torch.bfloat16.*'bf16'"),
    "C52: compute_dtype as a number": (lambda f: H.quantization_config("4-bit NF4", compute_dtype=16), TypeError,
                                       "compute_dtype must be a torch dtype such as torch.bfloat16.*got int"),
    # --- loss curves and training tables (P3 A25-A30)
    "A25: a log whose loss is None": (lambda f: H.losses([{"step": 1, "loss": None}]), TypeError,
                                      "entry 0 of the log has loss None, not a number"),
    "A25: a log of numbers, not dicts": (lambda f: H.losses([2.0, 1.0]), TypeError,
                                         "entry 0 of the log is a float, not a dict.*trainer.state.log_history"),
    "A26: seconds per step of None": (lambda f: H.seconds_per_step(None), TypeError,
                                      "trainer.state.log_history \\(a list\\), got NoneType"),
    "A27: seconds per step of trainer.state": (lambda f: H.seconds_per_step(FakeState()), TypeError,
                                               "got FakeState: pass its .log_history"),
    "A27: seconds per step of the trainer": (lambda f: H.seconds_per_step(FakeTrainer()), TypeError,
                                             "got FakeTrainer: pass trainer.state.log_history"),
    "A28: training table of None": (lambda f: H.training_table({"a": None}), TypeError,
                                    "run 'a': pass the finished trainer itself.*not a NoneType"),
    "A29: training table of a log": (lambda f: H.training_table({"a": [{"step": 1, "loss": 1.0}]}), TypeError,
                                     "run 'a': pass the finished trainer itself, e.g. \\{'LoRA': trainer\\}"),
    "A30: loss curve of a run that logged nothing": (lambda f: H.plot_losses({"a": []}), ValueError,
                                                     "run 'a' logged no training loss.*logging_steps"),
    # --- attention, similarity, versions (P3 B62, C40, C59, C63, C64)
    "B62: attention layers of different lengths": (lambda f: H.top_heads((torch.rand(1, 2, 4, 4),
                                                                           torch.rand(1, 2, 3, 3)), 3, 1),
                                                   ValueError, "layer 1's attention has shape \\(1, 2, 3, 3\\) but "
                                                   "layer 0's has \\(1, 2, 4, 4\\): pass the attentions of one "
                                                   "forward pass"),
    "C40: versions of [None]": (lambda f: H.versions([None]), TypeError,
                                "versions expects package names \\(str\\) such as 'torch', got None"),
    "C40: versions of an empty name": (lambda f: H.versions(["torch", ""]), TypeError, "got ''"),
    "C59: cosine of no embeddings": (lambda f: H.cosine_matrix(np.empty((0, 5))), ValueError,
                                     "the embeddings are empty \\(shape \\(0, 5\\)\\): embed at least one text"),
    "C63: similarity with decimals=-1": (lambda f: H.plot_similarity(["a", "b"], np.eye(2), decimals=-1), ValueError,
                                         "decimals .*must be an int from 0 to 10, e.g. decimals=2; got -1"),
    "C64: similarity with decimals=1.5": (lambda f: H.plot_similarity(["a", "b"], np.eye(2), decimals=1.5),
                                          TypeError, "decimals .*must be an int from 0 to 10.*got float 1.5"),
    "C64: similarity with decimals as text": (lambda f: H.plot_similarity(["a", "b"], np.eye(2), decimals="2"),
                                              TypeError, "decimals .*must be an int.*got str"),
}


class FakeState:
    """Stands in for trainer.state: it has log_history."""

    log_history = [{"step": 1, "loss": 1.0}, {"step": 1, "train_runtime": 2.0}]


class FakeTrainer:
    state = FakeState()


@pytest.fixture(scope="module")
def f(smol_model, smol_tokenizer, bert_tokenizer, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("views")
    t5 = tmp / "t5"  # an encoder-decoder: its head is also named ...ForConditionalGeneration
    t5.mkdir()
    (t5 / "config.json").write_text(json.dumps({"architectures": ["T5ForConditionalGeneration"], "model_type": "t5"}))
    seq2seq = tmp / "seq2seq"
    seq2seq.mkdir()
    (seq2seq / "config.json").write_text(json.dumps({"architectures": ["BartForConditionalGeneration"],
                                                     "model_type": "my-bart", "is_encoder_decoder": True}))
    a_file = tmp / "a_file.safetensors"
    a_file.write_bytes(b"not a folder")
    tokenizer_only = tmp / "tokenizer_only"
    tokenizer_only.mkdir()
    (tokenizer_only / "tokenizer.json").write_text("{}")
    bert_folder = tmp / "bert"
    bert_folder.mkdir()
    (bert_folder / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    bad_config = tmp / "bad_config"
    bad_config.mkdir()
    (bad_config / "config.json").write_text("{ this is not json")
    # a models/ folder whose files have the sizes their manifest promises, but garbage inside
    damaged = tmp / "models"
    for name, files in {GENERATORS: {"config.json": H.model_path(GENERATORS).joinpath("config.json").read_bytes(),
                                     "model.safetensors": b"\xff" * 4096},
                        "qwen2.5-tokenizer": {"tokenizer.json": b"\x00\x13garbage" * 100},
                        "noto-sans-cjk-sc": {"NotoSansCJKsc-Regular.otf": b"\x00garbage" * 100}}.items():
        folder = damaged / name
        folder.mkdir(parents=True)
        for file, data in files.items():
            (folder / file).write_bytes(data)
        write_manifest(BUNDLED[name], folder)
    return {"smol": smol_model, "smol_tok": smol_tokenizer, "bert_tok": bert_tokenizer, "tmp": tmp,
            "a_file": a_file, "tokenizer_only": tokenizer_only, "bert_folder": bert_folder, "bad_config": bad_config,
            "damaged": damaged, "t5": t5, "seq2seq": seq2seq}


def test_there_are_many_cases():
    assert len(CASES) >= 80


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_clear_error(case, f, monkeypatch):
    monkeypatch.setenv("LLM_LAB_DEVICE", "")  # pick_device's own argument is what is tested
    for setting in ("LLM_LAB_MODEL", "LLM_LAB_ZH_MODEL", "LLM_LAB_ZH_EMBEDDER"):
        monkeypatch.delenv(setting, raising=False)
    assert_clear_error(CASES[case], {**f, "env": monkeypatch})


# ---------------------------------------------------------------- the right result, not an error


def drawn(text_artist) -> str:
    """What matplotlib draws for a Text: plain text (not maths), with escaped dollars shown as `$`."""
    import matplotlib.cbook

    text = text_artist.get_text()
    assert not matplotlib.cbook.is_math_text(text), f"{text!r} would be read as maths"
    return text.replace("\\$", "$")


def render(fig) -> None:
    fig.savefig(io.BytesIO(), format="png")  # a mathtext error would only show here, at display time


DOLLARS = ["I paid $5 for a $10 pizza", "cost $\\x$", "plain text"]


def test_dollars_in_similarity_labels_are_drawn_literally():  # rows 166, 167
    fig = H.plot_similarity(DOLLARS, np.eye(3) + 0.1, title="$ and $")
    render(fig)
    assert [drawn(t) for t in fig.axes[0].get_xticklabels()] == DOLLARS
    assert drawn(fig.axes[0].title) == "$ and $"


def test_dollars_in_the_2d_map_are_drawn_literally():
    fig = H.plot_embeddings_2d(DOLLARS, np.eye(3), groups=["$a$", "b", "b"], markers=["$1", "$2", "$2"])
    render(fig)
    ax = fig.axes[0]
    assert [drawn(t) for t in ax.get_legend().get_texts()] == ["$a$", "b", "$1", "$2"]
    assert drawn(ax.texts[1]) == "cost $\\x$"


def test_dollars_in_attention_labels_are_drawn_literally():  # row 113
    tokens = ["$", "$\\x$", "a", "b"]
    fig = H.plot_attention(fake_attentions(), tokens, 0, 0, title="$t$")
    render(fig)
    assert [drawn(t) for t in fig.axes[0].get_xticklabels()] == tokens and drawn(fig.axes[0].title) == "$t$"


def test_dollars_in_run_names_are_drawn_literally():  # row 183
    fig = H.plot_losses({"lr $\\x$": [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.0}]}, title="$5 run")
    render(fig)
    assert drawn(fig.axes[0].get_legend().get_texts()[0]) == "lr $\\x$" and drawn(fig.axes[0].title) == "$5 run"


def test_dollars_in_the_nf4_title_are_drawn_literally():
    fig = H.plot_nf4(torch.randn(4, 64), title="$W_q$ of layer 0")
    render(fig)
    assert drawn(fig._suptitle) == "$W_q$ of layer 0"


def test_the_similarity_playground_draws_a_dollar_sentence(embedder):  # row 168
    from helpers.playgrounds import similarity_png

    png, note = similarity_png(embedder, "cost $\\x$\nI paid $5 for a $10 pizza")
    assert png[:4] == b"\x89PNG" and note == ""


def test_text_without_dollars_is_unchanged():
    from helpers.render import mpl_text

    assert mpl_text("Cosine similarity（余弦相似度）") == "Cosine similarity（余弦相似度）"
    assert mpl_text("$5") == "\\$5" and mpl_text(12) == "12"


def test_numpy_attentions_and_numpy_ints_are_accepted():  # row 109
    attentions = fake_attentions()
    expected = H.attention_matrix(attentions, 1, 2)
    assert np.array_equal(H.attention_matrix([a.numpy() for a in attentions], 1, 2), expected)
    assert np.array_equal(H.attention_matrix(attentions, np.int64(1), np.int32(2)), expected)
    assert H.top_heads(attentions, np.int64(3), np.int64(1), n=np.int64(2)) == H.top_heads(attentions, 3, 1, n=2)
    assert H.top_heads(attentions, 3, 1, n=0) == []


def test_nf4_takes_a_numpy_block_size():
    w = torch.randn(4, 64)
    assert torch.equal(H.nf4_roundtrip(w, blocksize=np.int64(64))[2], H.nf4_roundtrip(w)[2])


def test_a_torch_device_is_accepted():
    assert H.pick_device(torch.device("cpu")) == "cpu" and H.pick_device("cpu:0") == "cpu:0"


def test_model_names_and_folders_that_can_generate_pass(monkeypatch):
    monkeypatch.setenv("LLM_LAB_MODEL", " qwen2.5-coder-0.5b-instruct ")
    assert H.default_model() == "qwen2.5-coder-0.5b-instruct"
    monkeypatch.setenv("LLM_LAB_MODEL", str(H.model_path(GENERATORS)))  # a folder with a LlamaForCausalLM
    assert H.default_model() == str(H.model_path(GENERATORS))
    monkeypatch.setenv("LLM_LAB_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")  # a hub id: checked when it is loaded
    assert H.default_model() == "Qwen/Qwen2.5-0.5B-Instruct"
    # the embedder and the tokenizers are still there for the cells that load them as such
    for name in ("all-minilm-l6-v2", "qwen2.5-tokenizer", "cl100k-base"):
        assert H.model_path(name).is_dir()


def test_a_font_that_freetype_cannot_read_names_the_fix(monkeypatch, tmp_path):  # row 261, second line of defence
    from matplotlib import font_manager

    from helpers import fonts

    broken = tmp_path / "NotoSansCJKsc-Regular.otf"
    broken.write_bytes(b"OTTO" + b"\x00garbage" * 50)  # the right first bytes, nothing after them
    monkeypatch.setattr(fonts, "cjk_font_path", lambda: broken)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    with pytest.raises(H.FontNotFoundError, match="cannot be read as a font.*run `make models`"):
        H.use_cjk_font()


def test_site_escapes_notebook_file_names(tmp_path):  # row 284
    import nbformat

    from helpers import site

    cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nIts summary."), nbformat.v4.new_code_cell("1 + 1")]
    cells[1].execution_count = 1
    names = ["a.ipynb", "c' onmouseover='alert(3).ipynb", "z.ipynb"]
    for name in names:
        nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / name)
    out = tmp_path / "site"
    site.build(out, [tmp_path / n for n in names])
    for page in ("index.html", "a.html", "z.html"):
        text = (out / page).read_text()
        assert "onmouseover='" not in text and "href='c%27%20onmouseover%3D%27alert%283%29.html'" in text, page
    assert (out / "c' onmouseover='alert(3).html").is_file()


def test_site_drops_scripts_from_markdown(tmp_path):  # row 316
    import nbformat

    from helpers import site

    markdown = ("# Title\n\nMarker-7Q <script>alert(1)</script><img src=x onerror=alert(2)> "
                "[link](javascript:alert(3)) `<E4>` and a < b, **bold** and $x^2$.\n\n| a | b |\n|:--|--:|\n| 1 | 2 |")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    nbformat.write(nb, tmp_path / "x.ipynb")
    page = (site.build(tmp_path / "site", [tmp_path / "x.ipynb"])[1]).read_text()
    body = page[page.index("Marker-7Q"):page.index("</table>")]
    assert "alert(" not in body and "onerror" not in body and "javascript:" not in body
    assert "<strong>bold</strong>" in body and "<code>&lt;E4&gt;</code>" in body and "$x^2$" in body
    assert "a &lt; b" in body and "<table>" in body and 'src="x"' in body


def test_strip_remote_removes_protocol_relative_and_unquoted_sources():  # row 317
    from helpers import site

    page = ("<script src=//cdn.example.com/y.js></script><script src='//cdn.example.com/z.js'></script>"
            "<SCRIPT SRC=\"HTTP://cdn.example.com/w.js\"></SCRIPT><script>local()</script>"
            "<script type=\"module\">import('//cdn.example.com/m.mjs')</script>")
    assert site.strip_remote(page) == "<script>local()</script>"


# ---------------------------------------------------------------- second probe: results, not errors


def test_pick_dtype_takes_what_pick_device_takes():  # C22, C23
    assert H.pick_dtype("CPU") == H.pick_dtype(" cpu ") == H.pick_dtype(torch.device("cpu")) == torch.float32


def test_compute_dtype_takes_the_projects_short_names():  # C52
    def compute(dtype):
        return H.quantization_config("4-bit NF4", compute_dtype=dtype)["quantization_config"].bnb_4bit_compute_dtype

    assert compute("bf16") == compute("bfloat16") == compute(torch.bfloat16) == torch.bfloat16
    assert compute("fp32") == compute(torch.float32) == torch.float32


def test_an_embedder_folder_and_a_multimodal_generator_still_pass(monkeypatch, tmp_path):  # C17, E07, E09
    monkeypatch.setenv("LLM_LAB_ZH_EMBEDDER", str(H.model_path("multilingual-e5-small")))
    assert H.multilingual_embedder() == str(H.model_path("multilingual-e5-small"))
    st = tmp_path / "st-over-a-causal-lm"  # a sentence-transformers model built on a causal LM is an embedder
    st.mkdir()
    (st / "config.json").write_text(json.dumps({"architectures": ["Qwen2ForCausalLM"]}))
    (st / "modules.json").write_text("[]")
    monkeypatch.setenv("LLM_LAB_ZH_EMBEDDER", str(st))
    assert H.multilingual_embedder() == str(st)
    vl = tmp_path / "vl"
    vl.mkdir()
    (vl / "config.json").write_text(json.dumps({"architectures": ["LlavaForConditionalGeneration"],
                                                "model_type": "llava"}))
    M.check_generator(str(vl))  # a vision-language generator is not an encoder-decoder


def test_plot_losses_title_none_is_the_default_title():  # E06
    log = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.0}]
    assert H.plot_losses({"a": log}, title=None).axes[0].get_title() == H.plot_losses({"a": log}).axes[0].get_title()
    assert H.seconds_per_step(FakeState.log_history) == 2.0


def test_similarity_decimals_take_numpy_ints():  # C63
    fig = H.plot_similarity(["a", "b"], np.eye(2) + 0.5, decimals=np.int64(1))
    assert [t.get_text() for t in fig.axes[0].texts] == ["1.0", "0.6", "0.6", "1.0"]


def test_a_memory_table_of_one_footprint_leaves_the_layer_columns_blank(smol_model):
    """Third probe M35b: H.memory_table([H.footprint(model)]) divided by the layer size it does not have."""
    view = H.memory_table([H.footprint(smol_model)])
    assert str(view) == "model: 538.1 MB (1.00 x fp32)"
