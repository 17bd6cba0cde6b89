"""The update rules: one pure function per algorithm, with the chapter's symbols.

Every module here imports only the standard library (no NumPy, no torch): the rules run on
torch tensors, NumPy arrays and plain Python floats alike, and the website runs these very
files in the reader's browser. :data:`RULES` maps each optimizer class name (``torch.optim``'s,
or the reference package's for Lion and schedule-free AdamW) to its
:class:`~optim_lib.rules.base.Rule`.
"""

from .adadelta import ADADELTA_RULE, adadelta_init, adadelta_update
from .adafactor import ADAFACTOR_RULE, adafactor_init, adafactor_update
from .adagrad import ADAGRAD_RULE, adagrad_init, adagrad_update
from .adam import ADAM_RULE, adam_init, adam_update
from .adamax import ADAMAX_RULE, adamax_init, adamax_update
from .adamw import ADAMW_RULE, adamw_update
from .base import Group, Rule, State
from .lion import LION_RULE, lion_init, lion_update
from .muon import MUON_RULE, muon_init, muon_update, newton_schulz
from .nadam import NADAM_RULE, nadam_init, nadam_update
from .radam import RADAM_RULE, radam_init, radam_update
from .rmsprop import RMSPROP_RULE, rmsprop_init, rmsprop_update
from .schedule_free import (
    ADAMW_SCHEDULE_FREE_RULE, adamw_schedule_free_init, adamw_schedule_free_update, schedule_free_x,
    schedule_free_y,
)
from .sgd import SGD_RULE, sgd_init, sgd_update

RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        SGD_RULE, ADAGRAD_RULE, RMSPROP_RULE, ADADELTA_RULE, ADAM_RULE, ADAMW_RULE,
        NADAM_RULE, RADAM_RULE, ADAMAX_RULE, ADAFACTOR_RULE, MUON_RULE, LION_RULE, ADAMW_SCHEDULE_FREE_RULE,
    )
}


def rule_for(optimizer: str, group: Group) -> Rule:
    """The rule that the optim_lib class named ``optimizer`` runs for a param group: its
    own, except that ``Adam(decoupled_weight_decay=True)`` is AdamW, as in torch 2.13."""
    if optimizer == "Adam" and group.get("decoupled_weight_decay"):
        return ADAMW_RULE
    return RULES[optimizer]


__all__ = [
    "RULES", "Rule", "State", "rule_for",
    "sgd_init", "sgd_update", "adagrad_init", "adagrad_update", "rmsprop_init", "rmsprop_update",
    "adadelta_init", "adadelta_update", "adam_init", "adam_update", "adamw_update",
    "nadam_init", "nadam_update", "radam_init", "radam_update", "adamax_init", "adamax_update",
    "adafactor_init", "adafactor_update", "muon_init", "muon_update", "newton_schulz",
    "lion_init", "lion_update", "adamw_schedule_free_init", "adamw_schedule_free_update",
    "schedule_free_x", "schedule_free_y",
]
