"""Show an update rule's own source in a notebook, each line beside the equation it computes.

Every rule in :mod:`optim_lib.rules` ends each line that computes a chapter equation with a
comment naming the equation's label, ``m = beta1 * state["m"] + (1 - beta1) * g  # (adam-m)``.
:func:`show_source` lines those tags up in a column; in HTML (the website) each tag is a link
to its equation, so the chapter's prose can name equations, never line numbers that move
whenever the code changes. The listing is the function's source itself, never a pasted copy.
"""

from __future__ import annotations

import ast
import html
import inspect
import io
import re
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EQUATION_PAGES: dict[str, str] = {
    "gd-update": "02_gradient_descent",
    "momentum-v": "03_momentum",
    "momentum-x": "03_momentum",
    "momentum-dampening": "03_momentum",
    "nesterov-x": "03_momentum",
    "adagrad-g": "04_adagrad",
    "adagrad-lr": "04_adagrad",
    "adagrad-s": "04_adagrad",
    "adagrad-x": "04_adagrad",
    "rmsprop-g": "05_rmsprop",
    "rmsprop-s": "05_rmsprop",
    "rmsprop-x": "05_rmsprop",
    "rmsprop-gbar": "05_rmsprop",
    "rmsprop-centered": "05_rmsprop",
    "rmsprop-momentum": "05_rmsprop",
    "adadelta-g": "06_adadelta",
    "adadelta-s": "06_adadelta",
    "adadelta-gprime": "06_adadelta",
    "adadelta-delta": "06_adadelta",
    "adadelta-x": "06_adadelta",
    "adam-g": "07_adam",
    "adam-m": "07_adam",
    "adam-v": "07_adam",
    "adam-hat": "07_adam",
    "adam-x": "07_adam",
    "adam-amsgrad": "07_adam",
    "adamw-g": "08_adamw",
    "adamw-moments": "08_adamw",
    "adamw-hat": "08_adamw",
    "adamw-x": "08_adamw",
    "nadam-g": "12_adam_descendants",
    "nadam-decay": "12_adam_descendants",
    "nadam-mu": "12_adam_descendants",
    "nadam-mu-product": "12_adam_descendants",
    "nadam-m": "12_adam_descendants",
    "nadam-v": "12_adam_descendants",
    "nadam-hat": "12_adam_descendants",
    "nadam-x": "12_adam_descendants",
    "radam-g": "12_adam_descendants",
    "radam-decay": "12_adam_descendants",
    "radam-m": "12_adam_descendants",
    "radam-v": "12_adam_descendants",
    "radam-hat": "12_adam_descendants",
    "radam-rho": "12_adam_descendants",
    "radam-r": "12_adam_descendants",
    "radam-l": "12_adam_descendants",
    "radam-x": "12_adam_descendants",
    "radam-sgd": "12_adam_descendants",
    "adamax-g": "12_adam_descendants",
    "adamax-m": "12_adam_descendants",
    "adamax-u": "12_adam_descendants",
    "adamax-x": "12_adam_descendants",
    "lion-decay": "14_lion",
    "lion-c": "14_lion",
    "lion-update": "14_lion",
    "lion-m": "14_lion",
    "adafactor-beta2": "13_adafactor",
    "adafactor-rho": "13_adafactor",
    "adafactor-alpha": "13_adafactor",
    "adafactor-decay": "13_adafactor",
    "adafactor-v": "13_adafactor",
    "adafactor-r": "13_adafactor",
    "adafactor-c": "13_adafactor",
    "adafactor-v-hat": "13_adafactor",
    "adafactor-u": "13_adafactor",
    "adafactor-x": "13_adafactor",
    "muon-b": "15_muon",
    "muon-nesterov": "15_muon",
    "muon-ns-normalize": "15_muon",
    "muon-ns": "15_muon",
    "muon-lr": "15_muon",
    "muon-decay": "15_muon",
    "muon-x": "15_muon",
    "sf-warmup": "16_schedule_free",
    "sf-weight": "16_schedule_free",
    "sf-c": "16_schedule_free",
    "sf-v": "16_schedule_free",
    "sf-g": "16_schedule_free",
    "sf-y": "16_schedule_free",
    "sf-z": "16_schedule_free",
    "sf-x": "16_schedule_free",
    "sf-y-from-x": "16_schedule_free",
}
"""The chapter (notebook name, without ``.ipynb``) whose numbered equation each tag names.
A test checks it against the chapters: every rule's tags are here, and each chapter defines
the labels listed for it."""

_TAGS = re.compile(r"#\s*((?:\([A-Za-z0-9_-]+\)\s*)+)(.*)$")
_LABEL = re.compile(r"\(([A-Za-z0-9_-]+)\)")
_TAG_STYLE = ("color: #1a5fb4; text-decoration: none; border: 1px solid #99b7e0; border-radius: 3px; "
              "padding: 0 3px; background: #eef3fb")


@dataclass(frozen=True)
class SourceLine:
    """One line of a listing: its code, the equation labels its trailing comment names (in
    order), and the rest of that comment (``": the decay"``), if any."""

    code: str
    labels: tuple[str, ...] = ()
    note: str = ""
    written: str = ""
    """The line as it stands in the source file."""


def equation_url(label: str) -> str | None:
    """Where the website shows the equation ``label``: ``"07_adam.html#equation-adam-m"``
    (Sphinx's anchor for a labelled equation), or ``None`` for a label no chapter defines."""
    page = EQUATION_PAGES.get(label)
    return None if page is None else f"{page}.html#equation-{label}"


def equation_tags(func: Callable[..., Any]) -> list[tuple[str, tuple[str, ...]]]:
    """``(code, labels)`` for every tagged line of ``func``'s source, in order."""
    return [(line.code.strip(), line.labels) for line in SourceListing(func).lines if line.labels]


class SourceListing:
    """A function's source, its equation tags lined up in a column; renders as HTML or text."""

    def __init__(self, func: Callable[..., Any], *, docstring: bool = False) -> None:
        source = textwrap.dedent(inspect.getsource(func))
        if not docstring:
            source = _without_docstring(source)
        self.name = func.__qualname__
        self.lines = _split_tags(source.rstrip("\n"))

    @property
    def text(self) -> str:
        """The source as written, comments included."""
        return "\n".join(line.written for line in self.lines)

    def _tag_column(self) -> int:
        return max((len(line.code) for line in self.lines if line.labels), default=0) + 2

    def __repr__(self) -> str:
        column = self._tag_column()
        rendered = []
        for line in self.lines:
            if line.labels:
                tags = " ".join(f"({label})" for label in line.labels)
                rendered.append(f"{line.code.ljust(column)}# {tags}{line.note}")
            else:
                rendered.append(line.code)
        return "\n".join(rendered)

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        formatter = HtmlFormatter(nowrap=True, noclasses=True, style="default")
        code = "\n".join(line.code for line in self.lines)
        highlighted = highlight(code, PythonLexer(stripnl=False), formatter).rstrip("\n").split("\n")
        column = self._tag_column()
        rows = []
        for line, markup in zip(self.lines, highlighted):
            if line.labels:
                tags = " ".join(_tag_html(label) for label in line.labels)
                note = f'<span style="color: #5f6b7a">{html.escape(line.note)}</span>' if line.note else ""
                markup += " " * (column - len(line.code)) + tags + note
            rows.append(markup)
        return ('<div class="optim-source highlight" style="background: #f8f8f8; padding: 0.5em 0.8em; '
                'overflow-x: auto"><pre style="margin: 0; line-height: 125%">' + "\n".join(rows) + "</pre></div>")


def _tag_html(label: str) -> str:
    url = equation_url(label)
    text = html.escape(f"({label})")
    if url is None:
        return f'<span style="{_TAG_STYLE}">{text}</span>'
    page = EQUATION_PAGES[label]
    return (f'<a class="optim-equation-tag" href="{url}" style="{_TAG_STYLE}" '
            f'title="equation {html.escape(label)}, chapter {int(page[:2])}">{text}</a>')


def _split_tags(source: str) -> list[SourceLine]:
    """Each line of ``source``, with a trailing comment of equation tags taken apart."""
    comments: dict[int, tuple[int, str]] = {}
    for token in tokenize.generate_tokens(io.StringIO(source + "\n").readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = (token.start[1], token.string)
    lines = []
    for number, text in enumerate(source.splitlines(), 1):
        column, comment = comments.get(number, (None, ""))
        match = _TAGS.match(comment)
        if column is None or match is None:
            lines.append(SourceLine(text, written=text))
            continue
        lines.append(SourceLine(text[:column].rstrip(), tuple(_LABEL.findall(match.group(1))),
                                match.group(2).rstrip(), written=text))
    return lines


def _without_docstring(source: str) -> str:
    tree = ast.parse(source)
    func = tree.body[0]
    first = func.body[0] if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    if not (isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
            and isinstance(first.value.value, str)):
        return source
    lines = source.splitlines(keepends=True)
    # Drop the docstring's lines (1-based, inclusive), keep everything else as written.
    return "".join(lines[: first.lineno - 1] + lines[first.end_lineno :])


def show_source(func: Callable[..., Any], *, docstring: bool = False) -> SourceListing:
    """The source of ``func`` (an update rule), docstring left out unless asked for, with
    each line's equation tag in a column (a link to the equation on the website)."""
    return SourceListing(func, docstring=docstring)
