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


# SciPy's wheels bundle their own OpenBLAS, with a thread pool separate from
# NumPy's. OpenBLAS runs axpy multi-threaded above 10,000 elements; waking
# SciPy's pool between NumPy's matrix products makes the two pools fight over
# the cores (a 7x slower fit on 2 cores). Calls of at most this many elements
# stay on the calling thread.
_SINGLE_THREAD_SIZE = 8192


def axpy(alpha, x, y):
    """``y += alpha * x`` in place through BLAS, without a temporary array.

    Both arrays must be contiguous, one-dimensional and of the same dtype.
    """
    n = x.size
    if n == 0:
        return y
    routine = _AXPY.get(y.dtype)
    if routine is None:
        y += alpha * x
        return y
    if n <= _SINGLE_THREAD_SIZE:
        routine(x, y, a=alpha)
        return y
    for start in range(0, n, _SINGLE_THREAD_SIZE):
        stop = start + _SINGLE_THREAD_SIZE
        # Slices of contiguous 1-D arrays are views: BLAS updates y in place.
        routine(x[start:stop], y[start:stop], a=alpha)
    return y
