"""The derivatives written without ``np.where`` give ``np.where``'s values exactly."""

import numpy as np
import pytest

from skdeep._engine.activations import (
    LEAKY_SLOPE,
    SELU_ALPHA,
    SELU_SCALE,
    elu,
    elu_derivative,
    leaky_relu,
    leaky_relu_derivative,
    selu,
    selu_derivative,
)

# The factor each derivative multiplies delta by, as np.where spells it.
REFERENCE_FACTORS = {
    "leaky_relu": (leaky_relu, leaky_relu_derivative,
                   lambda A: np.where(A > 0, 1.0, LEAKY_SLOPE).astype(A.dtype)),
    "elu": (elu, elu_derivative, lambda A: np.where(A > 0, 1.0, A + 1.0).astype(A.dtype)),
    "selu": (selu, selu_derivative,
             lambda A: np.where(A > 0, SELU_SCALE, A + SELU_SCALE * SELU_ALPHA).astype(A.dtype)),
}


def _outputs(forward, dtype):
    """Activations of ordinary, tiny, huge, zero and infinite inputs."""
    rng = np.random.default_rng(0)
    Z = np.concatenate([rng.standard_normal(997) * 3, [0.0, -0.0, 1e-30, -1e-30, 80.0, -80.0]])
    with np.errstate(over="ignore"):
        A = forward(Z.astype(dtype))
        A = np.concatenate([A, np.array([np.inf], dtype)])  # an overflowed activation
    return A.reshape(-1, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(REFERENCE_FACTORS))
def test_derivative_equals_the_where_formula_bit_for_bit(name, dtype):
    forward, derivative, reference = REFERENCE_FACTORS[name]
    A = _outputs(forward, dtype)
    delta = np.random.default_rng(1).standard_normal(A.shape).astype(dtype)
    expected = delta * reference(A)
    result = derivative(A, delta.copy())
    assert result.dtype == dtype
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("name", sorted(REFERENCE_FACTORS))
def test_derivative_keeps_nan(name):
    _, derivative, _ = REFERENCE_FACTORS[name]
    A = np.array([[np.nan], [1.0]])
    result = derivative(A, np.ones_like(A))
    assert np.isnan(result[0, 0]) == (name != "leaky_relu")
    assert np.isfinite(result[1, 0])
