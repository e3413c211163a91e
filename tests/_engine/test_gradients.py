"""Analytic gradients against central finite differences, on bare arrays."""

import numpy as np
import pytest

from skdeep._engine import HIDDEN_ACTIVATIONS, Network

OUTPUTS = ["identity", "exp", "logistic", "softmax"]


def _targets(output_activation, rng, n_samples, n_outputs):
    if output_activation == "softmax":
        return np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    if output_activation == "logistic":
        return rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    if output_activation == "exp":
        return rng.poisson(2.0, size=(n_samples, n_outputs)).astype(float)
    return rng.normal(size=(n_samples, n_outputs))


def _network(hidden_activation, output_activation, layer_units, seed=0):
    n_hidden = len(layer_units) - 2
    net = Network(layer_units, [hidden_activation] * n_hidden, output_activation)
    net.initialize(np.random.RandomState(seed), hidden_activation)
    # Move biases away from kinks of ReLU so finite differences are smooth.
    net.params[net.n_coef_params :] += 0.1
    return net


def _numerical_gradient(net, X, Y, weights, alpha, eps=1e-6):
    workspace = net.new_workspace(X.shape[0])
    grad = np.empty_like(net.params)
    for i in range(net.params.size):
        saved = net.params[i]
        net.params[i] = saved + eps
        up = net.loss_and_gradient(X, Y, weights, alpha, workspace)
        net.params[i] = saved - eps
        down = net.loss_and_gradient(X, Y, weights, alpha, workspace)
        net.params[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("hidden_activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("output_activation", OUTPUTS)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(
    hidden_activation, output_activation, alpha, weighted
):
    rng = np.random.RandomState(42)
    n_samples, n_outputs = 7, 3
    layer_units = [4, 5, 3, n_outputs]
    X = rng.normal(size=(n_samples, layer_units[0]))
    Y = _targets(output_activation, rng, n_samples, n_outputs)
    weights = rng.uniform(0.5, 2.0, n_samples) if weighted else None
    net = _network(hidden_activation, output_activation, layer_units)

    workspace = net.new_workspace(n_samples)
    net.loss_and_gradient(X, Y, weights, alpha, workspace)
    analytic = net.grad.copy()
    numerical = _numerical_gradient(net, X, Y, weights, alpha)

    np.testing.assert_allclose(analytic, numerical, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("output_activation", OUTPUTS)
def test_gradient_without_hidden_layer(output_activation):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(6, 3))
    Y = _targets(output_activation, rng, 6, 2)
    net = _network("relu", output_activation, [3, 2])
    net.loss_and_gradient(X, Y, None, 0.1, net.new_workspace(6))
    analytic = net.grad.copy()
    np.testing.assert_allclose(
        analytic, _numerical_gradient(net, X, Y, None, 0.1), rtol=1e-5, atol=1e-7
    )


def test_gradient_with_sparse_input_equals_dense():
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(8, 5))
    X[X < 0.3] = 0.0
    Y = _targets("softmax", rng, 8, 3)
    net = _network("tanh", "softmax", [5, 4, 3])
    loss_dense = net.loss_and_gradient(X, Y, None, 0.01, net.new_workspace(8))
    grad_dense = net.grad.copy()
    loss_sparse = net.loss_and_gradient(sp.csr_matrix(X), Y, None, 0.01, net.new_workspace(8))
    assert loss_sparse == pytest.approx(loss_dense)
    np.testing.assert_allclose(net.grad, grad_dense, rtol=1e-12, atol=1e-14)


def test_smaller_final_batch_uses_leading_rows_of_the_workspace():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(10, 4))
    Y = _targets("identity", rng, 10, 1)
    net = _network("relu", "identity", [4, 6, 1])
    big = net.new_workspace(32)
    loss_big = net.loss_and_gradient(X, Y, None, 0.0, big)
    grad_big = net.grad.copy()
    loss_exact = net.loss_and_gradient(X, Y, None, 0.0, net.new_workspace(10))
    assert loss_big == loss_exact
    np.testing.assert_array_equal(net.grad, grad_big)


def test_float32_network_computes_in_float32():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(5, 3)).astype(np.float32)
    Y = _targets("softmax", rng, 5, 3).astype(np.float32)
    net = Network([3, 4, 3], ["relu"], "softmax", dtype=np.float32)
    net.initialize(np.random.RandomState(0), "relu")
    workspace = net.new_workspace(5)
    net.loss_and_gradient(X, Y, None, 1e-4, workspace)
    assert net.params.dtype == net.grad.dtype == np.float32
    assert all(buf.dtype == np.float32 for buf in workspace.activations + workspace.deltas)


def test_layers_are_views_of_one_flat_vector():
    net = Network([3, 4, 2], ["relu"], "identity")
    assert all(np.shares_memory(W, net.params) for W in net.coefs)
    assert all(np.shares_memory(b, net.params) for b in net.intercepts)
    assert net.params.size == 3 * 4 + 4 * 2 + 4 + 2
    net.coefs[1][...] = 7.0
    assert np.count_nonzero(net.params == 7.0) == 8


@pytest.mark.parametrize("hidden_activation", ["relu", "logistic", "gelu"])
def test_dropout_gradient_matches_finite_differences_for_a_fixed_mask(hidden_activation):
    rng = np.random.RandomState(5)
    X = rng.normal(size=(9, 4))
    Y = _targets("softmax", rng, 9, 3)
    net = Network([4, 6, 5, 3], [hidden_activation] * 2, "softmax", dropout=[0.5, 0.2])
    net.initialize(np.random.RandomState(0), hidden_activation)

    def loss_with_fixed_mask():
        # A fresh generator with the same seed draws the same masks.
        workspace = net.new_workspace(9, random_state=np.random.default_rng(7))
        return net.loss_and_gradient(X, Y, None, 0.1, workspace)

    loss_with_fixed_mask()
    analytic = net.grad.copy()
    eps = 1e-6
    numerical = np.empty_like(analytic)
    for i in range(net.params.size):
        saved = net.params[i]
        net.params[i] = saved + eps
        up = loss_with_fixed_mask()
        net.params[i] = saved - eps
        down = loss_with_fixed_mask()
        net.params[i] = saved
        numerical[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(analytic, numerical, rtol=1e-5, atol=1e-7)


def test_dropout_is_inverted_and_absent_at_prediction():
    net = Network([3, 2000, 1], ["identity"], "identity", dropout=[0.3])
    net.params[...] = 1.0
    X = np.ones((1, 3))
    workspace = net.new_workspace(1, random_state=np.random.default_rng(0))
    net.forward(X, workspace)
    dropped = workspace.dropped[0][0]
    kept = dropped != 0
    # Kept units are scaled by 1 / (1 - rate), so the expected output is unchanged.
    assert abs(kept.mean() - 0.7) < 0.05
    np.testing.assert_allclose(dropped[kept], 4.0 / 0.7)
    np.testing.assert_allclose(net.predict_logits(X), [[1.0 + 2000 * 4.0]])


@pytest.mark.parametrize("loss_name", ["huber", "absolute_error"])
def test_robust_regression_losses_gradient(loss_name):
    from skdeep._engine import LOSSES

    rng = np.random.RandomState(2)
    X = rng.normal(size=(8, 3))
    Y = rng.normal(scale=3.0, size=(8, 2))
    loss = LOSSES[loss_name]()
    net = Network([3, 4, 2], ["tanh"], "identity", loss=loss)
    net.initialize(np.random.RandomState(0), "tanh")
    net.loss_and_gradient(X, Y, None, 0.05, net.new_workspace(8))
    analytic = net.grad.copy()
    np.testing.assert_allclose(
        analytic, _numerical_gradient(net, X, Y, None, 0.05), rtol=1e-5, atol=1e-7
    )


@pytest.mark.parametrize("output_activation", ["softmax", "identity"])
def test_embedding_gradient_matches_finite_differences(output_activation):
    from skdeep._engine import EmbeddingLayout

    rng = np.random.RandomState(3)
    n_samples = 12
    # Raw columns: numeric, codes (5 levels incl. unknown 0), numeric, codes (3 levels).
    X = np.column_stack([
        rng.normal(size=n_samples),
        rng.randint(0, 5, n_samples),
        rng.normal(size=n_samples),
        rng.randint(0, 3, n_samples),
    ]).astype(float)
    layout = EmbeddingLayout(4, [1, 3], n_levels=[5, 3], dims=[2, 3])
    Y = _targets(output_activation, rng, n_samples, 3)
    net = Network([layout.n_inputs, 6, 3], ["tanh"], output_activation, embeddings=layout)
    net.initialize(np.random.RandomState(0), "tanh")
    for table in net.tables:
        table[...] = rng.normal(size=table.shape)
    net.loss_and_gradient(X, Y, None, 0.2, net.new_workspace(n_samples))
    analytic = net.grad.copy()
    numerical = _numerical_gradient(net, X, Y, None, 0.2)
    np.testing.assert_allclose(analytic, numerical, rtol=1e-5, atol=1e-7)
    # Rows of codes never used get only the L2 term's gradient.
    unused = np.setdiff1d(np.arange(5), X[:, 1].astype(int))
    if unused.size:
        np.testing.assert_allclose(
            net._grad_tables[0][unused], 0.2 / n_samples * net.tables[0][unused]
        )


def test_embedding_lookup_and_unknown_codes():
    from skdeep._engine import EmbeddingLayout

    layout = EmbeddingLayout(2, [1], n_levels=[3], dims=[2])
    table = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
    X = np.array([[5.0, 2.0], [6.0, 1.0], [7.0, 9.0], [8.0, -1.0]])
    np.testing.assert_array_equal(
        layout.embed(X, [table]), [[5, 3, 4], [6, 1, 2], [7, 0, 0], [8, 0, 0]]
    )


def test_label_smoothing_gradient_matches_finite_differences():
    from skdeep._engine import Dense, make_loss
    from skdeep._engine.network import Sequential

    rng = np.random.RandomState(6)
    X = rng.normal(size=(8, 3))
    Y = np.eye(4, dtype=bool)[rng.randint(4, size=8)]
    net = Sequential([Dense(3, 5, "mish"), Dense(5, 4)], make_loss("log_loss", label_smoothing=0.1))
    net.params[...] = rng.normal(scale=0.5, size=net.params.size)
    net.loss_and_gradient(X, Y, None, 0.0, net.new_workspace(8))
    analytic = net.grad.copy()
    np.testing.assert_allclose(
        analytic, _numerical_gradient(net, X, Y, None, 0.0), rtol=1e-5, atol=1e-7
    )
    # The smoothed loss is the cross-entropy against the soft targets.
    soft = 0.9 * Y + 0.1 / 4
    logits = net.predict_logits(X)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    workspace = net.new_workspace(8)
    assert net.loss_and_gradient(X, Y, None, 0.0, workspace) == pytest.approx(
        -(soft * log_p).sum(axis=1).mean()
    )


@pytest.mark.parametrize("quantile", [0.3, [0.1, 0.5, 0.9]])
@pytest.mark.parametrize("weighted", [False, True])
def test_pinball_loss_gradient_matches_finite_differences(quantile, weighted):
    # One level: identity output; three levels: the cumulative-softplus link,
    # whose chain rule (reverse cumulative sum, sigmoid of each step) is checked.
    from skdeep._engine import make_loss

    rng = np.random.RandomState(7)
    X = rng.normal(size=(9, 3))
    Y = np.repeat(rng.normal(scale=2.0, size=(9, 1)), 3, axis=1)
    weights = rng.uniform(0.5, 2.0, 9) if weighted else None
    loss = make_loss("quantile", quantile=quantile)
    net = Network([3, 5, 3], ["tanh"], loss.output_activation, loss=loss)
    net.initialize(np.random.RandomState(0), "tanh")
    net.params[net.n_coef_params :] += 0.1
    net.loss_and_gradient(X, Y, weights, 0.05, net.new_workspace(9))
    analytic = net.grad.copy()
    np.testing.assert_allclose(
        analytic, _numerical_gradient(net, X, Y, weights, 0.05), rtol=1e-5, atol=1e-7
    )
