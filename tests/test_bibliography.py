"""Every paper the prose names is in references.bib and cited; every entry is cited somewhere.

The prose is the markdown of the chapter notebooks and the .md pages. A citation is a
``{cite}``, ``{cite:p}`` or ``{cite:t}`` role; a mention is an author and a year written out
("Graves (2013)", "Goyal et al., 2017", "Lessard, Recht and Packard (2016)"), or "Name et
al." without a year. The bibliography is read with pybtex, the parser Sphinx's bibtex
extension uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pybtex.database import parse_file

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted((REPO / "chapters").glob("*.ipynb")) + sorted((REPO / "chapters").glob("*.md"))
BIBLIOGRAPHY = parse_file(str(REPO / "references.bib"), bib_format="bibtex").entries

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
NAME = r"[A-Z][a-zà-ÿ][A-Za-zÀ-ÿ'’-]*"  # a capitalized word, not an acronym (SGD)
AUTHORS = rf"(?P<first>{NAME})(?P<rest> et al\.|(?:, {NAME})*,? (?:and|&) {NAME})?"
MENTION = re.compile(
    rf"\b{AUTHORS}(?:,? \((?P<year1>(?:1[7-9]|20)\d\d)\)|, (?P<year2>(?:1[7-9]|20)\d\d)\b)"
    rf"|\b(?P<first3>{NAME}) et al\.,? (?P<year3>(?:1[7-9]|20)\d\d)\b"
)
ET_AL = re.compile(rf"\b({NAME}) et al\.")


def _prose(path: Path) -> str:
    if path.suffix == ".md":
        text = path.read_text()
    else:
        cells = json.loads(path.read_text())["cells"]
        text = "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return _without_code_blocks(text)


def _without_code_blocks(text: str) -> str:
    """The text without fenced code blocks; fenced directives (```{exercise}, ```{admonition})
    are prose and stay. A bare fence closes the innermost open directive or code block."""
    kept, stack = [], []  # stack of "directive" / "code"
    for line in text.splitlines():
        fence = re.match(r"\s*(`{3,})(.*)$", line)
        if fence and stack and stack[-1] == "code":
            if not fence.group(2).strip():
                stack.pop()
            continue
        if fence and fence.group(2).startswith("{"):
            stack.append("directive")
        elif fence and not fence.group(2).strip() and stack:
            stack.pop()
        elif fence:
            stack.append("code")
            continue
        if not stack or stack[-1] != "code":
            kept.append(line)
    return "\n".join(kept)


def _words(path: Path) -> str:
    """The prose without its citation roles and inline code."""
    return re.sub(r"`[^`\n]*`", " ", CITE.sub(" ", _prose(path)))


def _cited(path: Path) -> set[str]:
    return {key.strip() for keys in CITE.findall(_prose(path)) for key in keys.split(",")}


def _plain(name: str) -> str:
    """A name as printed: LaTeX accents and braces dropped ("Doll{\\'a}r" -> "Dollar")."""
    return re.sub(r"\\.|[{}]", "", name)


FIRST_AUTHORS: dict[tuple[str, str], str] = {}
for key, entry in BIBLIOGRAPHY.items():
    first = entry.persons["author"][0]
    FIRST_AUTHORS[(_plain(" ".join(first.last_names)), entry.fields["year"])] = key


def _mentions(text: str) -> list[tuple[str, str, str]]:
    """(the words, the first author's name, the year) of every author-year mention."""
    found = []
    for match in MENTION.finditer(text):
        first = match.group("first") or match.group("first3")
        year = match.group("year1") or match.group("year2") or match.group("year3")
        found.append((match.group(0), first, year))
    return found


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name)
def test_every_cited_key_has_an_entry(path):
    missing = sorted(_cited(path) - set(BIBLIOGRAPHY))
    assert missing == [], f"{path.name} cites keys that references.bib lacks: {missing}"


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name)
def test_every_author_and_year_the_prose_names_has_an_entry_cited_on_the_page(path):
    cited = _cited(path)
    for words, first, year in _mentions(_words(path)):
        key = FIRST_AUTHORS.get((first, year))
        assert key is not None, f"{path.name} names {words!r}, which has no entry in references.bib"
        assert key in cited, f"{path.name} names {words!r} without citing it: use {{cite:t}}`{key}`"


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name)
def test_every_et_al_the_prose_names_is_a_first_author_in_the_bibliography(path):
    authors = {name for name, _ in FIRST_AUTHORS}
    unknown = sorted(set(ET_AL.findall(_words(path))) - authors)
    assert unknown == [], f"{path.name} names {unknown} et al., who lead no entry of references.bib"


def test_every_entry_is_cited_somewhere():
    cited = set().union(*(_cited(path) for path in PAGES))
    assert sorted(set(BIBLIOGRAPHY) - cited) == []


def test_code_blocks_are_not_prose_but_directives_are():
    text = "```{admonition} Key idea\nGraves (2013)\n```\n\n```python\nSmith (2020)\n```\nafter"
    kept = _without_code_blocks(text)
    assert "Graves (2013)" in kept and "Smith (2020)" not in kept and "after" in kept


def test_mention_patterns_catch_the_usual_forms():
    samples = {
        "as in Graves (2013), centered": ("Graves", "2013"),
        "gradient descent (Cauchy, 1847). How": ("Cauchy", "1847"),
        "a rule of thumb (Goyal et al., 2017);": ("Goyal", "2017"),
        "Lessard, Recht and Packard (2016) give": ("Lessard", "2016"),
        "shown by Kidambi et al. 2018 for": ("Kidambi", "2018"),
        "Reddi, Kale & Kumar (2018) showed": ("Reddi", "2018"),
    }
    for text, expected in samples.items():
        assert [(first, year) for _, first, year in _mentions(text)] == [expected], text
    for text in ("In 2017 the method", "chapter 2 (2013 steps)", "after 1000 steps, 2017 more",
                 "an epoch of batch-1 SGD, 1500 steps"):
        assert _mentions(text) == [], text
