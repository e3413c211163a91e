"""Cached arrays of one value: the same results as the scalar bound, bit for bit."""

import threading
import tracemalloc

import numpy as np
import pytest

from skdeep._engine._filled import (
    MAX_FILLED_SIZE,
    MAX_OTHER_SIZE,
    MIN_FILLED_SIZE,
    filled_like,
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum])
@pytest.mark.parametrize("value", [0.0, -0.0, 1.0, 20.0, 0.1])
def test_clipping_against_the_array_is_clipping_against_the_scalar(dtype, ufunc, value):
    special = [-0.0, 0.0, -1.0, 0.5, 1.0, 2.0, 25.0, np.nan, -np.nan, np.inf, -np.inf, 1e-45]
    Z = np.array(special * 200 + list(np.random.RandomState(0).normal(size=1600)), dtype)
    Z = Z.reshape(4, -1)[:, ::2]  # a strided view, as the layers' buffers are
    bound = filled_like(Z, value)
    assert isinstance(bound, np.ndarray)  # 2,000 values: the array, not the scalar
    expected = ufunc(Z, value)
    got = ufunc(Z, bound)
    assert got.dtype == expected.dtype
    assert got.view(f"u{got.itemsize}").tobytes() == expected.view(f"u{got.itemsize}").tobytes()


def test_filled_arrays_are_shared_read_only_views_within_their_caps():
    small, larger = np.empty((3, 500), np.float32), np.empty((7, 700), np.float32)
    first = filled_like(small, 0.0)
    assert first.shape == small.shape and first.dtype == small.dtype and not first.flags.writeable
    assert np.shares_memory(first, filled_like(larger, 0.0))  # the zeros made at import
    assert (filled_like(larger, 1.0) == 1).all()
    assert filled_like(np.empty(MIN_FILLED_SIZE, np.float64), 0.0).dtype == np.float64
    # Below the smallest size the scalar is faster than making the view.
    assert filled_like(np.empty(MIN_FILLED_SIZE - 1, np.float64), 0.0) == 0.0
    huge = np.broadcast_to(np.float32(1), (MAX_FILLED_SIZE + 1,))
    assert filled_like(huge, 0.0) == 0.0  # the scalar: nothing that large is kept
    assert filled_like(np.empty(MAX_OTHER_SIZE + 1, np.float32), 1.0) == 1.0
    assert filled_like(np.empty(4096, np.float16), 0.0) == 0.0  # no zeros of that dtype
    with pytest.raises(ValueError):
        first[0, 0] = 1.0


def test_zeros_cost_no_allocation_when_asked_for():
    Z = np.empty(MAX_FILLED_SIZE, np.float64)
    tracemalloc.start()
    try:
        filled_like(Z, 0.0)
        assert tracemalloc.get_traced_memory()[1] < 100_000
    finally:
        tracemalloc.stop()


def test_filled_arrays_are_safe_to_ask_for_from_several_threads():
    results, errors = [], []

    def ask(size):
        try:
            for n in range(1, 60):
                length = MIN_FILLED_SIZE + size * n
                array = filled_like(np.empty(length, np.float64), 2.5)
                results.append(array.size == length and bool((array == 2.5).all()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(size,)) for size in (97, 1013, 4099)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and all(results)
