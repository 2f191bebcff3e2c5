"""Similarity pictures for embeddings（嵌入的相似度）: a cosine heatmap and a 2-D map (PCA).

    emb = model.encode(sentences)               # sentence-transformers, (n, 384)
    H.plot_similarity(sentences, emb)           # n x n heatmap of cosine similarities
    H.plot_embeddings_2d(sentences, emb, groups=topics)                 # colour = topic
    H.plot_embeddings_2d(sentences, emb, groups=topics, markers=langs)  # and shape = language
"""

from __future__ import annotations

import textwrap

from .checks import int_arg
from .render import mpl_text


def _as_matrix(embeddings):
    import numpy as np

    if hasattr(embeddings, "detach"):
        embeddings = embeddings.detach().float().cpu().numpy()
    m = np.asarray(embeddings, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (n_texts, dim), got shape {m.shape}")
    if m.shape[0] == 0 or m.shape[1] == 0:
        raise ValueError(f"the embeddings are empty (shape {m.shape}): embed at least one text, e.g. "
                         "model.encode(['a sentence', 'another one'])")
    if not np.isfinite(m).all():
        raise ValueError("embeddings contain NaN or inf")
    return m


def cosine_matrix(embeddings):
    """(n, n) cosine similarities, like sentence_transformers.util.cos_sim(e, e)."""
    import numpy as np

    m = _as_matrix(embeddings)
    unit = m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-12, None)
    return unit @ unit.T


def _check_labels(labels, n: int) -> list[str]:
    if labels is None or isinstance(labels, (bytes, dict)) or not hasattr(labels, "__len__"):
        raise TypeError(f"labels must be a list of {n} texts, one per embedding (usually the sentences you "
                        f"embedded), got {type(labels).__name__}")
    if isinstance(labels, str) or len(labels) != n:
        raise ValueError(f"need one label per embedding: {n} embeddings, "
                         f"{1 if isinstance(labels, str) else len(labels)} labels")
    return [textwrap.shorten(str(label), 42, placeholder="…") for label in labels]


def plot_similarity(labels, embeddings, *, title: str | None = None, decimals: int = 2):
    """Heatmap of cosine similarities between embeddings, values written in the cells."""
    import matplotlib.pyplot as plt

    from .fonts import use_cjk_font

    decimals = int_arg("decimals (digits after the point)", decimals, 0, 10, example=2)
    sim = cosine_matrix(embeddings)
    names = _check_labels(labels, sim.shape[0])
    use_cjk_font()
    n = len(names)
    fig, ax = plt.subplots(figsize=(2.5 + 0.55 * n, 1.5 + 0.45 * n))
    image = ax.imshow(sim, cmap="viridis", vmin=min(0.0, float(sim.min())), vmax=1.0)
    ticks = [mpl_text(name) for name in names]  # "$5" is drawn as $5, not read as maths
    ax.set_xticks(range(n), ticks, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(n), ticks, fontsize=8)
    if n <= 16:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{sim[i, j]:.{decimals}f}", ha="center", va="center", fontsize=7,
                        color="black" if sim[i, j] > 0.6 else "white")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="cosine similarity")
    ax.set_title(mpl_text(title or "Cosine similarity（余弦相似度）"))
    fig.tight_layout()
    plt.close(fig)
    return fig


def pca_2d(embeddings):
    """Project embeddings onto their first two principal components; (n, 2). Deterministic signs."""
    import numpy as np

    m = _as_matrix(embeddings)
    if m.shape[0] < 2:
        raise ValueError("a 2-D map needs at least two embeddings")
    if m.shape[1] < 2:
        raise ValueError(f"a 2-D map needs embeddings of at least 2 dimensions, got shape {m.shape}: pass the "
                         "vectors themselves, e.g. model.encode(sentences) of shape (n_texts, 384)")
    centred = m - m.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return centred @ (components * signs[:, None]).T


MARKER_SHAPES = "o^sDvP*X"


def plot_embeddings_2d(labels, embeddings, *, groups=None, markers=None, title: str | None = None,
                       annotate: bool | None = None):
    """Scatter of the embeddings' first two principal components, coloured by group.

    `markers` is an optional second grouping drawn as the point's shape (e.g. the language), so
    colour = topic and shape = language show in one picture:
        H.plot_embeddings_2d(texts, emb, groups=topics, markers=langs)   # ● en, ▲ zh
    Points are labelled with their text when there are at most 12 (annotate=None), else the
    legend carries the meaning; annotate=True/False forces it.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from .fonts import use_cjk_font

    xy = pca_2d(embeddings)
    names = _check_labels(labels, xy.shape[0])
    groups = list(groups) if groups is not None else ["" for _ in names]
    if len(groups) != len(names):
        raise ValueError(f"need one group per label: {len(names)} labels, {len(groups)} groups")
    shapes = list(markers) if markers is not None else ["" for _ in names]
    if len(shapes) != len(names):
        raise ValueError(f"need one marker group per label: {len(names)} labels, {len(shapes)} markers")
    kinds = list(dict.fromkeys(shapes))
    if len(kinds) > len(MARKER_SHAPES):
        raise ValueError(f"at most {len(MARKER_SHAPES)} marker groups, got {len(kinds)}")
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    colours = {g: f"C{k % 10}" for k, g in enumerate(dict.fromkeys(groups))}
    for g in colours:
        for kind in kinds:
            idx = [i for i, (x, m) in enumerate(zip(groups, shapes, strict=True)) if x == g and m == kind]
            if idx:
                ax.scatter(xy[idx, 0], xy[idx, 1], s=30, color=colours[g], marker=MARKER_SHAPES[kinds.index(kind)])
    # legend: one entry per colour, then one per shape (in grey, so shape and colour read apart)
    handles = [Line2D([], [], color=c, marker="o", linestyle="", label=mpl_text(g))
               for g, c in colours.items() if g]
    if markers is not None:
        handles += [Line2D([], [], color="#666666", marker=MARKER_SHAPES[k], linestyle="", label=mpl_text(kind))
                    for k, kind in enumerate(kinds)]
    if annotate is None:
        annotate = len(names) <= 12
    for (x, y), name in zip(xy, names, strict=True) if annotate else []:
        ax.annotate(mpl_text(textwrap.shorten(name, 28, placeholder="…")), (x, y), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    if handles:
        ax.legend(handles=handles, fontsize=8)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title(mpl_text(title or "Embeddings in 2-D (PCA)"))
    fig.tight_layout()
    plt.close(fig)
    return fig
