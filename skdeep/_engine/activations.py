"""Hidden-layer activation functions and their derivatives.

Each activation is a pair of in-place functions:

* ``forward(Z)`` overwrites the pre-activations ``Z = A_prev @ W + b`` with
  the activations ``A = f(Z)``;
* ``backward(A, delta)`` multiplies the back-propagated error ``delta`` (the
  gradient of the loss with respect to ``A``) by ``f'(Z)``, turning it into
  the gradient with respect to ``Z``. The derivative is expressed through the
  forward output ``A`` so that ``Z`` never needs to be kept.

Working in place lets the training loop reuse one buffer per layer for every
mini-batch instead of allocating new arrays.
"""

import numpy as np
from scipy.special import expit

__all__ = ["ACTIVATIONS", "DERIVATIVES", "HIDDEN_ACTIVATIONS"]


def identity(Z):
    """Leave ``Z`` unchanged: ``f(z) = z``."""
    return Z


def identity_derivative(A, delta):
    """``f'(z) = 1``: the error passes through unchanged."""
    return delta


def logistic(Z):
    """Logistic sigmoid ``f(z) = 1 / (1 + exp(-z))``, in place."""
    return expit(Z, out=Z)


def logistic_derivative(A, delta):
    """``f'(z) = a (1 - a)`` with ``a = f(z)``."""
    delta *= A
    delta *= 1.0 - A
    return delta


def tanh(Z):
    """Hyperbolic tangent, in place."""
    return np.tanh(Z, out=Z)


def tanh_derivative(A, delta):
    """``f'(z) = 1 - a**2`` with ``a = tanh(z)``."""
    delta *= 1.0 - A * A
    return delta


def relu(Z):
    """Rectified linear unit ``f(z) = max(z, 0)``, in place."""
    return np.maximum(Z, 0, out=Z)


def relu_derivative(A, delta):
    """``f'(z) = 1`` where ``a > 0``, else ``0``.

    ``a > 0`` exactly where ``z > 0``, so the forward output is enough.
    """
    # Multiplying by the boolean mask is faster than fancy-index assignment.
    np.multiply(delta, A > 0, out=delta)
    return delta


ACTIVATIONS = {
    "identity": identity,
    "logistic": logistic,
    "tanh": tanh,
    "relu": relu,
}

DERIVATIVES = {
    "identity": identity_derivative,
    "logistic": logistic_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
}

HIDDEN_ACTIVATIONS = tuple(ACTIVATIONS)
