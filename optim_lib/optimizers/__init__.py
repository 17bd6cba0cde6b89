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
=============  ======================  =========================================

The rules are re-exported here, next to their classes.
"""

from .adadelta import Adadelta, adadelta_init, adadelta_update
from .adagrad import Adagrad, adagrad_init, adagrad_update
from .adam import Adam, AdamW, adam_init, adam_update, adamw_update
from .base import RuleOptimizer
from .rmsprop import RMSprop, rmsprop_init, rmsprop_update
from .sgd import SGD, sgd_init, sgd_update

ALL_OPTIMIZERS = (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW)

__all__ = [
    "ALL_OPTIMIZERS", "RuleOptimizer",
    "SGD", "sgd_init", "sgd_update",
    "Adagrad", "adagrad_init", "adagrad_update",
    "RMSprop", "rmsprop_init", "rmsprop_update",
    "Adadelta", "adadelta_init", "adadelta_update",
    "Adam", "adam_init", "adam_update",
    "AdamW", "adamw_update",
]
