"""Hidden-layer activation functions and their derivatives: one registry.

Each activation is one :class:`Activation` entry of ``ACTIVATIONS`` holding a
pair of in-place functions:

* ``forward(Z)`` overwrites the pre-activations ``Z = A_prev @ W + b`` with
  the activations ``A = f(Z)``;
* ``backward(A, delta, Z)`` multiplies the back-propagated error ``delta``
  (the gradient of the loss with respect to ``A``) by ``f'(Z)``, turning it
  into the gradient with respect to ``Z``. The derivative is expressed
  through the forward output ``A`` so that ``Z`` never needs to be kept.
  GELU is not monotonic, so ``A`` does not determine ``Z``: its entry sets
  ``needs_preactivation`` and the layer keeps a copy of ``Z`` for it.

Working in place lets the training loop reuse one buffer per layer for every
mini-batch instead of allocating new arrays. Adding an activation is one
entry here (and its ONNX mapping in ``skdeep/_onnx.py``; a test checks that
both exist).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ._filled import filled_like

__all__ = ["Activation", "ACTIVATIONS", "HIDDEN_ACTIVATIONS", "get_activation"]

LEAKY_SLOPE = 0.01
# SELU constants (Klambauer et al., 2017) make activations self-normalising.
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
# GELU's tanh approximation: z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z**3))).
GELU_CUBIC = 0.044715
SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))


@dataclass(frozen=True)
class Activation:
    """One activation function: its forward pass and its derivative.

    Parameters
    ----------
    name : str
        Registry key, the estimators' ``activation`` value.
    forward : callable
        ``forward(Z)`` overwrites ``Z`` with ``f(Z)`` and returns it.
    backward : callable
        ``backward(A, delta, Z)`` multiplies ``delta`` in place by ``f'``,
        from the forward output ``A`` (and ``Z`` when
        ``needs_preactivation``).
    needs_preactivation : bool, default=False
        Whether ``backward`` reads the pre-activation ``Z``.
    forward_with_slope : callable, default=None
        ``forward_with_slope(Z, slope, scratch)`` overwrites ``Z`` with
        ``f(Z)`` and writes ``f'(Z)`` into ``slope`` in one pass over the
        data (``scratch`` is a buffer of ``Z``'s shape it may overwrite), so
        that training keeps the slope instead of recomputing it backwards.
        None derives it from ``forward`` and ``backward``.
    """

    name: str
    forward: Callable
    backward: Callable
    needs_preactivation: bool = False
    forward_with_slope: Callable = None

    @property
    def is_identity(self):
        """Whether the activation leaves its input unchanged."""
        return self.name == "identity"

    def activate_with_slope(self, Z, slope, scratch):
        """``Z <- f(Z)`` in place and ``slope <- f'(Z)`` (see ``forward_with_slope``)."""
        if self.forward_with_slope is not None:
            return self.forward_with_slope(Z, slope, scratch)
        if self.needs_preactivation:
            np.copyto(scratch, Z)
        self.forward(Z)
        slope.fill(1.0)
        self.backward(Z, slope, scratch if self.needs_preactivation else None)
        return Z


def identity(Z):
    """Leave ``Z`` unchanged: ``f(z) = z``."""
    return Z


def identity_derivative(A, delta, Z=None):
    """``f'(z) = 1``: the error passes through unchanged."""
    return delta


def logistic(Z):
    """Logistic sigmoid ``f(z) = 1 / (1 + exp(-z))``, in place."""
    return expit(Z, out=Z)


def logistic_derivative(A, delta, Z=None):
    """``f'(z) = a (1 - a)`` with ``a = f(z)``."""
    delta *= A
    delta *= 1.0 - A
    return delta


def tanh(Z):
    """Hyperbolic tangent, in place."""
    return np.tanh(Z, out=Z)


def tanh_derivative(A, delta, Z=None):
    """``f'(z) = 1 - a**2`` with ``a = tanh(z)``."""
    delta *= 1.0 - A * A
    return delta


def _select(condition, if_true, if_false, dtype):
    """``np.where(condition, if_true, if_false)`` in ``dtype``, for finite branches.

    Each element is one branch times 1 plus the other times 0, which is
    exact; NumPy's ``where`` with a scalar branch is about 3x slower than
    these two products and a sum.
    """
    chosen = np.multiply(condition, if_true, dtype=dtype)
    chosen += np.multiply(~condition, if_false, dtype=dtype)
    return chosen


def relu(Z):
    """Rectified linear unit ``f(z) = max(z, 0)``, in place."""
    return np.maximum(Z, filled_like(Z, 0.0), out=Z)


def _positive(Z, out):
    """1 where ``z > 0``, else 0, into ``out`` (np.heaviside is 50x slower)."""
    np.copyto(out, np.greater(Z, 0.0))
    return out


def relu_with_slope(Z, slope, scratch):
    """ReLU in place, and its slope: 1 where ``z > 0``, else 0."""
    _positive(Z, slope)
    return np.maximum(Z, filled_like(Z, 0.0), out=Z)


def relu_derivative(A, delta, Z=None):
    """``f'(z) = 1`` where ``a > 0``, else ``0``.

    ``a > 0`` exactly where ``z > 0``, so the forward output is enough.
    """
    # Multiplying by the boolean mask is faster than fancy-index assignment.
    np.multiply(delta, A > 0, out=delta)
    return delta


def leaky_relu(Z):
    """Leaky ReLU ``f(z) = z`` for ``z > 0``, ``0.01 z`` otherwise, in place."""
    np.maximum(Z, LEAKY_SLOPE * Z, out=Z)
    return Z


def leaky_relu_derivative(A, delta, Z=None):
    """``f'(z) = 1`` where ``a > 0``, else ``0.01``."""
    delta *= _select(A > 0, 1.0, LEAKY_SLOPE, A.dtype)
    return delta


def _exponential_part(Z, alpha):
    """``alpha * (exp(min(z, 0)) - 1)``: the negative branch of ELU and SELU, 0 elsewhere.

    Computed over the whole array: cheaper than gathering and scattering
    the negative entries (0 is added to the positives).
    """
    negative = np.minimum(Z, filled_like(Z, 0.0))
    if negative.dtype == np.float32:
        # NumPy vectorises float32 exp but not expm1 (4-5x slower); exp - 1
        # is off by at most one float32 step of 1 (6e-8), far below the noise.
        np.exp(negative, out=negative)
        negative -= 1.0
    else:
        np.expm1(negative, out=negative)
    if alpha != 1.0:
        negative *= alpha
    return negative


def elu(Z):
    """ELU ``f(z) = z`` for ``z > 0``, ``exp(z) - 1`` otherwise, in place."""
    negative = _exponential_part(Z, 1.0)
    np.maximum(Z, filled_like(Z, 0.0), out=Z)
    Z += negative
    return Z


def elu_derivative(A, delta, Z=None):
    """``f'(z) = 1`` where ``a > 0``, else ``exp(z) = a + 1``."""
    # min(a, 0) keeps the unused branch finite where a overflowed.
    delta *= _select(A > 0, 1.0, np.minimum(A, filled_like(A, 0.0)) + 1.0, A.dtype)
    return delta


def selu(Z):
    """SELU ``scale * (z if z > 0 else alpha * (exp(z) - 1))``, in place."""
    negative = _exponential_part(Z, SELU_ALPHA)
    np.maximum(Z, filled_like(Z, 0.0), out=Z)
    Z += negative
    Z *= SELU_SCALE
    return Z


def selu_derivative(A, delta, Z=None):
    """``f'(z) = scale`` where ``a > 0``, else ``a + scale * alpha``."""
    negative_branch = np.minimum(A, filled_like(A, 0.0)) + SELU_SCALE * SELU_ALPHA
    delta *= _select(A > 0, SELU_SCALE, negative_branch, A.dtype)
    return delta


def selu_with_slope(Z, slope, scratch):
    """SELU in place, and its slope ``scale`` (``z > 0``) or ``scale * alpha * exp(z)``.

    One exponential serves both: ``e = scale * alpha * exp(min(z, 0))`` is
    the slope of the negative branch and ``f(z) = scale * max(z, 0) + e -
    scale * alpha``; where ``z > 0``, ``e`` is ``scale * alpha`` and the
    slope is ``e - (scale * alpha - scale)``.
    """
    scaled_alpha = SELU_SCALE * SELU_ALPHA
    zeros = filled_like(Z, 0.0)
    positive = _positive(Z, scratch)
    exponential = np.minimum(Z, zeros, out=slope)
    np.exp(exponential, out=exponential)
    exponential *= scaled_alpha
    np.maximum(Z, zeros, out=Z)
    Z *= SELU_SCALE
    Z += exponential
    Z -= scaled_alpha
    positive *= scaled_alpha - SELU_SCALE
    exponential -= positive
    return Z


def softplus(Z):
    """Softplus ``f(z) = log(1 + exp(z))``, in place and overflow-free."""
    return np.logaddexp(0.0, Z, out=Z)


def softplus_derivative(A, delta, Z=None):
    """``f'(z) = sigmoid(z) = 1 - exp(-a)`` with ``a = softplus(z)``."""
    delta *= -np.expm1(-A)
    return delta


def _gelu_inner(Z):
    return SQRT_2_OVER_PI * (Z + GELU_CUBIC * Z**3)


def gelu(Z):
    """GELU, tanh approximation ``z/2 (1 + tanh(sqrt(2/pi)(z + 0.044715 z^3)))``."""
    Z *= 0.5 * (1.0 + np.tanh(_gelu_inner(Z)))
    return Z


def gelu_derivative(A, delta, Z=None):
    """Derivative of the tanh-approximated GELU; needs the pre-activation ``Z``."""
    t = np.tanh(_gelu_inner(Z))
    inner_slope = SQRT_2_OVER_PI * (1.0 + 3 * GELU_CUBIC * Z * Z)
    delta *= 0.5 * (1.0 + t) + 0.5 * Z * (1.0 - t * t) * inner_slope
    return delta


# Beyond this, tanh(softplus(z)) is 1 to float64 precision (1 - 2 e^-2z).
_MISH_SATURATION = 20.0


def _mish_terms(Z):
    """``u = exp(z)`` (capped), ``n = u (u + 2)`` and ``n + 2``.

    ``tanh(softplus(z)) = n / (n + 2)``: one exponential instead of the
    logarithm, exponential and tanh of the definition.
    """
    u = np.minimum(Z, filled_like(Z, _MISH_SATURATION))
    np.exp(u, out=u)
    n = u + 2.0
    n *= u
    return u, n, n + 2.0


def mish(Z):
    """Mish ``f(z) = z tanh(softplus(z))`` (Misra, 2019), in place."""
    _, n, n_plus_2 = _mish_terms(Z)
    n /= n_plus_2
    Z *= n
    return Z


def mish_derivative(A, delta, Z=None):
    """``f'(z) = t + z sigmoid(z) (1 - t**2)``, ``t = tanh(softplus(z))``.

    Mish is not monotonic, so the derivative reads the pre-activation ``Z``.
    ``1 - t**2`` is computed as ``2 (1 + t) / (n + 2)``, free of the
    cancellation near ``t = 1``.
    """
    u, n, n_plus_2 = _mish_terms(Z)
    t = np.divide(n, n_plus_2, out=n)
    factor = t + 1.0
    factor *= 2.0
    factor /= n_plus_2
    u /= u + 1.0  # sigmoid(z)
    factor *= u
    factor *= Z
    factor += t
    delta *= factor
    return delta


def mish_with_slope(Z, slope, scratch):
    """Mish in place, and its slope ``t + z sigmoid(z) (1 - t**2)``, from one exponential.

    With ``u = exp(z)`` and ``n = u (u + 2)``: ``t = tanh(softplus(z)) =
    n / (n + 2) = 1 - 2 / (n + 2)``, ``1 - t**2 = 4 (u + 1)**2 / (n + 2)**2``
    and ``sigmoid(z) = u / (u + 1)``, so the second term of the slope is
    ``z u (u + 1) (2 / (n + 2))**2``. Every sum is of positive terms (no
    cancellation), and ``z`` is capped as in :func:`mish` before the
    exponential.
    """
    u = np.minimum(Z, filled_like(Z, _MISH_SATURATION), out=scratch)
    np.exp(u, out=u)
    two_over = np.add(u, 1.0, out=slope)        # u + 1
    u *= two_over                               # u (u + 1)
    two_over += u
    two_over += 1.0                             # n + 2 = u (u + 1) + (u + 1) + 1
    np.divide(2.0, two_over, out=two_over)      # 2 / (n + 2)
    u *= two_over
    u *= two_over
    u *= Z                                      # z u (u + 1) (2 / (n + 2))**2
    t = np.subtract(1.0, two_over, out=two_over)
    Z *= t
    t += u
    return Z


ACTIVATIONS = {
    entry.name: entry
    for entry in (
        Activation("identity", identity, identity_derivative),
        Activation("logistic", logistic, logistic_derivative),
        Activation("tanh", tanh, tanh_derivative),
        Activation("relu", relu, relu_derivative, forward_with_slope=relu_with_slope),
        Activation("leaky_relu", leaky_relu, leaky_relu_derivative),
        Activation("elu", elu, elu_derivative),
        Activation("selu", selu, selu_derivative, forward_with_slope=selu_with_slope),
        Activation("softplus", softplus, softplus_derivative),
        Activation("gelu", gelu, gelu_derivative, needs_preactivation=True),
        Activation("mish", mish, mish_derivative, needs_preactivation=True,
                   forward_with_slope=mish_with_slope),
    )
}

#: Names accepted for hidden layers, in registry order.
HIDDEN_ACTIVATIONS = tuple(ACTIVATIONS)


def get_activation(name):
    """The registry entry called ``name``, or a ValueError listing the choices."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown activation {name!r}; choose from {list(HIDDEN_ACTIVATIONS)}."
        ) from None
