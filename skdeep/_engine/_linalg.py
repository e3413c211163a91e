"""Small BLAS helpers shared by the engine."""

import numpy as np
from scipy.linalg import blas

__all__ = ["axpy"]

# Looking a BLAS routine up costs more than running it on a small vector, and
# the optimizers call axpy several times per mini-batch: resolve once per dtype.
_AXPY = {
    np.dtype(np.float64): blas.daxpy,
    np.dtype(np.float32): blas.saxpy,
}


def axpy(alpha, x, y):
    """``y += alpha * x`` in place through BLAS, without a temporary array.

    Both arrays must be contiguous, one-dimensional and of the same dtype.
    """
    if x.size == 0:
        return y
    routine = _AXPY.get(y.dtype)
    if routine is None:
        y += alpha * x
        return y
    routine(x, y, a=alpha)
    return y
