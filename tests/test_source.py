"""show_source: the rule's own source (the oracle is the file, read by inspect), its equation
tags lined up, and linked to Sphinx's anchors in HTML."""

from __future__ import annotations

import inspect
import re

from optim_lib.rules import adam_update, adamw_update, sgd_update
from optim_lib.source import EQUATION_PAGES, equation_tags, equation_url, show_source


def _body_without_docstring(func) -> list[str]:
    lines = inspect.getsource(func).rstrip("\n").splitlines()
    start = next(i for i, line in enumerate(lines) if '"""' in line)
    end = next(i for i in range(start + 1, len(lines)) if '"""' in lines[i])
    return lines[:start] + lines[end + 1:]


def test_text_is_the_source_as_written_without_the_docstring():
    listing = show_source(adam_update)
    assert listing.text.splitlines() == _body_without_docstring(adam_update)
    assert "One step of Adam" in show_source(adam_update, docstring=True).text
    assert "One step of Adam" not in listing.text


def test_plain_repr_lines_the_tags_up_in_one_column_and_shows_no_line_numbers():
    text = repr(show_source(adam_update))
    tagged = [line for line in text.splitlines() if "# (" in line]
    assert len(tagged) == 7
    assert len({line.index("# (") for line in tagged}) == 1
    assert "m = beta1 * state[\"m\"] + (1 - beta1) * g" in text and "(adam-m)" in text
    assert not re.match(r"\s*\d+\s", text.splitlines()[0])  # no line numbers


def test_tags_are_read_from_the_trailing_comments_in_order():
    assert equation_tags(sgd_update) == [
        ("v = g if t == 1 else momentum * state[\"v\"] + (1 - dampening) * g", ("momentum-v", "momentum-dampening")),
        ("g = g + momentum * v if nesterov else v", ("nesterov-x",)),
        ("p = p - lr * g", ("gd-update", "momentum-x", "nesterov-x")),
    ]
    # The words after the tags stay with them.
    first = next(line for line in show_source(adamw_update).lines if line.labels)
    assert first.labels == ("adamw-x",) and first.note == ": the decay"


def test_html_links_each_tag_to_its_equations_anchor_on_its_chapters_page():
    markup = show_source(adam_update)._repr_html_()
    assert 'href="07_adam.html#equation-adam-m"' in markup
    assert markup.count('class="optim-equation-tag"') == 8  # seven tagged lines, one with two tags
    assert equation_url("momentum-v") == "03_momentum.html#equation-momentum-v"
    assert equation_url("no-such-equation") is None
    # Same number of lines as the source: tags are added at the ends of lines, never between them.
    assert markup.count("\n") + 1 == len(show_source(adam_update).lines)


def test_html_of_a_listing_with_its_docstring_keeps_one_row_per_line():
    listing = show_source(adam_update, docstring=True)
    assert listing._repr_html_().count("\n") + 1 == len(listing.lines)


def test_every_page_in_the_table_is_a_chapter_notebook_name():
    assert all(re.fullmatch(r"\d\d_[a-z_]+", page) for page in EQUATION_PAGES.values())
