"""The prose is tied to the code by equation labels, never by line numbers.

Each rule in optim_lib/rules tags every line that computes a chapter equation with a trailing
``# (label)``. For each chapter, the declared list below says which rule it shows and which of
its numbered equations that rule implements; the tests check that every such label is a tag
in the rule, that every tag in every rule names an equation some chapter defines (a typo
fails), that show_source links each tag to the chapter that defines it, and that no chapter's
prose cites code line numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from optim_lib.rules import (
    RULES, adadelta_update, adafactor_update, adagrad_update, adam_update, adamax_update, adamw_schedule_free_update,
    adamw_update, lion_update, muon_update, nadam_update, newton_schulz, radam_update, rmsprop_update,
    schedule_free_x, schedule_free_y, sgd_update,
)
from optim_lib.source import EQUATION_PAGES, equation_tags

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = REPO / "chapters"

IMPLEMENTS: dict[str, list[tuple[Callable, list[str]]]] = {
    "02_gradient_descent": [(sgd_update, ["gd-update"])],
    "03_momentum": [(sgd_update, ["momentum-v", "momentum-dampening", "momentum-x", "nesterov-x"])],
    "04_adagrad": [(adagrad_update, ["adagrad-g", "adagrad-lr", "adagrad-s", "adagrad-x"])],
    "05_rmsprop": [(rmsprop_update, ["rmsprop-g", "rmsprop-s", "rmsprop-gbar", "rmsprop-centered",
                                     "rmsprop-momentum", "rmsprop-x"])],
    "06_adadelta": [(adadelta_update, ["adadelta-g", "adadelta-s", "adadelta-gprime", "adadelta-delta",
                                       "adadelta-x"])],
    "07_adam": [(adam_update, ["adam-g", "adam-m", "adam-v", "adam-hat", "adam-amsgrad", "adam-x"])],
    "08_adamw": [(adamw_update, ["adamw-g", "adamw-moments", "adamw-hat", "adamw-x"])],
    "12_adam_descendants": [
        (nadam_update, ["nadam-g", "nadam-decay", "nadam-mu", "nadam-mu-product", "nadam-m", "nadam-v", "nadam-hat",
                        "nadam-x"]),
        (radam_update, ["radam-g", "radam-decay", "radam-m", "radam-v", "radam-hat", "radam-rho", "radam-r", "radam-l",
                        "radam-x", "radam-sgd"]),
        (adamax_update, ["adamax-g", "adamax-m", "adamax-u", "adamax-x"]),
    ],
    "14_lion": [(lion_update, ["lion-decay", "lion-c", "lion-update", "lion-m"])],
    "13_adafactor": [(adafactor_update, ["adafactor-beta2", "adafactor-rho", "adafactor-alpha", "adafactor-decay",
                                         "adafactor-v", "adafactor-r", "adafactor-c", "adafactor-v-hat",
                                         "adafactor-u", "adafactor-x"])],
    "15_muon": [(muon_update, ["muon-b", "muon-nesterov", "muon-ns", "muon-lr", "muon-decay", "muon-x"]),
                (newton_schulz, ["muon-ns-normalize", "muon-ns"])],
    "16_schedule_free": [(adamw_schedule_free_update, ["sf-warmup", "sf-weight", "sf-c", "sf-v", "sf-g", "sf-y",
                                                       "sf-z"]),
                         (schedule_free_x, ["sf-x"]), (schedule_free_y, ["sf-y-from-x"])],
}
"""Chapter → (the rule it shows, the chapter's equation labels that rule computes)."""


EQUATION = re.compile(r"\$\$[ \t]*\(([A-Za-z0-9_-]+)\)")
"""A numbered display equation: ``$$ ... $$ (label)``."""

LINE_NUMBER = re.compile(r"\b[Ll]ines?\s+\d+(?:\s*(?:[–—-]|to|and)\s*\d+)?\b")
"""A code line number in prose: "line 12", "Lines 15–16", "lines 3 and 4"."""


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def _code(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


def _labels(page: str) -> set[str]:
    return set(EQUATION.findall(_markdown(CHAPTERS / f"{page}.ipynb")))


PAGES = sorted(path.stem for path in CHAPTERS.glob("*.ipynb"))
ALL_LABELS = {label: page for page in PAGES for label in _labels(page)}
RULE_FUNCTIONS = {rule.update.__name__: rule.update for rule in RULES.values()}
"""The rules a chapter shows."""


def _tags(func: Callable) -> list[str]:
    return [label for _, labels in equation_tags(func) for label in labels]


@pytest.mark.parametrize("page", sorted(IMPLEMENTS))
def test_every_equation_a_chapter_implements_is_a_tag_in_its_rule(page):
    labels = _labels(page)
    for func, implemented in IMPLEMENTS[page]:
        assert set(implemented) <= labels, f"{page} does not define {sorted(set(implemented) - labels)}"
        missing = [label for label in implemented if label not in _tags(func)]
        assert missing == [], f"{func.__name__} has no tag for {missing}, which {page} says it implements"
        assert f"show_source({func.__name__})" in _code(CHAPTERS / f"{page}.ipynb")


@pytest.mark.parametrize("name", sorted(RULE_FUNCTIONS))
def test_every_tag_in_a_rule_names_an_equation_a_chapter_defines(name):
    for code, labels in equation_tags(RULE_FUNCTIONS[name]):
        for label in labels:
            assert label in ALL_LABELS, f"{name}: the line {code!r} is tagged ({label}), which no chapter defines"
            assert EQUATION_PAGES.get(label) == ALL_LABELS[label], (
                f"show_source would link ({label}) to {EQUATION_PAGES.get(label)}, but {ALL_LABELS[label]} defines it")


def test_every_tag_of_every_rule_is_declared_by_the_chapter_that_defines_it():
    declared = {label for entries in IMPLEMENTS.values() for _, labels in entries for label in labels}
    for name, func in RULE_FUNCTIONS.items():
        assert set(_tags(func)) <= declared, f"{name} has tags no chapter declares: {set(_tags(func)) - declared}"


def test_every_rule_is_shown_by_a_chapter():
    shown = {func for entries in IMPLEMENTS.values() for func, _ in entries}
    for rule in RULES.values():
        assert rule.update in shown, f"{rule.name}: no chapter declares that it shows {rule.update.__name__}"


def test_the_link_table_holds_only_labels_some_rule_uses():
    # the rules, and the functions they call that a chapter shows too (Muon's newton_schulz)
    shown = [*RULE_FUNCTIONS.values(), *(func for entries in IMPLEMENTS.values() for func, _ in entries)]
    used = {label for func in shown for label in _tags(func)}
    assert set(EQUATION_PAGES) == used


@pytest.mark.parametrize("path", sorted(CHAPTERS.glob("*.ipynb")) + sorted(CHAPTERS.glob("*.md")),
                         ids=lambda path: path.name)
def test_prose_cites_no_code_line_numbers(path):
    assert LINE_NUMBER.findall(_markdown(path)) == [], f"{path.name} refers to code by line number"


def test_the_line_number_pattern_catches_the_usual_forms():
    for prose in ("Line 14 counts the step", "lines 15–16 flip the sign", "line 3", "lines 21-23",
                  "lines 18 and 19"):
        assert LINE_NUMBER.search(prose), prose
    for prose in ("the first line", "a line of ones", "line up the tags", "in one line: 2 steps"):
        assert not LINE_NUMBER.search(prose), prose
