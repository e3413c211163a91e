"""Fused output losses: values, stability and gradients, on bare arrays."""

import numpy as np
import pytest
from scipy.special import expit, softmax

from skdeep._engine import LOSSES, loss_for_output


def test_softmax_cross_entropy_of_a_confident_correct_answer():
    # A model that gives the correct class probability 0.78 pays -ln(0.78).
    p = np.array([[0.78, 0.12, 0.10]])
    loss = loss_for_output("softmax")
    assert loss.value(np.log(p), np.array([[1.0, 0.0, 0.0]])) == pytest.approx(-np.log(0.78))


def test_half_squared_error():
    loss = loss_for_output("identity")
    Z = np.array([[1.0], [3.0]])
    Y = np.array([[0.0], [1.0]])
    assert loss.value(Z, Y) == pytest.approx((0.5 * 1 + 0.5 * 4) / 2)


def test_poisson_deviance_is_zero_for_a_perfect_prediction():
    loss = loss_for_output("exp")
    Y = np.array([[0.0], [2.0], [5.0]])
    Z = np.log(np.where(Y > 0, Y, 1e-300))
    assert loss.value(Z, Y) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("output", ["softmax", "logistic"])
def test_losses_stay_finite_for_huge_logits(output):
    loss = loss_for_output(output)
    Z = np.array([[1e4, -1e4, 0.0], [-800.0, 800.0, 3.0]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    delta = np.empty_like(Z)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.value_and_delta(Z, Y, None, delta)
    assert np.isfinite(value) and value > 1000
    assert np.isfinite(delta).all()


def test_log_softmax_is_stable_where_softmax_underflows():
    loss = loss_for_output("softmax")
    Z = np.array([[0.0, 2000.0]])
    log_p = loss.log_predict(Z)
    np.testing.assert_allclose(log_p, [[-2000.0, 0.0]])


@pytest.mark.parametrize("output", ["identity", "exp", "logistic", "softmax"])
@pytest.mark.parametrize("weighted", [False, True])
def test_delta_is_prediction_minus_target_over_total_weight(output, weighted):
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(6, 3))
    Y = np.eye(3)[rng.randint(3, size=6)]
    weights = rng.uniform(0.1, 3.0, 6) if weighted else None
    loss = loss_for_output(output)
    delta = np.empty_like(Z)
    loss.value_and_delta(Z, Y, weights, delta)
    prediction = {
        "identity": Z,
        "exp": np.exp(Z),
        "logistic": expit(Z),
        "softmax": softmax(Z, axis=1),
    }[output]
    scale = np.full(6, 1 / 6) if weights is None else weights / weights.sum()
    np.testing.assert_allclose(delta, (prediction - Y) * scale[:, None], rtol=1e-12)


def test_value_and_delta_agrees_with_value():
    rng = np.random.RandomState(3)
    for name, loss_class in LOSSES.items():
        loss = loss_class()
        Z = rng.normal(size=(5, 2))
        Y = np.abs(rng.normal(size=(5, 2))) if name == "poisson" else np.eye(2)[rng.randint(2, size=5)]
        delta = np.empty_like(Z)
        assert loss.value_and_delta(Z, Y, None, delta) == pytest.approx(loss.value(Z, Y))


def test_zero_weight_batch_contributes_nothing():
    loss = loss_for_output("identity")
    Z, Y = np.ones((3, 1)), np.zeros((3, 1))
    delta = np.empty_like(Z)
    assert loss.value_and_delta(Z, Y, np.zeros(3), delta) == 0.0
    assert not delta.any()


def _pinball(y, q, tau):
    residual = y - q
    return np.where(residual >= 0, tau * residual, (tau - 1) * residual)


def test_pinball_loss_value_is_the_mean_pinball_loss():
    from skdeep._engine import make_loss

    rng = np.random.RandomState(0)
    Z, y = rng.normal(size=(20, 1)), rng.normal(size=(20, 1))
    loss = make_loss("quantile", quantile=0.9)
    assert loss.output_activation == "identity"
    assert loss.value(Z, y) == pytest.approx(_pinball(y, Z, 0.9).mean())
    # Over-predicting by 1 costs 1 - tau; under-predicting by 1 costs tau.
    assert loss.value(np.array([[1.0]]), np.array([[0.0]])) == pytest.approx(0.1)
    assert loss.value(np.array([[-1.0]]), np.array([[0.0]])) == pytest.approx(0.9)


def test_several_quantiles_are_the_cumulative_softplus_of_the_logits():
    from skdeep._engine import inverse_link, make_loss

    levels = [0.1, 0.5, 0.9]
    loss = make_loss("quantile", quantile=levels)
    assert loss.output_activation == "cumulative_softplus"
    Z = np.array([[2.0, -1.0, 3.0], [-5.0, -40.0, 40.0]])
    q = loss.inverse_link(Z.copy())
    softplus = np.logaddexp(0.0, Z[:, 1:])
    np.testing.assert_allclose(q[:, 0], Z[:, 0])
    np.testing.assert_allclose(q[:, 1:], Z[:, :1] + np.cumsum(softplus, axis=1))
    np.testing.assert_allclose(inverse_link("cumulative_softplus", Z.copy()), q)
    y = np.array([[0.5], [1.0]])
    expected = sum(_pinball(y[:, 0], q[:, k], tau) for k, tau in enumerate(levels)).mean()
    assert loss.value(Z, np.repeat(y, 3, axis=1)) == pytest.approx(expected)


def test_predicted_quantiles_never_cross():
    from skdeep._engine import make_loss

    rng = np.random.RandomState(1)
    loss = make_loss("quantile", quantile=[0.05, 0.25, 0.75, 0.95])
    assert (np.diff(loss.inverse_link(rng.normal(size=(500, 4))), axis=1) > 0).all()
    # A step of softplus(-40) underflows against q ~ 50: equal, never crossed.
    extreme = loss.inverse_link(rng.normal(scale=30.0, size=(500, 4)))
    assert (np.diff(extreme, axis=1) >= 0).all()


def test_pinball_delta_without_link_is_indicator_minus_level():
    from skdeep._engine import make_loss

    Z = np.array([[1.0], [-1.0], [2.0], [0.0]])
    Y = np.zeros((4, 1))
    weights = np.array([1.0, 1.0, 2.0, 0.0])
    delta = np.empty_like(Z)
    make_loss("quantile", quantile=0.25).value_and_delta(Z, Y, weights, delta)
    np.testing.assert_allclose(delta[:, 0], [0.75 / 4, -0.25 / 4, 0.75 * 2 / 4, 0.0])


def test_several_levels_need_one_output_each():
    from skdeep._engine import make_loss

    loss = make_loss("quantile", quantile=[0.1, 0.9])
    with pytest.raises(ValueError, match="2 quantile levels need as many outputs, got 3"):
        loss.value(np.zeros((2, 3)), np.zeros((2, 3)))


@pytest.mark.parametrize(
    "quantile, message",
    [
        (0.0, "strictly between 0 and 1"),
        ([0.5, 1.0], r"strictly between 0 and 1, got \[1.0\]"),
        ([0.9, 0.1], "sorted in increasing order"),
        ([0.1, 0.5, 0.5], r"repeated levels \[0.5\]"),
        ([], "empty"),
        ("median", "a number in"),
    ],
)
def test_check_quantiles_names_the_problem(quantile, message):
    from skdeep._engine import check_quantiles

    with pytest.raises(ValueError, match=message):
        check_quantiles(quantile)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clipped_mean_matches_np_clip(dtype):
    # The clipped loss uses two ufuncs instead of np.clip for speed; the
    # clipped values and the mean must be the same, bit for bit, for values
    # below, inside and above the bounds, infinities, and NaN (kept NaN).
    from skdeep._engine.losses import _clipped_mean, _weighted_mean

    eps = np.finfo(dtype).eps
    values = np.array([[-1.0, 0.0, 1e-30, 0.5, 30.0, 80.0, np.inf, -np.inf]], dtype=dtype).T
    weights = np.linspace(0.5, 2.0, len(values)).astype(dtype)
    with_nan = values.copy()
    with_nan[3, 0] = np.nan
    for X in (values, with_nan):
        for w in (None, weights):
            expected = np.clip(X, -np.log1p(-eps), -np.log(eps))
            clipped = X.copy()
            mean = _clipped_mean(clipped, w, eps)
            np.testing.assert_array_equal(clipped, expected)
            np.testing.assert_array_equal(mean, _weighted_mean(expected.sum(axis=1), w))
    assert np.isnan(_clipped_mean(with_nan.copy(), None, eps))


@pytest.mark.parametrize("name, options", [
    ("log_loss", {}), ("log_loss", {"label_smoothing": 0.1}), ("squared_error", {}),
    ("quantile", {"quantile": [0.1, 0.9]}), ("huber", {}),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_member_losses_are_each_members_own_loss(name, options, weighted):
    from skdeep._engine import make_loss

    loss = make_loss(name, **options)
    rng = np.random.RandomState(0)
    n_outputs = 2 if name == "quantile" else 4
    Z = rng.normal(size=(3, 20, n_outputs))
    Y = (np.eye(4, dtype=bool)[rng.randint(4, size=(3, 20))] if name == "log_loss"
         else rng.normal(size=Z.shape))
    weights = rng.uniform(0.5, 2.0, size=(3, 20)) if weighted else None
    if weighted:
        weights[1] = 0.0  # a member whose batch weighs nothing contributes nothing
    together, alone = np.empty_like(Z), np.empty_like(Z)
    losses = loss.member_values_and_deltas(Z, Y, weights, together)
    expected = [loss.value_and_delta(Z[i], Y[i], None if weights is None else weights[i],
                                     alone[i]) for i in range(3)]
    np.testing.assert_allclose(losses, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-15)
