"""The exercise package's layout: every family module is registered, in the chapters' order.

The oracles are the package's files on disk (a family module that is written but not added to
FAMILIES would silently offer no exercise) and the chapters' order of the exercises, as the
instructor guide lists them.
"""

from __future__ import annotations

import pkgutil

import pytest

import optim_lib.exercises as exercises
from optim_lib.exercises import EXERCISES, FAMILIES


def test_every_family_module_of_the_package_is_in_families():
    on_disk = {module.name for module in pkgutil.iter_modules(exercises.__path__)} - {"checking"}
    registered = {family.__name__.rsplit(".", 1)[-1] for family in FAMILIES}
    assert registered == on_disk


def test_exercises_come_in_the_chapters_order():
    assert list(EXERCISES) == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw",
                               "nadam", "radam", "adamax", "adafactor", "lion", "muon",
                               "schedule_free"]


def test_two_exercises_with_one_name_are_refused():
    with pytest.raises(ValueError, match="two exercises are named 'adam'"):
        exercises._by_name([EXERCISES["adam"], EXERCISES["sgd"], EXERCISES["adam"]])
