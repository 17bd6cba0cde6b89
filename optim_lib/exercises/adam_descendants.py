"""The exercises of chapter 12: NAdam, RAdam and Adamax.

For each: the reference (optim_lib's rule with everything else fixed: no weight decay, no
maximizing), the catalogue of classic mistakes, the starter code and the
:class:`~optim_lib.exercises.checking.Exercise`.
"""

from __future__ import annotations

import math

import numpy as np

from ..rules.adamax import adamax_init, adamax_update
from ..rules.nadam import nadam_init, nadam_update
from ..rules.radam import radam_init, radam_update
from .checking import _EPS, _LR, _NOT_IN_PLACE, Arrays, Exercise, Mistake, Range, State

# --------------------------------------------------------------------------------------
# References: optim_lib's rules with the exercise's signature
# --------------------------------------------------------------------------------------


def _nadam_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    return nadam_update(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=0.0,
                        momentum_decay=momentum_decay, decoupled_weight_decay=False, maximize=False)


def _radam_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    return radam_update(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=0.0,
                        decoupled_weight_decay=False, maximize=False)


def _adamax_reference(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    return adamax_update(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=0.0, maximize=False)


# --------------------------------------------------------------------------------------
# NAdam's catalogue
# --------------------------------------------------------------------------------------

# NAdam: t <- t + 1;  mu <- beta1 (1 - 0.5 * 0.96**(t psi));  mu_next <- the same at t + 1;
#        mu_product <- mu_product * mu;  m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g**2;
#        v_hat <- v / (1 - beta2**t);
#        p <- p - lr (1 - mu) / (1 - mu_product) g / (sqrt(v_hat) + eps)
#               - lr mu_next / (1 - mu_product mu_next) m / (sqrt(v_hat) + eps)


def _mu(beta1: float, t: int, psi: float) -> float:
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))


def _nadam_step(p: np.ndarray, g: np.ndarray, m: np.ndarray, denominator: np.ndarray, *, lr: float, mu: float,
                mu_next: float, mu_product: float) -> np.ndarray:
    return (p - lr * (1 - mu) / (1 - mu_product) * g / denominator
            - lr * mu_next / (1 - mu_product * mu_next) * m / denominator)


def _nadam_parts(g: np.ndarray, state: State, beta1: float, beta2: float) -> tuple[int, np.ndarray, np.ndarray]:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    return t, m, v


def _nadam_no_look_ahead(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    t, m, v = _nadam_parts(g, state, beta1, beta2)
    mu = _mu(beta1, t, momentum_decay)
    mu_product = state["mu_product"] * mu
    denominator = np.sqrt(v / (1 - beta2**t)) + eps
    p = _nadam_step(p, g, m, denominator, lr=lr, mu=mu, mu_next=mu, mu_product=mu_product)
    return p, {"t": t, "m": m, "v": v, "mu_product": mu_product}


def _nadam_product_not_returned(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    t, m, v = _nadam_parts(g, state, beta1, beta2)
    mu, mu_next = _mu(beta1, t, momentum_decay), _mu(beta1, t + 1, momentum_decay)
    mu_product = state["mu_product"] * mu
    denominator = np.sqrt(v / (1 - beta2**t)) + eps
    p = _nadam_step(p, g, m, denominator, lr=lr, mu=mu, mu_next=mu_next, mu_product=mu_product)
    return p, {"t": t, "m": m, "v": v, "mu_product": state["mu_product"]}


def _nadam_exponent_precedence(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    t, m, v = _nadam_parts(g, state, beta1, beta2)
    mu = beta1 * (1.0 - 0.5 * 0.96**t * momentum_decay)
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** (t + 1) * momentum_decay)
    mu_product = state["mu_product"] * mu
    denominator = np.sqrt(v / (1 - beta2**t)) + eps
    p = _nadam_step(p, g, m, denominator, lr=lr, mu=mu, mu_next=mu_next, mu_product=mu_product)
    return p, {"t": t, "m": m, "v": v, "mu_product": mu_product}


def _nadam_constant_mu(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    t, m, v = _nadam_parts(g, state, beta1, beta2)
    mu_product = state["mu_product"] * beta1
    denominator = np.sqrt(v / (1 - beta2**t)) + eps
    p = _nadam_step(p, g, m, denominator, lr=lr, mu=beta1, mu_next=beta1, mu_product=mu_product)
    return p, {"t": t, "m": m, "v": v, "mu_product": mu_product}


def _nadam_adam_bias_correction(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    t, m, v = _nadam_parts(g, state, beta1, beta2)
    mu, mu_next = _mu(beta1, t, momentum_decay), _mu(beta1, t + 1, momentum_decay)
    mu_product = state["mu_product"] * mu
    denominator = np.sqrt(v / (1 - beta2**t)) + eps
    p = (p - lr * (1 - mu) / (1 - beta1**t) * g / denominator
         - lr * mu_next / (1 - beta1 ** (t + 1)) * m / denominator)
    return p, {"t": t, "m": m, "v": v, "mu_product": mu_product}


def _nadam_m_with_mu(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    t = state["t"] + 1
    mu, mu_next = _mu(beta1, t, momentum_decay), _mu(beta1, t + 1, momentum_decay)
    mu_product = state["mu_product"] * mu
    m = mu * state["m"] + (1 - mu) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    denominator = np.sqrt(v / (1 - beta2**t)) + eps
    p = _nadam_step(p, g, m, denominator, lr=lr, mu=mu, mu_next=mu_next, mu_product=mu_product)
    return p, {"t": t, "m": m, "v": v, "mu_product": mu_product}


def _nadam_eps_inside(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    t, m, v = _nadam_parts(g, state, beta1, beta2)
    mu, mu_next = _mu(beta1, t, momentum_decay), _mu(beta1, t + 1, momentum_decay)
    mu_product = state["mu_product"] * mu
    denominator = np.sqrt(v / (1 - beta2**t) + eps)
    p = _nadam_step(p, g, m, denominator, lr=lr, mu=mu, mu_next=mu_next, mu_product=mu_product)
    return p, {"t": t, "m": m, "v": v, "mu_product": mu_product}


def _nadam_no_v_correction(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    t, m, v = _nadam_parts(g, state, beta1, beta2)
    mu, mu_next = _mu(beta1, t, momentum_decay), _mu(beta1, t + 1, momentum_decay)
    mu_product = state["mu_product"] * mu
    denominator = np.sqrt(v) + eps
    p = _nadam_step(p, g, m, denominator, lr=lr, mu=mu, mu_next=mu_next, mu_product=mu_product)
    return p, {"t": t, "m": m, "v": v, "mu_product": mu_product}


def _nadam_ascends(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float,
    momentum_decay: float,
) -> Arrays:
    new_p, new_state = _nadam_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                        momentum_decay=momentum_decay)
    return p + (p - new_p), new_state


_NADAM_STEP = (
    "p = p - lr * (1 - mu) / (1 - mu_product) * g / (np.sqrt(v_hat) + eps) "
    "- lr * mu_next / (1 - mu_product * mu_next) * m / (np.sqrt(v_hat) + eps)"
)

NADAM_MISTAKES = (
    Mistake("exponent_precedence",
            "mu = beta1 * (1 - 0.5 * 0.96**t * momentum_decay), the power taken before the product",
            "the exponent is t * momentum_decay: mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)), and "
            "mu_next the same with t + 1 (** binds tighter than *, so the brackets are needed).",
            _nadam_exponent_precedence),
    Mistake("constant_mu", "a constant mu = beta1 at every step, without the schedule",
            "mu warms up: mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)), about beta1 / 2 at first, "
            "and mu_next the same with t + 1.", _nadam_constant_mu),
    Mistake("no_look_ahead",
            "NAdam without the look-ahead: this step's mu_t where the momentum term needs the next step's mu_{t+1}",
            "the momentum term is the next step's: mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay)), "
            f"and {_NADAM_STEP}.", _nadam_no_look_ahead),
    Mistake("m_with_mu", "m averaged with mu_t instead of beta1, m = mu * m + (1 - mu) * g",
            "torch (and this course) keeps m with beta1, m = beta1 * m + (1 - beta1) * g; the mu's only weigh "
            "the gradient and the momentum in the step.", _nadam_m_with_mu),
    Mistake("adam_bias_correction",
            "Adam's bias correction, 1 - beta1**t and 1 - beta1**(t + 1), in place of the products of the mu's",
            "NAdam corrects each term by the product of the mu's it has seen: 1 - mu_product for the gradient "
            "and 1 - mu_product * mu_next for m, with mu_product = state[\"mu_product\"] * mu.",
            _nadam_adam_bias_correction),
    Mistake("product_not_returned",
            "the product mu_product updated for the step but the old one returned, so every step divides by "
            "1 - mu as if it were the first",
            'return the new product: {"t": t, "m": m, "v": v, "mu_product": mu_product} with '
            'mu_product = state["mu_product"] * mu.', _nadam_product_not_returned),
    Mistake("eps_inside", "NAdam with eps inside the square root, np.sqrt(v_hat + eps)",
            "add eps outside the root, as in Adam: np.sqrt(v_hat) + eps.", _nadam_eps_inside),
    Mistake("no_v_correction", "a step divided by np.sqrt(v) + eps, without the bias correction of v",
            "divide by np.sqrt(v_hat) + eps with v_hat = v / (1 - beta2**t), as in Adam.", _nadam_no_v_correction),
    Mistake("ascends", "a step uphill (the right step, added instead of subtracted)",
            f"subtract both terms: {_NADAM_STEP}.", _nadam_ascends),
)


# --------------------------------------------------------------------------------------
# RAdam's catalogue
# --------------------------------------------------------------------------------------

# RAdam: t <- t + 1;  m, v as in Adam;  m_hat <- m / (1 - beta1**t);
#        rho_inf <- 2 / (1 - beta2) - 1;  rho <- rho_inf - 2 t beta2**t / (1 - beta2**t);
#        if rho > 5:  r <- sqrt((rho - 4)(rho - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho));
#                     l <- sqrt(1 - beta2**t) / (sqrt(v) + eps);  p <- p - lr m_hat l r
#        else:        p <- p - lr m_hat


def _radam_moments(g: np.ndarray, state: State, beta1: float, beta2: float) -> tuple[int, np.ndarray, np.ndarray]:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    return t, m, v


def _rho(t: int, beta2: float) -> tuple[float, float]:
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf, rho_inf - 2 * t * beta2**t / (1 - beta2**t)


def _rectification(rho: float, rho_inf: float) -> float:
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


def _radam_threshold_4(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t, m, v = _radam_moments(g, state, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    rho_inf, rho = _rho(t, beta2)
    if rho > 4:
        r = _rectification(rho, rho_inf)
        p = p - lr * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps) * r
    else:
        p = p - lr * m_hat
    return p, {"t": t, "m": m, "v": v}


def _radam_switch_at_step_6(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t, m, v = _radam_moments(g, state, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    rho_inf, rho = _rho(t, beta2)
    if t > 5:
        p = p - lr * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps) * _rectification(rho, rho_inf)
    else:
        p = p - lr * m_hat
    return p, {"t": t, "m": m, "v": v}


def _radam_no_step_before(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t, m, v = _radam_moments(g, state, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    rho_inf, rho = _rho(t, beta2)
    if rho > 5:
        p = p - lr * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps) * _rectification(rho, rho_inf)
    return p, {"t": t, "m": m, "v": v}


def _radam_no_rectification(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t, m, v = _radam_moments(g, state, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    _, rho = _rho(t, beta2)
    if rho > 5:
        p = p - lr * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
    else:
        p = p - lr * m_hat
    return p, {"t": t, "m": m, "v": v}


def _radam_r_inverted(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t, m, v = _radam_moments(g, state, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    rho_inf, rho = _rho(t, beta2)
    if rho > 5:
        p = p - lr * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps) / _rectification(rho, rho_inf)
    else:
        p = p - lr * m_hat
    return p, {"t": t, "m": m, "v": v}


def _radam_eps_after_correction(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t, m, v = _radam_moments(g, state, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    rho_inf, rho = _rho(t, beta2)
    if rho > 5:
        p = p - lr * m_hat / (np.sqrt(v / (1 - beta2**t)) + eps) * _rectification(rho, rho_inf)
    else:
        p = p - lr * m_hat
    return p, {"t": t, "m": m, "v": v}


def _radam_no_v_correction(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t, m, v = _radam_moments(g, state, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    rho_inf, rho = _rho(t, beta2)
    if rho > 5:
        p = p - lr * m_hat / (np.sqrt(v) + eps) * _rectification(rho, rho_inf)
    else:
        p = p - lr * m_hat
    return p, {"t": t, "m": m, "v": v}


def _radam_momentum_step_without_correction(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t, m, v = _radam_moments(g, state, beta1, beta2)
    m_hat = m / (1 - beta1**t)
    rho_inf, rho = _rho(t, beta2)
    if rho > 5:
        p = p - lr * m_hat * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps) * _rectification(rho, rho_inf)
    else:
        p = p - lr * m
    return p, {"t": t, "m": m, "v": v}


def _radam_betas_swapped(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    return _radam_reference(p, g, state, lr=lr, beta1=beta2, beta2=beta1, eps=eps)


def _radam_ascends(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    new_p, new_state = _radam_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return p + (p - new_p), new_state


_RADAM_RECTIFIED = "p = p - lr * m_hat * l * r with l = np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)"

RADAM_MISTAKES = (
    Mistake("threshold_4", "the paper's threshold, a rectified step as soon as rho_t > 4",
            "torch (and this course) takes the rectified step only when rho_t > 5 (from step 6 on with "
            "beta2 = 0.999), and the momentum step p = p - lr * m_hat before.", _radam_threshold_4),
    Mistake("switch_at_step_6", "the switch written as t > 5 instead of rho_t > 5",
            "t > 5 is the same test only for beta2 near 1: with beta2 = 0.8, rho_6 = 4.74 and the first rectified "
            "step is the seventh. Compute rho_inf = 2 / (1 - beta2) - 1 and "
            "rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t), and test rho > 5.", _radam_switch_at_step_6),
    Mistake("no_step_before_rectification", "no step at all while rho_t <= 5",
            "while rho_t <= 5, take the momentum step p = p - lr * m_hat with m_hat = m / (1 - beta1**t), "
            "as torch does.", _radam_no_step_before),
    Mistake("no_rectification", "the rectified step without r (Adam's step once rho_t > 5)",
            f"multiply by r = sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)): "
            f"{_RADAM_RECTIFIED}.", _radam_no_rectification),
    Mistake("r_inverted", "r upside down (divided by r instead of multiplied)",
            "r = sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) is below 1 and "
            f"grows towards 1: {_RADAM_RECTIFIED}.", _radam_r_inverted),
    Mistake("eps_after_correction", "eps added to np.sqrt(v_hat), after the bias correction, as in Adam",
            "RAdam (in torch and this course) adds eps to np.sqrt(v) before the correction: "
            "l = np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps).", _radam_eps_after_correction),
    Mistake("no_v_correction", "l without the bias correction of v, 1 / (np.sqrt(v) + eps)",
            "l = np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps): the factor np.sqrt(1 - beta2**t) is the bias "
            "correction of v.", _radam_no_v_correction),
    Mistake("momentum_step_without_correction", "the early steps with m instead of m_hat, p = p - lr * m",
            "the momentum step uses the corrected m: p = p - lr * m_hat with m_hat = m / (1 - beta1**t).",
            _radam_momentum_step_without_correction),
    Mistake("betas_swapped", "beta1 and beta2 swapped (m decays with beta2, v and rho with beta1)",
            "m = beta1 * m + (1 - beta1) * g and v = beta2 * v + (1 - beta2) * g**2; rho_inf and rho_t use beta2.",
            _radam_betas_swapped),
    Mistake("ascends", "a step uphill (the right step, added instead of subtracted)",
            f"subtract the step: p = p - lr * m_hat before the threshold, {_RADAM_RECTIFIED} after it.",
            _radam_ascends),
)


# --------------------------------------------------------------------------------------
# Adamax's catalogue
# --------------------------------------------------------------------------------------

# Adamax: t <- t + 1;  m <- beta1 m + (1 - beta1) g;  u <- max(beta2 u, |g| + eps);
#         p <- p - lr / (1 - beta1**t) m / u


def _adamax_eps_outside(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    u = np.maximum(beta2 * state["u"], np.abs(g))
    return p - lr / (1 - beta1**t) * m / (u + eps), {"t": t, "m": m, "u": u}


def _adamax_no_eps(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    u = np.maximum(beta2 * state["u"], np.abs(g))
    return p - lr / (1 - beta1**t) * m / u, {"t": t, "m": m, "u": u}


def _adamax_no_decay(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    u = np.maximum(state["u"], np.abs(g) + eps)
    return p - lr / (1 - beta1**t) * m / u, {"t": t, "m": m, "u": u}


def _adamax_average(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    u = beta2 * state["u"] + (1 - beta2) * (np.abs(g) + eps)
    return p - lr / (1 - beta1**t) * m / u, {"t": t, "m": m, "u": u}


def _adamax_u_corrected(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    u = np.maximum(beta2 * state["u"], np.abs(g) + eps)
    return p - lr / (1 - beta1**t) * m / (u / (1 - beta2**t)), {"t": t, "m": m, "u": u}


def _adamax_no_bias_correction(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    u = np.maximum(beta2 * state["u"], np.abs(g) + eps)
    return p - lr * m / u, {"t": t, "m": m, "u": u}


def _adamax_no_abs(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    u = np.maximum(beta2 * state["u"], g + eps)
    return p - lr / (1 - beta1**t) * m / u, {"t": t, "m": m, "u": u}


def _adamax_betas_swapped(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    return _adamax_reference(p, g, state, lr=lr, beta1=beta2, beta2=beta1, eps=eps)


def _adamax_ascends(
    p: np.ndarray, g: np.ndarray, state: State, *, lr: float, beta1: float, beta2: float, eps: float
) -> Arrays:
    new_p, new_state = _adamax_reference(p, g, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    return p + (p - new_p), new_state


_ADAMAX_U = "u = np.maximum(beta2 * u, np.abs(g) + eps)"
_ADAMAX_STEP = "p = p - lr / (1 - beta1**t) * m / u"

ADAMAX_MISTAKES = (
    Mistake("eps_outside", "eps added to u in the step, m / (u + eps), instead of inside the maximum",
            f"torch (and this course) adds eps inside the maximum, {_ADAMAX_U}, and steps {_ADAMAX_STEP} "
            "(Keras adds it in the step, as you did; the two differ while |g| is near eps).",
            _adamax_eps_outside),
    Mistake("no_eps", "the paper's u = np.maximum(beta2 * u, np.abs(g)), without eps",
            f"torch (and this course) adds eps inside the maximum, {_ADAMAX_U}, so that u is never 0.",
            _adamax_no_eps),
    Mistake("no_decay", "a maximum without the decay, u = np.maximum(u, np.abs(g) + eps)",
            f"the old maximum fades by beta2 per step: {_ADAMAX_U}.", _adamax_no_decay),
    Mistake("average", "u as a leaky average of |g| instead of a maximum",
            f"u is a decayed maximum, not an average: {_ADAMAX_U}.", _adamax_average),
    Mistake("u_bias_corrected", "u divided by 1 - beta2**t, a bias correction u does not need",
            f"only m is corrected; u starts at the first |g| and needs no correction: {_ADAMAX_STEP}.",
            _adamax_u_corrected),
    Mistake("no_bias_correction", "Adamax without the bias correction of m, p - lr * m / u",
            f"divide by 1 - beta1**t: {_ADAMAX_STEP}.", _adamax_no_bias_correction),
    Mistake("no_abs", "a maximum of g instead of |g|, np.maximum(beta2 * u, g + eps)",
            f"u holds the size of the gradients: {_ADAMAX_U}.", _adamax_no_abs),
    Mistake("betas_swapped", "beta1 and beta2 swapped (m decays with beta2, u with beta1)",
            f"m = beta1 * m + (1 - beta1) * g and {_ADAMAX_U}.", _adamax_betas_swapped),
    Mistake("ascends", "a step uphill, p + lr / (1 - beta1**t) * m / u",
            f"subtract the step: {_ADAMAX_STEP}.", _adamax_ascends),
)


# --------------------------------------------------------------------------------------
# Starter code
# --------------------------------------------------------------------------------------

NADAM_SKELETON = f'''\
import numpy as np


def my_nadam_update(p, g, state, *, lr, beta1, beta2, eps, momentum_decay):
    """One step of NAdam (torch's form; momentum_decay is psi).

        t          <- t + 1
        mu         <- beta1 * (1 - 0.5 * 0.96**(t * momentum_decay))
        mu_next    <- beta1 * (1 - 0.5 * 0.96**((t + 1) * momentum_decay))
        mu_product <- mu_product * mu
        m          <- beta1 * m + (1 - beta1) * g
        v          <- beta2 * v + (1 - beta2) * g**2
        v_hat      <- v / (1 - beta2**t)
        p          <- p - lr * (1 - mu) / (1 - mu_product) * g / (sqrt(v_hat) + eps)
                        - lr * mu_next / (1 - mu_product * mu_next) * m / (sqrt(v_hat) + eps)

    p, g, state["m"] and state["v"] are NumPy float64 arrays of the same shape; both start
    at 0. state["t"] is the number of steps taken so far (0 before the first step) and
    state["mu_product"] the product of the mu's so far (1.0 before the first step).
    Use np.sqrt for the square root.
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict
    new_state = {{"t": t, "m": m, "v": v, "mu_product": mu_product}}.
    """
    # Your code here.

    return new_p, {{"t": t, "m": m, "v": v, "mu_product": mu_product}}
'''

RADAM_SKELETON = f'''\
import math

import numpy as np


def my_radam_update(p, g, state, *, lr, beta1, beta2, eps):
    """One step of RAdam (torch's form).

        t       <- t + 1
        m       <- beta1 * m + (1 - beta1) * g
        v       <- beta2 * v + (1 - beta2) * g**2
        m_hat   <- m / (1 - beta1**t)
        rho_inf <- 2 / (1 - beta2) - 1
        rho     <- rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho > 5:
            r <- sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            l <- sqrt(1 - beta2**t) / (sqrt(v) + eps)
            p <- p - lr * m_hat * l * r
        else:
            p <- p - lr * m_hat

    p, g, state["m"] and state["v"] are NumPy float64 arrays of the same shape; both start
    at 0. state["t"] is the number of steps taken so far (0 before the first step).
    rho and r are plain numbers (math.sqrt); use np.sqrt for the array v.
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"t": t, "m": m, "v": v}}.
    """
    # Your code here.

    return new_p, {{"t": t, "m": m, "v": v}}
'''

ADAMAX_SKELETON = f'''\
import numpy as np


def my_adamax_update(p, g, state, *, lr, beta1, beta2, eps):
    """One step of Adamax (torch's form: eps inside the maximum).

        t <- t + 1
        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)          (entry by entry)
        p <- p - lr / (1 - beta1**t) * m / u

    p, g, state["m"] and state["u"] are NumPy float64 arrays of the same shape; both start
    at 0. state["t"] is the number of steps taken so far (0 before the first step).
    Use np.maximum and np.abs, which work entry by entry.
{_NOT_IN_PLACE}

    Return (new_p, new_state), with a new dict new_state = {{"t": t, "m": m, "u": u}}.
    """
    # Your code here.

    return new_p, {{"t": t, "m": m, "u": u}}
'''


# --------------------------------------------------------------------------------------
# The exercises
# --------------------------------------------------------------------------------------

_NAN_HINT = (
    "NaN, inf or a ZeroDivisionError come from a division by zero or a square root of a negative number. "
    'Increment t first, t = state["t"] + 1, so that 1 - beta2**t is not 0 at the first step.'
)
_T_HINT = 't counts the steps: t = state["t"] + 1, returned in the new state (t is 1 after the first step).'
_M_HINT = "m is the leaky average of the gradients, from the old m in state: m = beta1 * m + (1 - beta1) * g."
_V_HINT = "v is the leaky average of the squared gradients, from the old v: v = beta2 * v + (1 - beta2) * g**2."
# beta1 and beta2 do not overlap, so that swapping them always shows.
_BETA1 = Range(0.6, 0.9)

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="nadam", title="NAdam",
        hyperparameters=("lr", "beta1", "beta2", "eps", "momentum_decay"),
        ranges={"lr": _LR, "beta1": _BETA1, "beta2": Range(0.91, 0.999), "eps": _EPS,
                "momentum_decay": Range(0.004, 0.2, log=True)},
        fixed={},
        init=nadam_init, reference=_nadam_reference, state_keys=("t", "mu_product", "m", "v"),
        mistakes=NADAM_MISTAKES,
        variable_hints={
            "t": _T_HINT,
            "mu_product": "mu_product is the product of all the mu's so far, this step's included: "
                          'mu_product = state["mu_product"] * mu with mu = beta1 * (1 - 0.5 * 0.96 ** '
                          "(t * momentum_decay)).",
            "m": _M_HINT + " (beta1, not mu.)",
            "v": _V_HINT,
            "p": f"the step has two terms, the gradient's and the momentum's: {_NADAM_STEP}, with "
                 "v_hat = v / (1 - beta2**t) and mu_next the next step's mu.",
        },
        nan_hint=_NAN_HINT, skeleton=NADAM_SKELETON, scalar_keys=("t", "mu_product"),
    ),
    Exercise(
        name="radam", title="RAdam",
        hyperparameters=("lr", "beta1", "beta2", "eps"),
        # beta2 from 0.7 (rho_inf = 5.67): the first rectified step is then the sixth to the tenth,
        # so that a switch written as t > 5 shows; every trial has a step with 4 < rho_t <= 5.
        ranges={"lr": _LR, "beta1": _BETA1, "beta2": Range(0.7, 0.999), "eps": _EPS}, fixed={},
        init=radam_init, reference=_radam_reference, state_keys=("t", "m", "v"),
        mistakes=RADAM_MISTAKES,
        variable_hints={
            "t": _T_HINT, "m": _M_HINT, "v": _V_HINT,
            "p": "while rho_t <= 5 (the first five steps with beta2 = 0.999) the step is p = p - lr * m_hat; "
                 f"after that {_RADAM_RECTIFIED} and r the rectification; m_hat = m / (1 - beta1**t).",
        },
        nan_hint=_NAN_HINT, skeleton=RADAM_SKELETON,
        steps=10,  # steps 6 to 10 are rectified
    ),
    Exercise(
        name="adamax", title="Adamax",
        hyperparameters=("lr", "beta1", "beta2", "eps"),
        ranges={"lr": _LR, "beta1": _BETA1, "beta2": Range(0.91, 0.999), "eps": _EPS}, fixed={},
        init=adamax_init, reference=_adamax_reference, state_keys=("t", "m", "u"),
        mistakes=ADAMAX_MISTAKES,
        variable_hints={
            "t": _T_HINT, "m": _M_HINT,
            "u": f"u is the largest recent gradient size, the old one fading by beta2 per step: {_ADAMAX_U}.",
            "p": f"the step divides the corrected m by u: {_ADAMAX_STEP}.",
        },
        nan_hint="NaN or inf comes from a division by zero: u is 0 where eps is left out of the maximum and "
                 "g is 0, or where u is used before it is updated. " + _NAN_HINT,
        skeleton=ADAMAX_SKELETON,
    ),
)
"""The exercises ``nadam``, ``radam`` and ``adamax``."""
