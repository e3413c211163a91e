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
    assert inv.on_epoch_end(0.1, n_samples_seen=99) == pytest.approx(0.01)
    adaptive = make_schedule("adaptive", 0.1)
    assert adaptive.on_plateau(0.1) == (pytest.approx(0.02), False)
    assert adaptive.on_plateau(1e-7)[1] is True
    assert make_schedule("constant", 0.1).on_plateau(0.1) == (0.1, True)
