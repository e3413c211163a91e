"""Small BLAS helpers shared by the engine."""

import functools
from pathlib import Path

import numpy as np
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

__all__ = ["axpy", "axpy_cuts", "scipy_blas_on_one_thread", "scipy_blas_single_threaded"]

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


def axpy(alpha, x, y, whole=False):
    """``y += alpha * x`` in place through BLAS, without a temporary array.

    Both arrays must be contiguous, one-dimensional and of the same dtype.
    Vectors longer than ``_SINGLE_THREAD_SIZE`` go to BLAS in pieces of that
    size, unless ``whole``: one call, for a caller that found SciPy's BLAS
    on one thread (:func:`scipy_blas_single_threaded`). Every call holds
    Python's GIL, so on several threads fewer calls wait less for each
    other. The result is the same either way: a piece ends on a multiple of
    the kernel's block, and one thread computes every element as the pieces
    do.
    """
    n = x.size
    if n == 0:
        return y
    routine = _AXPY.get(y.dtype)
    if routine is None:
        y += alpha * x
        return y
    if whole or n <= _SINGLE_THREAD_SIZE:
        routine(x, y, a=alpha)
        return y
    for start in range(0, n, _SINGLE_THREAD_SIZE):
        stop = start + _SINGLE_THREAD_SIZE
        # Slices of contiguous 1-D arrays are views: BLAS updates y in place.
        routine(x[start:stop], y[start:stop], a=alpha)
    return y


def _is_scipy_bundled(filepath):
    """Whether a shared library is the copy bundled inside SciPy's wheel.

    Wheels keep it in ``site-packages/scipy.libs`` (Linux, Windows) or
    ``scipy/.dylibs`` (macOS). A BLAS that NumPy and SciPy share (conda,
    system packages) lives elsewhere and is not matched.
    """
    parent = Path(filepath).parent
    return parent.name == "scipy.libs" or (
        parent.name == ".dylibs" and parent.parent.name == "scipy"
    )


def axpy_cuts(n):
    """Whether :func:`axpy` hands a vector of ``n`` elements to BLAS in pieces.

    Only such a vector gains from ``whole``; a caller can skip asking
    :func:`scipy_blas_single_threaded` for the others.
    """
    return n > _SINGLE_THREAD_SIZE


def scipy_blas_on_one_thread():
    """Context manager: SciPy's own BLAS pool runs on the calling thread.

    SciPy's L-BFGS-B calls LAPACK's small triangular solves every iteration;
    SciPy's bundled OpenBLAS threads them in a pool separate from NumPy's,
    and the two pools, each spinning on every core between calls, slow a
    full-batch fit down 5x on 2 cores. NumPy's pool, which runs the
    network's large matrix products, keeps its threads. Nothing is changed
    where SciPy has no BLAS of its own.

    Returns
    -------
    context manager
        Restores the previous thread count on exit.
    """
    return _scipy_bundled_blas().limit(limits=1)


def scipy_blas_single_threaded():
    """Whether the BLAS bundled in SciPy's wheel runs on one thread now.

    It does inside :func:`scipy_blas_on_one_thread` (every training loop
    runs in it), unless another thread changed the limit meanwhile. False
    where SciPy has no BLAS of its own. Reading the count takes about a
    microsecond.
    """
    libraries = _scipy_bundled_blas().lib_controllers
    return bool(libraries) and all(library.num_threads == 1 for library in libraries)


@functools.cache
def _scipy_bundled_blas():
    """threadpoolctl controller of the BLAS bundled in SciPy's wheel, if any.

    Found once: scanning the loaded libraries takes milliseconds, a third of
    a small L-BFGS fit, and SciPy's BLAS is loaded by this module's import of
    ``scipy.linalg``. The controller reads the current thread counts on every
    ``limit``, so caching it does not cache them.
    """
    controller = ThreadpoolController()
    own = [lib.filepath for lib in controller.lib_controllers
           if lib.user_api == "blas" and _is_scipy_bundled(lib.filepath)]
    return controller.select(filepath=own)
