"""Show an update rule's own source in a notebook, with line numbers, so that the chapter
can tie each line to its equation (never a pasted copy that could drift from the code)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any


class SourceListing:
    """A function's source, numbered from its ``def`` line; renders as HTML or text."""

    def __init__(self, func: Callable[..., Any], *, docstring: bool = False) -> None:
        source = textwrap.dedent(inspect.getsource(func))
        if not docstring:
            source = _without_docstring(source)
        self.name = func.__qualname__
        self.lines = source.rstrip("\n").splitlines()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __repr__(self) -> str:
        width = len(str(len(self.lines)))
        return "\n".join(f"{i:>{width}}  {line}" for i, line in enumerate(self.lines, 1))

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        formatter = HtmlFormatter(linenos="inline", noclasses=True, style="default")
        return highlight(self.text, PythonLexer(), formatter)


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
    """The source of ``func`` (an update rule), docstring left out unless asked for."""
    return SourceListing(func, docstring=docstring)
