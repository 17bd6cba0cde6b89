"""Which class each optim_lib optimizer is checked against, and the setting in which that
oracle computes in float64 throughout.

The oracles: torch.optim 2.13's class of the same name, lion-pytorch 0.2.5's ``Lion`` and
schedulefree 1.4.1's ``AdamWScheduleFree`` (both test-only dependencies, pinned in
requirements.txt). Two of them need a stated setting to be compared at 1e-10
(:func:`oracle_setting`), each measured in tests/test_new_optimizers.py:

- torch's NAdam keeps the product of its momentum coefficients in a float32 scalar unless
  torch's default dtype is float64, so NAdam is compared with that default set to float64.
- torch's Muon runs its Newton–Schulz iteration in bfloat16 (8 significant bits), optim_lib in
  the parameter's precision. Muon is compared with torch's own iteration, unchanged except
  that its cast to bfloat16 is made a copy in the input's dtype.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from unittest import mock

import lion_pytorch
import schedulefree
import torch
import torch.optim._muon as torch_muon

import optim_lib

TORCH_BACKED = (
    "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adafactor", "Muon",
)

ORACLES: dict[str, type[torch.optim.Optimizer]] = {
    **{name: getattr(torch.optim, name) for name in TORCH_BACKED},
    "Lion": lion_pytorch.Lion,
    "AdamWScheduleFree": schedulefree.AdamWScheduleFree,
}


def newton_schulz_without_bfloat16(original: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """torch's own Newton–Schulz function, with its ``grad.bfloat16()`` made a copy of the
    input in the input's dtype: the same iteration, line for line, in float64."""

    def iterate(grad, *args, **kwargs):
        with mock.patch.object(torch.Tensor, "bfloat16", lambda self: self.clone()):
            return original(grad, *args, **kwargs)

    return iterate


@contextlib.contextmanager
def oracle_setting(name: str) -> Iterator[None]:
    """The setting in which ``name``'s oracle computes in float64 throughout (see the module)."""
    if name == "NAdam":
        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            yield
        finally:
            torch.set_default_dtype(previous)
    elif name == "Muon":
        original = torch_muon._zeropower_via_newtonschulz
        with mock.patch.object(torch_muon, "_zeropower_via_newtonschulz", newton_schulz_without_bfloat16(original)):
            yield
    else:
        yield


def start_training(opt: torch.optim.Optimizer) -> None:
    """Schedule-free optimizers step in train mode only (both optim_lib's and the package's)."""
    if isinstance(opt, (optim_lib.AdamWScheduleFree, schedulefree.AdamWScheduleFree)):
        opt.train()


def shape_for(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape``, as a one-row matrix for Muon, which takes matrices only."""
    return (1, *shape) if name == "Muon" and len(shape) < 2 else shape
