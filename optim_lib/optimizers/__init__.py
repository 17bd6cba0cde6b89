"""The optimizers, each a ``torch.optim.Optimizer`` built on one pure update rule.

=============  ======================  =========================================
class          rule (one step)         file
=============  ======================  =========================================
``SGD``        ``sgd_update``          ``optim_lib/optimizers/sgd.py``
``Adagrad``    ``adagrad_update``      ``optim_lib/optimizers/adagrad.py``
``RMSprop``    ``rmsprop_update``      ``optim_lib/optimizers/rmsprop.py``
``Adadelta``   ``adadelta_update``     ``optim_lib/optimizers/adadelta.py``
``Adam``       ``adam_update``         ``optim_lib/optimizers/adam.py``
``AdamW``      ``adamw_update``        ``optim_lib/optimizers/adamw.py``
=============  ======================  =========================================
"""

from .adadelta import Adadelta, adadelta_init, adadelta_update
from .adagrad import Adagrad, adagrad_init, adagrad_update
from .adam import Adam, adam_init, adam_update
from .adamw import AdamW, adamw_update
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
