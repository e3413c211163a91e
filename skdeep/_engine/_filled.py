"""Read-only arrays of one value, shared: the bound of ``np.maximum`` and ``np.minimum``.

NumPy (2.4 here, with AVX-512) runs ``np.maximum(Z, 0.0)`` with a scalar
bound through a loop 3-5x slower than against an array of the same shape
(430k float32 values: 121 µs against 31 µs; float64: 226 against 66). Both
give the same values bit for bit, signed zeros and NaN included, so the hot
clipping passes of the activations and encodings take the array.

The zeros, by far the most used, are allocated once, at import, by
``np.zeros``: the system maps their untouched pages to one shared page of
zeros, so read-only they cost no memory, and no call ever allocates them
(a prediction stays within ``working_memory``, as ``tracemalloc`` counts
it). Other values are cached on first use, for operands of at most
``MAX_OTHER_SIZE`` elements.
"""

import math
import threading

import numpy as np

__all__ = ["filled_like"]

#: Smallest operand served an array (elements): below it, making the view
#: costs more than the faster loop saves (100 float64 values: 774 ns with
#: the view, 474 ns with the scalar; 1,024: 768 against 869-940 ns).
MIN_FILLED_SIZE = 1024
#: Largest operand served an array of zeros (elements); beyond it the scalar
#: is returned.
MAX_FILLED_SIZE = 1 << 21
#: Largest operand served an array of another value: those arrays take
#: real memory, allocated on first use.
MAX_OTHER_SIZE = 1 << 18


def _read_only_zeros(dtype):
    zeros = np.zeros(MAX_FILLED_SIZE, dtype=dtype)
    zeros.flags.writeable = False
    return zeros


_ZEROS = {np.dtype(dtype): _read_only_zeros(dtype) for dtype in (np.float32, np.float64)}
_FILLED = {}
_LOCK = threading.Lock()


def filled_like(Z, value):
    """A read-only array of ``Z``'s shape and dtype filled with ``value``, or ``value``.

    A view of a shared vector: of zeros made at import (operands of at most
    ``MAX_FILLED_SIZE`` elements), or of another value cached per dtype and
    value (at most ``MAX_OTHER_SIZE``). Otherwise ``value`` itself, which
    gives the same results: more slowly, except for operands of fewer than
    ``MIN_FILLED_SIZE`` elements.

    Parameters
    ----------
    Z : ndarray
        The other operand.
    value : float
        The fill value; it is cast to ``Z``'s dtype, as a scalar operand
        would be.

    Returns
    -------
    ndarray or float
    """
    size = Z.size
    if size < MIN_FILLED_SIZE:
        return value
    if value == 0 and math.copysign(1.0, value) > 0:  # +0.0, not -0.0
        zeros = _ZEROS.get(Z.dtype)
        if zeros is None or size > MAX_FILLED_SIZE:
            return value
        return zeros[:size].reshape(Z.shape)
    if size > MAX_OTHER_SIZE:
        return value
    key = (Z.dtype, float(value).hex())  # -0.0 == 0.0, but its array differs
    flat = _FILLED.get(key)
    if flat is None:
        with _LOCK:
            flat = _FILLED.get(key)
            if flat is None:
                flat = np.full(MAX_OTHER_SIZE, value, dtype=Z.dtype)
                flat.flags.writeable = False
                _FILLED[key] = flat
    return flat[:size].reshape(Z.shape)
