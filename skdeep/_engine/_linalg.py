"""Small BLAS helpers shared by the engine."""

from scipy.linalg import blas

__all__ = ["axpy"]


def axpy(alpha, x, y):
    """``y += alpha * x`` in place through BLAS, without a temporary array.

    Both arrays must be contiguous, one-dimensional and of the same dtype.
    """
    if x.size == 0:
        return y
    blas.get_blas_funcs("axpy", (x, y))(x, y, a=alpha)
    return y
