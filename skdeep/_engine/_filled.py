"""Read-only arrays of one value, shared: the bound of ``np.maximum`` and ``np.minimum``.

NumPy (2.4 here, with AVX-512) runs ``np.maximum(Z, 0.0)`` with a scalar
bound through a loop 3-5x slower than against an array of the same shape
(430k float32 values: 121 µs against 31 µs; float64: 226 against 66). Both
give the same values bit for bit, signed zeros and NaN included, so the hot
clipping passes of the activations and encodings take the array.
"""

import threading

import numpy as np

__all__ = ["filled_like"]

#: Largest operand served an array (elements); beyond it the scalar is
#: returned, so that no cached array grows with the size of a prediction.
MAX_FILLED_SIZE = 1 << 21

_FILLED = {}
_LOCK = threading.Lock()


def filled_like(Z, value):
    """A read-only array of ``Z``'s shape and dtype filled with ``value``.

    Views of one cached vector per dtype and value, grown as needed. For
    an operand of more than ``MAX_FILLED_SIZE`` elements, ``value`` itself.

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
    if size > MAX_FILLED_SIZE:
        return value
    key = (Z.dtype, float(value).hex())  # -0.0 == 0.0, but its array differs
    flat = _FILLED.get(key)
    if flat is None or flat.size < size:
        with _LOCK:
            flat = _FILLED.get(key)
            if flat is None or flat.size < size:
                # Grown by doubling (up to the cap), so that a few sizes settle it.
                length = min(max(size, 2 * (0 if flat is None else flat.size), 1024),
                             max(size, MAX_FILLED_SIZE))
                flat = _filled(length, value, Z.dtype)
                flat.flags.writeable = False
                _FILLED[key] = flat
    return flat[:size].reshape(Z.shape)


def _filled(length, value, dtype):
    """A vector of ``length`` copies of ``value``.

    Zeros come from ``np.zeros``, whose pages the system maps to one shared
    page of zeros until written: read-only, the cached zeros cost no memory.
    """
    if value == 0 and not np.signbit(value):
        return np.zeros(length, dtype=dtype)
    return np.full(length, value, dtype=dtype)
