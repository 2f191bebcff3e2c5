import io
import warnings

import pytest

import helpers as H


def test_chinese_in_a_figure_draws_without_missing_glyphs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert H.use_cjk_font() == "Noto Sans CJK SC"
    fig, ax = plt.subplots()
    ax.set_title("注意力掩码 attention mask")
    ax.set_xlabel("分词器对比 tokenizers")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []


def test_missing_font_names_the_fix(monkeypatch, tmp_path):
    from helpers.fonts import cjk_font_path

    monkeypatch.setenv("LLM_LAB_MODELS_DIR", str(tmp_path))
    with pytest.raises(H.FontNotFoundError, match="make models"):
        cjk_font_path()


def test_a_learners_own_font_choice_is_kept(monkeypatch):
    import matplotlib

    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["serif"])
    H.use_cjk_font()
    assert list(matplotlib.rcParams["font.family"]) == ["serif", "Noto Sans CJK SC"]
