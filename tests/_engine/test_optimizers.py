"""Update rules on bare arrays (no estimator involved)."""

import numpy as np
import pytest

from skdeep._engine import SGD, Adam, make_schedule


def test_plain_sgd_step_is_learning_rate_times_gradient():
    params = np.array([1.0, -2.0])
    SGD(2, np.float64, learning_rate=0.1, momentum=0.0, nesterov=False).step(
        params, np.array([1.0, 1.0])
    )
    np.testing.assert_allclose(params, [0.9, -2.1])


def test_momentum_accumulates_velocity():
    opt = SGD(1, np.float64, learning_rate=0.1, momentum=0.5, nesterov=False)
    params = np.zeros(1)
    for _ in range(2):
        opt.step(params, np.ones(1))
    # v1 = -0.1, v2 = 0.5 * -0.1 - 0.1 = -0.15
    np.testing.assert_allclose(params, [-0.25])


def test_nesterov_looks_ahead():
    opt = SGD(1, np.float64, learning_rate=0.1, momentum=0.5, nesterov=True)
    params = np.zeros(1)
    opt.step(params, np.ones(1))
    # v = -0.1; update = 0.5 * v - 0.1 = -0.15
    np.testing.assert_allclose(params, [-0.15])


def test_first_adam_step_moves_each_parameter_by_the_learning_rate():
    # With bias correction, the first step is lr * g / (|g| + eps) ~ lr * sign(g).
    params = np.zeros(3)
    Adam(3, np.float64, learning_rate=0.01).step(params, np.array([5.0, -0.2, 0.5]))
    np.testing.assert_allclose(params, [-0.01, 0.01, -0.01], rtol=1e-4)


@pytest.mark.parametrize("make", [
    lambda: SGD(4, np.float64, learning_rate=0.1),
    lambda: Adam(4, np.float64, learning_rate=0.1),
])
def test_optimizers_minimise_a_quadratic(make):
    target = np.array([1.0, -2.0, 3.0, 0.5])
    params = np.zeros(4)
    opt = make()
    for _ in range(500):
        opt.step(params, params - target)
    np.testing.assert_allclose(params, target, atol=1e-3)


@pytest.mark.parametrize("Optimizer", [SGD, Adam])
def test_state_round_trip_continues_identically(Optimizer):
    rng = np.random.RandomState(0)
    grads = rng.normal(size=(6, 5))
    a, b = Optimizer(5, np.float64, learning_rate=0.05), Optimizer(5, np.float64, learning_rate=0.05)
    pa, pb = np.ones(5), np.ones(5)
    for g in grads[:3]:
        a.step(pa, g)
    b.load_state_dict(a.state_dict())
    pb[...] = pa
    for g in grads[3:]:
        a.step(pa, g)
        b.step(pb, g)
    np.testing.assert_array_equal(pa, pb)


def test_schedules_follow_sklearn():
    inv = make_schedule("invscaling", 0.1, power_t=0.5)
    assert inv.on_epoch_end(0.1, n_samples_seen=99, epochs_done=1) == pytest.approx(0.01)
    adaptive = make_schedule("adaptive", 0.1)
    assert adaptive.on_plateau(0.1) == (pytest.approx(0.02), False)
    assert adaptive.on_plateau(1e-7)[1] is True
    assert make_schedule("constant", 0.1).on_plateau(0.1) == (0.1, True)


def test_cosine_schedule_with_warmup():
    cosine = make_schedule("cosine", 0.1, n_epochs=12, warmup=2)
    rates = [cosine.rate_at(epoch) for epoch in range(12)]
    np.testing.assert_allclose(rates[:3], [0.1 / 3, 0.2 / 3, 0.1])
    assert all(a > b for a, b in zip(rates[2:], rates[3:]))
    assert cosine.rate_at(12) == pytest.approx(0.0, abs=1e-12)
    assert cosine.start(0.5, epochs_done=2) == pytest.approx(0.1)


def test_coslog_cycle_ends_are_the_epochs_where_the_rate_restarts():
    coslog = make_schedule("coslog", 0.1, n_epochs=20)
    assert coslog.cycle_ends() == ((4, 2), (10, 3))
    n_batches = 50
    rates = [rate for epoch in range(20) for rate in coslog.batch_rates(epoch, n_batches)]
    for epoch, falling in coslog.cycle_ends():
        # The rate reaches its lowest in the end epoch (or as the next one
        # starts) and rises again...
        inside = rates[(epoch - 1) * n_batches : epoch * n_batches + 1]
        assert min(inside) < 1e-3 * 0.1
        assert rates[epoch * n_batches + 1] > min(inside)
        # ... after falling through the epochs counted as the falling half.
        lowest = (epoch - 1) * n_batches + inside.index(min(inside))
        falling_rates = rates[(epoch - falling) * n_batches : lowest + 1]
        peak = falling_rates.index(max(falling_rates))
        assert peak < n_batches and falling_rates[peak:] == sorted(falling_rates[peak:],
                                                                   reverse=True)
    # The last cycle ends with the run, and one epoch leaves nothing to compare with.
    assert all(epoch < 20 for epoch, _ in coslog.cycle_ends())
    assert make_schedule("coslog", 0.1, n_epochs=4).cycle_ends() == ()
    for name in ("constant", "adaptive", "invscaling", "cosine", "step"):
        assert make_schedule(name, 0.1).cycle_ends() == ()


def test_step_schedule_halves_every_step_size_epochs():
    step = make_schedule("step", 0.1, step_size=3, gamma=0.5)
    assert [step.rate_at(e) for e in (0, 2, 3, 6)] == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_adamw_decays_weights_not_biases():
    from skdeep._engine import AdamW

    params = np.ones(4)
    AdamW(4, np.float64, learning_rate=0.1, weight_decay=0.5, n_decayed=2).step(params, np.zeros(4))
    np.testing.assert_allclose(params, [0.95, 0.95, 1.0, 1.0])


def test_adamw_decays_chunk_by_chunk_as_the_whole_vector_would():
    """The decay runs inside the chunks: any slice of whole chunks, same bits."""
    from skdeep._engine import Adam, AdamW

    rng = np.random.RandomState(0)
    n, n_decayed, lr, decay = 30, 19, 0.01, 0.3
    grads = rng.normal(size=(3, n))
    reference = rng.normal(size=n)
    start = reference.copy()
    # The same chunks: BLAS's axpy rounds a vector's tail differently.
    adam = Adam(n, np.float64, learning_rate=lr, chunk_size=8)
    for grad in grads:
        reference[:n_decayed] *= 1.0 - lr * decay
        adam.step(reference, grad)
    for slices in ([(0, 30)], [(0, 16), (16, 30)], [(0, 8), (8, 24), (24, 30)]):
        params = start.copy()
        adamw = AdamW(n, np.float64, learning_rate=lr, weight_decay=decay, n_decayed=n_decayed,
                      chunk_size=8)
        for grad in grads:
            adamw.begin_step()
            for first, stop in slices:
                adamw.update(params, grad, first, stop)
        np.testing.assert_array_equal(params, reference)


def test_rmsprop_first_step():
    from skdeep._engine import RMSprop

    params = np.zeros(2)
    RMSprop(2, np.float64, learning_rate=0.01, rho=0.9).step(params, np.array([2.0, -2.0]))
    # v = 0.1 * 4 = 0.4, step = 0.01 * 2 / sqrt(0.4)
    np.testing.assert_allclose(params, [-0.01 * 2 / np.sqrt(0.4), 0.01 * 2 / np.sqrt(0.4)])


def test_clip_by_global_norm():
    from skdeep._engine import clip_by_global_norm

    grad = np.array([3.0, 4.0])
    assert clip_by_global_norm(grad, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(grad, [0.6, 0.8])
    small = np.array([0.3, 0.4])
    clip_by_global_norm(small, 1.0)
    np.testing.assert_allclose(small, [0.3, 0.4])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 8192, 8193, 50_000])
def test_axpy_is_exact_and_never_hands_blas_a_threaded_size(axpy_sizes, dtype, n):
    # SciPy's OpenBLAS threads axpy above 10,000 elements, and its thread pool
    # then fights NumPy's for the cores: every call must stay below that.
    from skdeep._engine import _linalg

    sizes = axpy_sizes(dtype)
    rng = np.random.default_rng(0)
    x = rng.normal(size=n).astype(dtype)
    y = rng.normal(size=n).astype(dtype)
    expected = y + dtype(0.5) * x
    out = _linalg.axpy(0.5, x, y)
    assert out is y
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    assert sum(sizes) == n
    assert max(sizes) <= 10_000
