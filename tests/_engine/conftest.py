"""Fixtures shared by the engine's tests."""

import numpy as np
import pytest

from skdeep._engine import _linalg


@pytest.fixture
def axpy_sizes(monkeypatch):
    """``record(dtype)``: from then on, the length of every BLAS axpy call of ``dtype``
    is appended to the list it returns."""

    def record(dtype):
        sizes = []
        routine = _linalg._AXPY[np.dtype(dtype)]

        def recording(x, y, a):
            sizes.append(x.size)
            return routine(x, y, a=a)

        monkeypatch.setitem(_linalg._AXPY, np.dtype(dtype), recording)
        return sizes

    return record
