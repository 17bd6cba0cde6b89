"""AdamW: Adam with weight decay taken out of the gradient and applied to the weights."""

from __future__ import annotations

from ._arrays import Array
from .adam import adam_arguments, adam_init, adam_init_arguments, adam_update, check_adam
from .base import Rule, State


def adamw_update(
    p: Array,
    g: Array,
    state: State,
    *,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    maximize: bool = False,
) -> tuple[Array, State]:
    r"""One step of AdamW: shrink the weights, then take a plain Adam step.

    .. math::
        x &\leftarrow (1 - \eta \lambda)\, x \\
        x &\leftarrow \text{Adam step on } x \text{ with gradient } \nabla f(x_{\text{old}})
            \text{ and no L2 term}

    Args:
        p, g, state, lr, beta1, beta2, eps, amsgrad, maximize: as in
            :func:`~optim_lib.rules.adam.adam_update`.
        weight_decay: :math:`\lambda`, the *decoupled* decay: each step multiplies the
            weights by :math:`1 - \eta\lambda`, whatever the gradient's scale.

    Convention:
        torch (and this code) multiplies the decay by the learning rate,
        :math:`x \leftarrow x(1 - \eta\lambda)`. The paper decouples it fully,
        :math:`x \leftarrow x - \eta_t \lambda x` with a schedule multiplier
        :math:`\eta_t` and no :math:`\eta`; torch's :math:`\lambda` is the paper's
        :math:`\lambda / \eta`. With L2 (``Adam(weight_decay=...)``) the term
        :math:`\lambda x` is added to :math:`g` and then divided by :math:`\sqrt{\hat v}`,
        so weights with large gradients are barely decayed; AdamW decays every weight at
        the same rate. Default :math:`\lambda = 10^{-2}` (Adam's is 0).

    The trailing ``# (label)`` of a line names the chapter's equation that the line computes.

    Paper:
        Loshchilov & Hutter (2019), *Decoupled weight decay regularization*, ICLR.
    """
    p = (1 - lr * weight_decay) * p  # (adamw-x): the decay
    return adam_update(  # (adamw-g) (adamw-moments) (adamw-hat) (adamw-x): Adam's step, no L2 term
        p, g, state,
        lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=0.0, amsgrad=amsgrad, maximize=maximize,
    )


ADAMW_RULE = Rule("AdamW", init=adam_init, update=adamw_update, check=check_adam, arguments=adam_arguments,
                  init_arguments=adam_init_arguments)
