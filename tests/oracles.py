"""Which class each optim_lib optimizer is checked against: torch.optim 2.13's class of the
same name, lion-pytorch 0.2.5's ``Lion`` and schedulefree 1.4.1's ``AdamWScheduleFree`` (both
test-only dependencies, pinned in requirements.txt)."""

from __future__ import annotations

import lion_pytorch
import schedulefree
import torch

TORCH_BACKED = (
    "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adafactor", "Muon",
)

ORACLES: dict[str, type[torch.optim.Optimizer]] = {
    **{name: getattr(torch.optim, name) for name in TORCH_BACKED},
    "Lion": lion_pytorch.Lion,
    "AdamWScheduleFree": schedulefree.AdamWScheduleFree,
}
