"""Weight initialisation.

A layer's starting weights must be small and random: random so that neurons
of one layer do not stay identical (they would receive identical gradients
forever), small so that activations neither vanish nor explode through depth.
"""

import numpy as np

__all__ = ["INITIALIZERS", "init_bound", "glorot_uniform_bound", "init_layer"]


def glorot_uniform_bound(fan_in, fan_out, activation):
    """Half-width of the uniform Glorot (Xavier) initialisation interval.

    ``sqrt(factor / (fan_in + fan_out))`` with ``factor = 2`` for the logistic
    activation and ``6`` otherwise, the rule sklearn's MLP uses, so that the
    same ``random_state`` gives the same starting weights.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.
    activation : str
        Name of the network's hidden activation.

    Returns
    -------
    bound : float
    """
    factor = 2.0 if activation == "logistic" else 6.0
    return np.sqrt(factor / (fan_in + fan_out))


def he_uniform_bound(fan_in, fan_out, activation):
    """He initialisation for ReLU-family layers: ``sqrt(6 / fan_in)``.

    ReLU zeroes half of its inputs on average, so the variance that keeps
    signals from shrinking through depth is twice Glorot's (He et al., 2015).
    """
    return np.sqrt(6.0 / fan_in)


def lecun_uniform_bound(fan_in, fan_out, activation):
    """LeCun initialisation, the one SELU's self-normalisation assumes: ``sqrt(3 / fan_in)``."""
    return np.sqrt(3.0 / fan_in)


INITIALIZERS = {
    "glorot": glorot_uniform_bound,
    "he": he_uniform_bound,
    "lecun": lecun_uniform_bound,
}


def init_bound(name, fan_in, fan_out, activation):
    """Half-width of the uniform interval of initialiser ``name``."""
    return INITIALIZERS[name](fan_in, fan_out, activation)


def init_layer(random_state, fan_in, fan_out, bound, coef_out, intercept_out):
    """Draw one layer's weights and biases uniformly in ``[-bound, bound]``.

    The weights are drawn before the biases, both in float64, then written
    into the (possibly float32) output views.

    Parameters
    ----------
    random_state : numpy.random.RandomState
        Source of randomness.
    fan_in, fan_out : int
        Shape of the weight matrix.
    bound : float
        Half-width of the interval.
    coef_out : ndarray of shape (fan_in, fan_out)
        Receives the weights.
    intercept_out : ndarray of shape (fan_out,)
        Receives the biases.
    """
    coef_out[...] = random_state.uniform(-bound, bound, (fan_in, fan_out))
    intercept_out[...] = random_state.uniform(-bound, bound, fan_out)
