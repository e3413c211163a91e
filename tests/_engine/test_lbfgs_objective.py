"""SklearnOrderObjective on bare arrays: the function it computes, its
gradient, the vector layout it hands L-BFGS, and which networks it takes.

Bit-identity with scikit-learn's own MLP is checked through the estimators
(``tests/test_fidelity_lbfgs.py``); here the engine stays sklearn-free.
"""

import numpy as np
import pytest

from skdeep._engine import EmbeddingLayout, Network, SklearnOrderObjective, make_loss

OUTPUTS = ["identity", "exp", "logistic", "softmax"]


def _targets(output_activation, rng, n_samples, n_outputs):
    if output_activation == "softmax":
        return np.eye(n_outputs, dtype=bool)[rng.randint(n_outputs, size=n_samples)]
    if output_activation == "logistic":
        return rng.randint(2, size=(n_samples, n_outputs)).astype(bool)
    if output_activation == "exp":
        return rng.poisson(2.0, size=(n_samples, n_outputs)).astype(float)
    return rng.normal(size=(n_samples, n_outputs))


def _problem(output_activation, n_outputs, hidden="tanh", weighted=True, seed=0):
    rng = np.random.RandomState(seed)
    n_samples, layer_units = 9, [4, 5, 3, n_outputs]
    network = Network(layer_units, [hidden, hidden], output_activation)
    network.initialize(rng, hidden)
    X = rng.normal(size=(n_samples, 4))
    Y = _targets(output_activation, rng, n_samples, n_outputs)
    weights = rng.uniform(0.5, 2.0, n_samples) if weighted else None
    return network, X, Y, weights


def _numerical_gradient(objective, flat, eps=1e-6):
    grad = np.empty_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (objective(up)[0] - objective(down)[0]) / (2 * eps)
    return grad


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("output_activation", OUTPUTS)
def test_gradient_is_the_slope_of_the_loss(output_activation, weighted):
    n_outputs = 1 if output_activation == "identity" else 3
    network, X, Y, weights = _problem(output_activation, n_outputs, weighted=weighted)
    objective = SklearnOrderObjective(network, X, Y, weights, alpha=0.3)
    flat = objective.pack(network)
    np.testing.assert_allclose(
        objective(flat)[1], _numerical_gradient(objective, flat), rtol=1e-5, atol=1e-8
    )


def test_several_regression_targets_average_the_loss_but_sum_the_gradient():
    """scikit-learn's pair: the reported loss is the mean over the targets, the
    gradient that of their sum (``n_outputs`` times the loss's slope)."""
    network, X, Y, weights = _problem("identity", 3)
    objective = SklearnOrderObjective(network, X, Y, weights, alpha=0.0)
    flat = objective.pack(network)
    np.testing.assert_allclose(
        objective(flat)[1], 3 * _numerical_gradient(objective, flat), rtol=1e-5, atol=1e-8
    )


@pytest.mark.parametrize("output_activation", OUTPUTS)
def test_same_function_as_the_engine_with_sklearns_loss_definitions(output_activation):
    """Up to rounding, the engine computes the same loss and gradient once its
    loss reports sklearn's values (clipped log-losses, squared error averaged
    over the outputs); only the order of the operations differs."""
    network, X, Y, weights = _problem(output_activation, 3, hidden="relu")
    network.loss.clip_eps = np.finfo(np.float64).eps
    network.loss.mean_over_outputs = True
    objective = SklearnOrderObjective(network, X, Y, weights, alpha=0.3)
    loss, grad = objective(objective.pack(network))
    engine_loss = network.loss_and_gradient(X, Y, weights, 0.3, network.new_workspace(9))
    assert loss == pytest.approx(engine_loss, rel=1e-13)
    repacked = objective.pack(network)  # the same layout for the engine's gradient
    coefs, intercepts = objective.unpack(repacked)
    for target, source in zip(coefs + intercepts,
                              network.layer_views(network.grad)[0]
                              + network.layer_views(network.grad)[1]):
        target[...] = source
    np.testing.assert_allclose(grad, repacked, rtol=1e-12, atol=1e-15)


def test_clipped_log_loss_stops_at_machine_epsilon():
    """A true class predicted with probability below eps costs -log(eps)."""
    network = Network([1, 2], [], "softmax")
    network.coefs[0][...] = [[0.0, 100.0]]
    X, Y = np.ones((1, 1)), np.array([[True, False]])
    objective = SklearnOrderObjective(network, X, Y, None, alpha=0.0)
    loss, grad = objective(objective.pack(network))
    assert loss == pytest.approx(-np.log(np.finfo(np.float64).eps))
    np.testing.assert_allclose(grad[:2], [-1.0, 1.0])  # the gradient is not clipped


def test_vector_is_every_weight_matrix_then_every_bias():
    network, X, Y, weights = _problem("softmax", 3)
    network.params[...] = np.arange(network.params.size)
    objective = SklearnOrderObjective(network, X, Y, weights, alpha=0.0)
    flat = objective.pack(network)
    expected = np.concatenate([W.ravel() for W in network.coefs] + network.intercepts)
    np.testing.assert_array_equal(flat, expected)
    assert flat.dtype == np.float64 and flat.size == network.params.size
    network.params[...] = 0.0
    objective.load(network, flat)
    np.testing.assert_array_equal(objective.pack(network), flat)


def test_float32_network_is_packed_and_computed_in_float32():
    """Nothing is cast: the dtype of the vector SciPy evaluates at decides."""
    rng = np.random.RandomState(0)
    network = Network([4, 5, 2], ["relu"], "softmax", dtype=np.float32)
    network.initialize(rng, "relu")
    X = rng.normal(size=(9, 4)).astype(np.float32)
    Y = _targets("softmax", rng, 9, 2)
    objective = SklearnOrderObjective(network, X, Y, None, alpha=0.1)
    flat = objective.pack(network)
    loss, grad = objective(flat)
    assert flat.dtype == grad.dtype == np.float32
    loss64, grad64 = objective(flat.astype(np.float64))
    assert grad64.dtype == np.float64
    np.testing.assert_allclose(grad, grad64, rtol=1e-4, atol=1e-6)


def test_takes_only_networks_sklearn_can_express():
    assert SklearnOrderObjective.supports(Network([3, 4, 2], ["relu"], "softmax"))
    assert SklearnOrderObjective.supports(Network([3, 1], [], "identity"))
    # skdeep's extensions: another loss, an activation whose derivative needs
    # its input, embeddings, dropout, label smoothing.
    unsupported = [
        Network([3, 4, 1], ["relu"], "identity", loss=make_loss("huber")),
        Network([3, 4, 2], ["gelu"], "softmax"),
        Network([5, 4, 2], ["relu"], "softmax",
                embeddings=EmbeddingLayout(3, [0], n_levels=[4], dims=[3])),
        Network([3, 4, 2], ["relu"], "softmax", dropout=[0.5]),
        Network([3, 4, 2], ["relu"], "softmax", loss=make_loss("log_loss", label_smoothing=0.1)),
    ]
    for network in unsupported:
        assert not SklearnOrderObjective.supports(network)
    with pytest.raises(ValueError, match="dense layers"):
        SklearnOrderObjective(unsupported[0], np.ones((2, 3)), np.ones((2, 1)), None, 0.0)
