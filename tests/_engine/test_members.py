"""Member-stacked layers and the tabular network: gradients, independence, equivalence."""

import numpy as np
import pytest

from skdeep._engine import EmbeddingLayout, Sequential, make_loss, members, quantile_bins
from skdeep._engine.activations import HIDDEN_ACTIVATIONS, get_activation
from skdeep._engine.members import (
    DROPOUT_RESOLUTION,
    MemberDense,
    MemberEmbedding,
    MemberPeriodicEmbedding,
    MemberPiecewiseLinear,
    DropoutNoise,
)
from skdeep._engine.tabular import TabularNetwork

K = 2


def _numerical(net, X, Y, weights, workspace, eps=1e-6):
    def total(params):
        net.params[...] = params
        return net.member_losses_and_gradient(X, Y, weights, workspace).sum()

    theta = net.params.copy()
    grad = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (total(theta + step) - total(theta - step)) / (2 * eps)
    net.params[...] = theta
    return grad


def _check_gradient(layers, X, Y, loss=None, weights=None, seed=0, dropout_seed=None):
    """Analytic gradient of a member network against central differences.

    With ``dropout_seed``, every forward pass draws the same masks.
    """
    net = Sequential(layers, loss or make_loss("squared_error"), n_members=K)
    rng = np.random.RandomState(seed)
    net.params[...] = rng.normal(scale=0.5, size=net.params.size)
    noise = None if dropout_seed is None else DropoutNoise(dropout_seed)
    workspace = net.new_workspace(X.shape[1], noise)
    if noise is not None:
        original = net.member_losses_and_gradient

        def replayed(*args, **kwargs):
            workspace.random_state = workspace_noise(dropout_seed)
            for buffers in workspace.buffers:
                if hasattr(buffers, "random_state") and buffers.random_state is not None:
                    buffers.random_state = workspace.random_state
            return original(*args, **kwargs)

        net.member_losses_and_gradient = replayed
    net.member_losses_and_gradient(X, Y, weights, workspace)
    analytic = net.grad.copy()
    np.testing.assert_allclose(analytic, _numerical(net, X, Y, weights, workspace),
                               rtol=1e-5, atol=1e-7)
    return net


def workspace_noise(seed):
    return DropoutNoise(seed)


def _data(rng, n, n_inputs, n_outputs=2):
    return rng.normal(size=(K, n, n_inputs)), rng.normal(size=(K, n, n_outputs))


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("parametric", [False, True])
def test_dense_block_gradient(activation, parametric):
    rng = np.random.RandomState(1)
    X, Y = _data(rng, 7, 4)
    # Two hidden blocks, so the first one's input gradient is checked too.
    layers = [MemberDense(K, 4, 5, activation, parametric=parametric),
              MemberDense(K, 5, 3, activation, parametric=parametric), MemberDense(K, 3, 2)]
    _check_gradient(layers, X, Y, seed=1)


def test_dense_block_gradient_with_dropout_and_weights():
    rng = np.random.RandomState(2)
    X, Y = _data(rng, 9, 4)
    weights = rng.uniform(0.5, 2.0, size=(K, 9))
    layers = [MemberDense(K, 4, 6, "selu", dropout=0.3), MemberDense(K, 6, 5, "mish", dropout=0.5),
              MemberDense(K, 5, 2)]
    _check_gradient(layers, X, Y, weights=weights, dropout_seed=3)


def test_dense_block_with_input_scales_gradient():
    rng = np.random.RandomState(3)
    X, Y = _data(rng, 8, 5)
    # A layer in front needs the input gradient of every column (the
    # embedding test checks a layer that needs some of them).
    layers = [MemberDense(K, 5, 5), MemberDense(K, 5, 4, "selu", dropout=0.2, input_scale_lr=6.0),
              MemberDense(K, 4, 2)]
    _check_gradient(layers, X, Y, dropout_seed=4)


def test_periodic_gradient():
    rng = np.random.RandomState(5)
    X, Y = _data(rng, 6, 5)
    # The embedding's input gradient is needed when a layer comes before it.
    layers = [MemberDense(K, 5, 5),
              MemberPeriodicEmbedding(K, 5, n_numeric=3, n_frequencies=4, n_features=2),
              MemberDense(K, 5 + 3 * 2, 4, "selu", input_scale_lr=6.0), MemberDense(K, 4, 2)]
    _check_gradient(layers, X, Y)


@pytest.mark.parametrize("n_features", [None, 2])
def test_piecewise_linear_gradient(n_features):
    rng = np.random.RandomState(5)
    X, Y = _data(rng, 9, 4)
    # Bins from other rows, so that no value sits exactly on an edge (a kink).
    lower, inverse_width = quantile_bins(rng.normal(size=(50, 3)), 4)
    encoding = MemberPiecewiseLinear(K, 4, lower, inverse_width, n_features=n_features)
    layers = [MemberDense(K, 4, 4), encoding, MemberDense(K, encoding.n_outputs, 5, "mish"),
              MemberDense(K, 5, 2)]
    _check_gradient(layers, X, Y)


def test_embedding_gradient_and_unknown_codes():
    rng = np.random.RandomState(6)
    layout = EmbeddingLayout(4, [2, 3], n_levels=[4, 3], dims=[2, 3])
    codes = rng.randint(-1, 5, size=(K, 8, 2)).astype(float)  # -1 and 4: unknown
    X = np.concatenate([rng.normal(size=(K, 8, 2)), codes], axis=2)
    Y = rng.normal(size=(K, 8, 2))
    layers = [MemberEmbedding(K, layout),
              MemberDense(K, layout.n_inputs, 3, "tanh", input_scale_lr=6.0), MemberDense(K, 3, 2)]
    net = _check_gradient(layers, X, Y)
    # An unknown code reads row 0 of its member's table.
    embedded = net.layers[0].predict(X)
    tables = net.layers[0].tables
    unknown = np.argwhere(codes[..., 1] >= 3)
    for member, row in unknown:
        np.testing.assert_array_equal(embedded[member, row, 4:], tables[1][member, 0])


def test_tabular_network_gradient_with_every_layer():
    rng = np.random.RandomState(7)
    layout = EmbeddingLayout(5, [3, 4], [4, 3], [2, 2])
    X = np.concatenate([rng.normal(size=(K, 7, 3)), rng.randint(0, 4, size=(K, 7, 1)),
                        rng.randint(0, 3, size=(K, 7, 1))], axis=2).astype(float)
    lower, inverse_width = quantile_bins(rng.normal(size=(50, 3)), 4)
    for loss in (make_loss("log_loss", label_smoothing=0.1),
                 make_loss("quantile", quantile=[0.2, 0.5, 0.8])):
        net = TabularNetwork(K, 5, layout, [6, 5], "mish", 3, loss, np.float64, n_periodic=3,
                             bins=(lower, inverse_width), bin_features=2)
        net.params[...] = rng.normal(scale=0.5, size=net.params.size)
        if loss.output_activation == "softmax":
            Y = np.eye(3, dtype=bool)[rng.randint(3, size=(K, 7))]
        else:
            # Far from the predictions: no residual near the pinball loss's kink.
            Y = np.repeat(10.0 + rng.normal(size=(K, 7, 1)), 3, axis=2)
        workspace = net.new_workspace(7)
        net.member_losses_and_gradient(X, Y, None, workspace)
        analytic = net.grad.copy()
        np.testing.assert_allclose(analytic, _numerical(net, X, Y, None, workspace),
                                   rtol=1e-5, atol=1e-7)


def test_a_batch_smaller_than_its_buffers_gets_the_gradient_of_its_own_size(monkeypatch):
    # The last batch of an epoch is shorter: every buffer (the bins spelled
    # out per row among them) is then read for its first rows only.
    rng = np.random.RandomState(9)
    net = _tabular(K)
    net.params[...] = rng.normal(scale=0.5, size=net.params.size)
    X, Y = rng.normal(size=(K, 7, 4)), rng.normal(size=(K, 7, 2))
    losses = net.member_losses_and_gradient(X, Y, None, net.new_workspace(7))
    exact = net.grad.copy()
    larger = net.member_losses_and_gradient(X, Y, None, net.new_workspace(12))
    np.testing.assert_array_equal(larger, losses)
    np.testing.assert_array_equal(net.grad, exact)
    # Past the cap, the bins broadcast instead of being copied per row: same values.
    monkeypatch.setattr(members, "_MAX_ROWS_OF_SIZE", 0)
    broadcast = net.member_losses_and_gradient(X, Y, None, net.new_workspace(12))
    np.testing.assert_array_equal(broadcast, losses)
    np.testing.assert_array_equal(net.grad, exact)


def _tabular(k, dropout=0.0, seed=0):
    rng = np.random.RandomState(seed)
    lower, inverse_width = quantile_bins(rng.normal(size=(80, 3)), 8)
    return TabularNetwork(k, 4, None, [8, 6], "selu", 2, make_loss("squared_error"),
                          np.float64, dropout=dropout, n_periodic=3,
                          bins=(lower, inverse_width), bin_features=2)


def test_members_are_the_networks_they_would_be_alone():
    rng = np.random.RandomState(8)
    X = rng.normal(size=(3, 30, 4))
    Y = rng.normal(size=(3, 30, 2))
    stacked = _tabular(3)
    stacked.initialize([np.random.RandomState(s) for s in (10, 11, 12)], X)
    stacked.member_losses_and_gradient(X, Y, None, stacked.new_workspace(30))
    for member, seed in enumerate((10, 11, 12)):
        alone = _tabular(1)
        alone.initialize([np.random.RandomState(seed)], X[member : member + 1])
        index = stacked.member_indices(member)
        np.testing.assert_array_equal(alone.params, stacked.params[index])
        alone.member_losses_and_gradient(X[member : member + 1], Y[member : member + 1], None,
                                         alone.new_workspace(30))
        np.testing.assert_allclose(alone.grad, stacked.grad[index], rtol=1e-12, atol=1e-14)


def test_one_member_does_not_change_another():
    rng = np.random.RandomState(9)
    X, Y = rng.normal(size=(2, 20, 4)), rng.normal(size=(2, 20, 2))
    net = _tabular(2, dropout=0.2)
    net.initialize([np.random.RandomState(1), np.random.RandomState(2)], X)
    workspace = net.new_workspace(20, DropoutNoise(0))
    net.member_losses_and_gradient(X, Y, None, workspace)
    before = net.grad[net.member_indices(1)].copy()
    net.params[net.member_indices(0)] = np.nan
    losses = net.member_losses_and_gradient(X, Y, None, net.new_workspace(20, DropoutNoise(0)))
    assert np.isnan(losses[0]) and np.isfinite(losses[1])
    np.testing.assert_array_equal(net.grad[net.member_indices(1)], before)


def test_dropout_keeps_units_at_the_resolved_rate_and_rescales():
    layer = MemberDense(2, 3, 400, "relu", dropout=0.15)
    net = Sequential([layer], make_loss("squared_error"), n_members=2)
    net.params[...] = 0.0
    layer.intercept[...] = 1.0
    workspace = net.new_workspace(500, DropoutNoise(0))
    out = net.forward(np.zeros((2, 500, 3)), workspace)
    keep = 1 - round(0.15 * DROPOUT_RESOLUTION) / DROPOUT_RESOLUTION
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / keep])
    assert np.mean(out > 0) == pytest.approx(keep, abs=0.005)
    # Each member and row draws its own mask.
    assert not np.array_equal(out[0], out[1])


def test_parametric_activation_spans_identity_to_the_activation():
    layer = MemberDense(1, 3, 3, "selu", parametric=True)
    net = Sequential([layer], make_loss("squared_error"), n_members=1)
    layer.coef[0] = np.eye(3)
    layer.strength[0] = [1.0, 0.0, 0.5]
    Z = np.linspace(-2, 2, 12).reshape(1, 4, 3)
    selu = get_activation("selu").forward(Z[0].copy())
    out = net.predict_logits(Z)[0]
    np.testing.assert_allclose(out[:, 0], selu[:, 0])
    np.testing.assert_allclose(out[:, 1], Z[0, :, 1])
    np.testing.assert_allclose(out[:, 2], 0.5 * (Z[0, :, 2] + selu[:, 2]))


def test_piecewise_linear_values():
    # A column of three distinct values gets two bins; its other two are unused.
    Z = np.array([[0.0, -1.0], [1.0, 0.0], [2.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    lower, inverse_width = quantile_bins(Z, 4)
    np.testing.assert_array_equal(lower[0], [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(inverse_width[0], [1.0, 1.0, 0.0, 0.0])
    layer = MemberPiecewiseLinear(1, 2, lower, inverse_width)
    out = layer.predict(np.array([[[0.5, 10.0], [2.0, -5.0]]]))[0]
    np.testing.assert_array_equal(out[:, :2], [[0.5, 10.0], [2.0, -5.0]])
    # Below, inside and above each bin: 0, the position, 1; unused bins 0.
    np.testing.assert_allclose(out[:, 2:6], [[0.5, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    np.testing.assert_allclose(out[:, 6:], [[1, 1, 1, 1], [0, 0, 0, 0]])


def test_predictions_do_not_depend_on_chunking():
    rng = np.random.RandomState(10)
    X = rng.normal(size=(2, 50, 4))
    net = _tabular(2)
    net.initialize([np.random.RandomState(1), np.random.RandomState(2)], X)
    whole = net.predict_logits(X)
    np.testing.assert_allclose(net.predict_logits(X, max_rows=7), whole, rtol=1e-12)
    shared = np.broadcast_to(X[0], (2, 50, 4))
    np.testing.assert_allclose(net.predict_logits(shared)[1], net.predict_logits(
        np.stack([X[1], X[0]]))[1], rtol=1e-12)


@pytest.mark.parametrize("n_rows", [7, 64, 65])
def test_dropout_masks_do_not_depend_on_how_a_batch_is_split(n_rows):
    one, two, three = DropoutNoise(5), DropoutNoise(5), DropoutNoise(5)
    half = n_rows // 2
    for step in range(4):
        whole = one.bits(3, n_rows, 10).copy()
        first_part, second_part = (two, three) if step % 2 else (three, two)
        if step < 2:  # two threads take the rows' halves, in turns ...
            first_part.set_part(0, 3, 0, n_rows)
            second_part.set_part(0, 3, half, n_rows)
            parts = (first_part.bits(3, half, 10).copy(),
                     second_part.bits(3, n_rows - half, 10).copy())
            np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)
        else:  # ... or some of the members each.
            first_part.set_part(0, 3, 0, n_rows)
            second_part.set_part(1, 3, 0, n_rows)
            parts = (first_part.bits(1, n_rows, 10).copy(),
                     second_part.bits(2, n_rows, 10).copy())
            np.testing.assert_array_equal(np.concatenate(parts, axis=0), whole)
