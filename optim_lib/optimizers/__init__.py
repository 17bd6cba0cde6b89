"""The optimizers, each a ``torch.optim.Optimizer`` adapter on one pure update rule.

=============  ======================  =========================================
class          rule (one step)         file
=============  ======================  =========================================
``SGD``        ``sgd_update``          ``optim_lib/rules/sgd.py``
``Adagrad``    ``adagrad_update``      ``optim_lib/rules/adagrad.py``
``RMSprop``    ``rmsprop_update``      ``optim_lib/rules/rmsprop.py``
``Adadelta``   ``adadelta_update``     ``optim_lib/rules/adadelta.py``
``Adam``       ``adam_update``         ``optim_lib/rules/adam.py``
``AdamW``      ``adamw_update``        ``optim_lib/rules/adamw.py``
``NAdam``      ``nadam_update``        ``optim_lib/rules/nadam.py``
``RAdam``      ``radam_update``        ``optim_lib/rules/radam.py``
``Adamax``     ``adamax_update``       ``optim_lib/rules/adamax.py``
``Adafactor``  ``adafactor_update``    ``optim_lib/rules/adafactor.py``
``Muon``       ``muon_update``         ``optim_lib/rules/muon.py``
``Lion``       ``lion_update``         ``optim_lib/rules/lion.py``
=============  ======================  =========================================

and ``AdamWScheduleFree`` on ``adamw_schedule_free_update`` (``optim_lib/rules/schedule_free.py``).
``MuonWithAdamW`` (``optim_lib/optimizers/muon_adamw.py``) steps one network with two of
these rules: Muon for the hidden weight matrices, AdamW for the rest.
The first nine are drop-ins for the ``torch.optim`` classes of the same names; ``Lion`` for
lion-pytorch's and ``AdamWScheduleFree`` for the schedulefree package's.

The rules are re-exported here, next to their classes.
"""

from .adadelta import Adadelta, adadelta_init, adadelta_update
from .adafactor import Adafactor, adafactor_init, adafactor_update
from .adagrad import Adagrad, adagrad_init, adagrad_update
from .adam import Adam, AdamW, adam_init, adam_update, adamw_update
from .adamax import Adamax, adamax_init, adamax_update
from .base import RuleOptimizer
from .lion import Lion, lion_init, lion_update
from .muon import Muon, muon_init, muon_update, newton_schulz
from .muon_adamw import MuonWithAdamW
from .nadam import NAdam, nadam_init, nadam_update
from .radam import RAdam, radam_init, radam_update
from .rmsprop import RMSprop, rmsprop_init, rmsprop_update
from .schedule_free import AdamWScheduleFree, adamw_schedule_free_init, adamw_schedule_free_update
from .sgd import SGD, sgd_init, sgd_update

CLASSIC_OPTIMIZERS = (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW)
"""The six of the course's first part, each a drop-in for the torch.optim class of its name."""
ALL_OPTIMIZERS = (*CLASSIC_OPTIMIZERS, NAdam, RAdam, Adamax, Adafactor, Muon, Lion, AdamWScheduleFree)

__all__ = [
    "ALL_OPTIMIZERS", "CLASSIC_OPTIMIZERS", "RuleOptimizer",
    "SGD", "sgd_init", "sgd_update",
    "Adagrad", "adagrad_init", "adagrad_update",
    "RMSprop", "rmsprop_init", "rmsprop_update",
    "Adadelta", "adadelta_init", "adadelta_update",
    "Adam", "adam_init", "adam_update",
    "AdamW", "adamw_update",
    "NAdam", "nadam_init", "nadam_update",
    "RAdam", "radam_init", "radam_update",
    "Adamax", "adamax_init", "adamax_update",
    "Adafactor", "adafactor_init", "adafactor_update",
    "Muon", "muon_init", "muon_update", "newton_schulz", "MuonWithAdamW",
    "Lion", "lion_init", "lion_update",
    "AdamWScheduleFree", "adamw_schedule_free_init", "adamw_schedule_free_update",
]
