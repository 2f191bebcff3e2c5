"""The English → Chinese terms the chapters use（术语表）, from data/glossary.tsv, and the checks on them.

One row per term: the English term, the Chinese the notebooks write beside it, the usual
alternatives a reader will meet elsewhere, the chapters that use it, and the translations to avoid
(a mistranslation or an awkward calque). tests/test_glossary.py checks every chapter against it:
at a term's first use in a chapter's prose the Chinese stands beside it, "term（中文）", and every
"term（…）" a notebook writes uses the glossary's Chinese or one of its alternatives.

    python -m helpers.glossary          # the README's table, as markdown
    python -m helpers.glossary --check  # what breaks the rules, chapter by chapter (the test's list)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FILE = "glossary.tsv"
COLUMNS = ["english", "chinese", "also", "chapters", "avoid"]


@dataclass(frozen=True)
class Term:
    english: str  # as it appears in the prose, lower case unless it is a name (LoRA, RoPE)
    chinese: str  # what the notebooks write beside it
    also: tuple[str, ...]  # usual alternatives (also accepted beside the term)
    chapters: tuple[str, ...]  # notebook stems' prefixes: ch01, ch02, ch03, ch03b, ch12a, ch12b; none: kept in English
    avoid: tuple[str, ...]  # translations that must not appear anywhere

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.chinese, *self.also)


def load_glossary(text: str | None = None) -> list[Term]:
    """The rows of data/glossary.tsv (or of `text`, the same format), checked: a bad row names its line."""
    if text is None:
        from .store import data_path

        text = data_path(FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].split("\t") != COLUMNS:
        raise ValueError(f"{FILE}: the first line must be the header {chr(9).join(COLUMNS)!r}")
    terms, seen = [], set()
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(COLUMNS) or not cells[0].strip() or not cells[1].strip() or not cells[3].strip():
            raise ValueError(f"{FILE} line {number}: {len(COLUMNS)} tab-separated cells with an English term, "
                             f"its Chinese and its chapters ('-' for none); got {line!r}")
        english = cells[0].strip()
        if english.lower() in seen:
            raise ValueError(f"{FILE} line {number}: {english!r} is already in the glossary")
        seen.add(english.lower())
        split = lambda cell: tuple(part.strip() for part in cell.split("/") if part.strip())  # noqa: E731
        chapters = () if cells[3].strip() == "-" else tuple(cells[3].split())  # '-': a name left in English
        terms.append(Term(english, cells[1].strip(), split(cells[2]), chapters, split(cells[4])))
    return terms


def glossary_markdown(terms: list[Term] | None = None) -> str:
    """The glossary as a markdown table, sorted by English term (what README.md shows)."""
    terms = load_glossary() if terms is None else terms
    rows = ["| English | 中文 | also written | chapters |", "| --- | --- | --- | --- |"]
    for t in sorted(terms, key=lambda t: t.english.lower()):
        avoid = f" (not {' / '.join(t.avoid)})" if t.avoid else ""
        rows.append(f"| {t.english} | {t.chinese}{avoid} | {' / '.join(t.also)} | {' '.join(t.chapters) or '-'} |")
    return "\n".join(rows)


def prose(markdown: str) -> str:
    """Markdown with code (fenced blocks, `inline`) and link targets blanked out, keeping every position."""
    blank = lambda m: " " * len(m.group(0))  # noqa: E731
    markdown = re.sub(r"```.*?```", blank, markdown, flags=re.S)
    markdown = re.sub(r"`[^`\n]*`", blank, markdown)
    return re.sub(r"\]\([^)]*\)", blank, markdown)


def term_pattern(english: str) -> re.Pattern:
    """A term as a whole word, case-insensitive, plural allowed: 'attention head' finds 'Attention heads'."""
    words = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", english))
    return re.compile(rf"(?<![\w-]){words}(?:s|es)?(?![\w-])", re.I)


def bracket_after(text: str, end: int, window: int = 40) -> str | None:
    """The first '（…）' on the same line within `window` characters after `end`, or None.

    'Tokens and embeddings（词元与嵌入）' -> '词元与嵌入' for 'tokens' as for 'embeddings': a heading's
    bracket translates the whole heading, so a term counts as given if the bracket contains its Chinese.
    """
    line = text[end:].split("\n", 1)[0]
    m = re.search(r"（([^）]*)）", line)
    return m.group(1) if m and m.start() <= window else None


def uses(term: Term, text: str, longer: list[re.Pattern]) -> list[re.Match]:
    """Where `term` is used in `text`'s prose, leaving out uses inside a longer glossary term."""
    text = prose(text)
    inside = [(o.start(), o.end()) for p in longer for o in p.finditer(text)]
    return [m for m in term_pattern(term.english).finditer(text)
            if not any(a <= m.start() and m.end() <= b for a, b in inside)]


def problems(terms: list[Term], chapters: dict[str, list[str]]) -> list[str]:
    """What breaks the glossary's rules in `chapters` ({'ch01': [markdown of each cell], ...}).

    1. At a term's first use in the prose of a chapter that lists it, a bracket soon after contains
       its Chinese (or an alternative).
    2. A bracket right after a term, in running text (not a heading), contains its Chinese.
    3. No translation the glossary says to avoid appears.
    A use inside a longer glossary term ('embedding' in 'static word embedding') is the longer term's.
    """
    found = []
    for term in terms:
        longer = [term_pattern(o.english) for o in terms
                  if len(o.english) > len(term.english) and term_pattern(term.english).search(o.english)]
        for chapter in term.chapters:
            first = next(((src, m[0]) for src in chapters.get(chapter, []) for m in [uses(term, src, longer)] if m),
                         None)
            if first is None:
                found.append(f"{chapter}: {term.english!r} is listed for it but never used (or not a notebook)")
                continue
            src, m = first
            zh = bracket_after(src, m.end())
            if zh is None or not any(a in zh for a in term.accepted):
                found.append(f"{chapter}: first use of {term.english!r} has no （{term.chinese}）: "
                             f"…{src[max(0, m.start() - 40):m.end() + 20]!r}")
        for chapter, cells in chapters.items():
            for src in cells:
                for m in uses(term, src, longer):
                    line = src[:m.start()].rsplit("\n", 1)[-1]
                    bracket = re.match(r"[*_`]*（([^）]*)）", src[m.end():])
                    if bracket and not line.lstrip().startswith(("#", "**")) and \
                            not any(a in bracket.group(1) for a in term.accepted):
                        found.append(f"{chapter}: {term.english!r}（{bracket.group(1)}） is not "
                                     f"{' / '.join(term.accepted)}")
            found += [f"{chapter}: {bad!r} for {term.english!r}: write {term.chinese}"
                      for bad in term.avoid if any(bad in src for src in cells)]
    return found


def notebook_prose(folder=None) -> dict[str, list[str]]:
    """{'ch01': [each markdown cell's text], ...} for the notebooks in `folder` (notebooks/)."""
    import json
    from pathlib import Path

    folder = Path(folder) if folder else Path(__file__).resolve().parent.parent / "notebooks"
    chapters = {}
    for path in sorted(folder.glob("ch*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        chapters[path.name.split("_")[0]] = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    return chapters


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--check"]:
        print("\n".join(problems(load_glossary(), notebook_prose())) or "every chapter follows the glossary")
    else:
        print(glossary_markdown())
