"""The glossary（术语表）: data/glossary.tsv, the Chinese beside each term in every chapter, and README's copy."""

import re
from pathlib import Path

import pytest

import helpers.glossary as G

ROOT = Path(__file__).resolve().parent.parent


def test_every_chapter_gives_the_glossary_chinese_at_a_terms_first_use():
    problems = G.problems(G.load_glossary(), G.notebook_prose())
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_missing_a_wrong_and_an_avoided_translation():
    terms = G.load_glossary("english\tchinese\talso\tchapters\tavoid\n"
                            "logit lens\tlogit 透镜\t\tch03\t逻辑透镜\nKV cache\t键值缓存\tKV 缓存\tch03\t\n")
    chapters = {"ch03": ["## 3.8 The logit lens（logit 透镜）", "the logit lens（逻辑透镜） again",
                         "why the KV cache matters", "the KV cache（键值缓存）"]}
    found = G.problems(terms, chapters)
    assert any("'logit lens'（逻辑透镜） is not logit 透镜" in p for p in found)
    assert any("'逻辑透镜' for 'logit lens'" in p for p in found)
    assert any("first use of 'KV cache' has no （键值缓存）" in p for p in found)  # a later use does not count
    assert len(found) == 3


def test_code_and_a_longer_term_do_not_count_as_a_use():
    terms = G.load_glossary("english\tchinese\talso\tchapters\tavoid\n"
                            "embedding\t嵌入\t\tch02\t\nstatic word embedding\t静态词向量\t\tch02\t\n")
    chapters = {"ch02": ["`embedding = model.embed(x)`",
                         "Static word embeddings（静态词向量）: older embeddings（嵌入）"]}
    assert G.problems(terms, chapters) == []


@pytest.mark.parametrize("text,problem", [
    ("term\tzh\n", "the first line must be the header"),
    ("english\tchinese\talso\tchapters\tavoid\nrank\t\t\tch12a\t\n", "line 2"),
    ("english\tchinese\talso\tchapters\tavoid\nrank\t秩\t\tch12a\t\nRank\t秩\t\tch12a\t\n", "already in the glossary"),
])
def test_a_bad_glossary_row_names_its_line(text, problem):
    with pytest.raises(ValueError, match=problem):
        G.load_glossary(text)


def test_no_avoided_translation_anywhere_a_learner_reads():
    terms = G.load_glossary()
    files = [*ROOT.glob("helpers/*.py"), *ROOT.glob("data/*.txt"), *ROOT.glob("data/*.jsonl"), ROOT / "README.md"]
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    texts[ROOT / "README.md"] = re.sub(r"<!-- glossary:begin -->.*<!-- glossary:end -->", "",
                                       texts[ROOT / "README.md"], flags=re.S)  # the table names them to avoid
    found = [f"{path.relative_to(ROOT)}: {bad!r} (write {t.chinese})" for path, text in texts.items()
             for t in terms for bad in t.avoid if bad in text]
    assert not found, found


def test_readme_shows_the_glossary_as_generated():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- glossary:begin -->\n(.*?)\n<!-- glossary:end -->", readme, re.S)
    assert block, "README.md needs the glossary between <!-- glossary:begin --> and <!-- glossary:end -->"
    assert block.group(1) == G.glossary_markdown(), "regenerate it with: python -m helpers.glossary"
