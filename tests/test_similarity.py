import numpy as np
import pytest

import helpers as H


def test_cosine_matrix_equals_sentence_transformers_cos_sim(embedder):
    from sentence_transformers import util

    emb = embedder.encode(["A cat sleeps.", "A kitten naps.", "Stocks fell.", "猫在睡觉。"])
    assert np.allclose(H.cosine_matrix(emb), util.cos_sim(emb, emb).numpy(), atol=1e-5)


def test_paraphrases_score_higher_than_unrelated_sentences(embedder):
    sim = H.cosine_matrix(embedder.encode(["The cat is sleeping on the sofa.", "A kitten naps on the couch.",
                                           "The stock market fell today."]))
    assert sim[0, 1] > 0.5 > sim[0, 2]


def test_similarity_heatmap_has_one_tick_per_label(embedder):
    labels = ["one", "two", "三"]
    fig = H.plot_similarity(labels, embedder.encode(labels))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == labels


def test_pca_is_deterministic_and_2d():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 5))
    assert H.pca_2d(x).shape == (10, 2)
    assert np.array_equal(H.pca_2d(x), H.pca_2d(x.copy()))
    assert np.allclose(np.abs(H.pca_2d(x)), np.abs(H.pca_2d(-x)))


def test_2d_plot_groups_in_the_legend():
    x = np.eye(4)
    fig = H.plot_embeddings_2d(["a", "b", "c", "d"], x, groups=["g1", "g1", "中文", "中文"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["g1", "中文"]


def test_2d_plot_markers_give_a_second_grouping_by_shape():
    x = np.eye(4)
    fig = H.plot_embeddings_2d(["a", "b", "c", "d"], x, groups=["cat", "dog", "cat", "dog"],
                               markers=["en", "en", "zh", "zh"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cat", "dog", "en", "zh"]
    # one scatter per (colour, shape) pair that has points; the two shapes differ
    assert len(ax.collections) == 4
    paths = {tuple(map(tuple, c.get_paths()[0].vertices.round(3))) for c in ax.collections}
    assert len(paths) == 2
    # colours follow the group, whatever the shape
    assert np.allclose(ax.collections[0].get_facecolor(), ax.collections[1].get_facecolor())


@pytest.mark.parametrize("markers,match", [(["en"], "one marker group per label"),
                                           ([str(i) for i in range(9)], "at most 8 marker groups")])
def test_2d_plot_bad_markers_are_explained(markers, match):
    n = len(markers) if len(markers) > 1 else 3
    with pytest.raises(ValueError, match=match):
        H.plot_embeddings_2d([f"t{i}" for i in range(n)], np.eye(n), markers=markers)


@pytest.mark.parametrize("labels,emb,match", [
    (["a"], np.zeros((2, 3)), "one label per embedding"),
    (["a", "b"], np.zeros(3), "2-D array"),
    (["a", "b"], np.array([[1.0, np.nan], [0, 1]]), "NaN"),
])
def test_bad_inputs_are_explained(labels, emb, match):
    with pytest.raises(ValueError, match=match):
        H.plot_similarity(labels, emb)
