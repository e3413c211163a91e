"""The layer stack: parameters, forward pass and backpropagation.

All weights and biases of a network live in one flat array, ``params``; each
layer's weight matrix and bias vector are views into it, laid out as
``[W_0, W_1, ..., W_L, b_0, b_1, ..., b_L]``. The gradient is a second flat
array with the same layout. An optimizer step is therefore a handful of
vectorised operations on two vectors, L-BFGS gets its vector without packing,
and saving the best weights is one copy. Because all weights come first, the
L2 penalty touches one contiguous slice.
"""

import numpy as np
import scipy.sparse as sp

from ._linalg import axpy
from .activations import ACTIVATIONS, DERIVATIVES, NEEDS_PREACTIVATION
from .initializers import init_bound, init_layer
from .losses import loss_for_output

__all__ = ["Network", "Workspace", "forward_logits"]


def _matmul(A, W, out):
    """``out[...] = A @ W`` for dense or sparse ``A``, without a temporary."""
    if sp.issparse(A):
        out[...] = A @ W
    else:
        np.matmul(A, W, out=out)


def _matmul_transposed(A, delta, out):
    """``out[...] = A.T @ delta``; the transpose is a view, not a copy."""
    if sp.issparse(A):
        out[...] = A.T @ delta
    else:
        np.matmul(A.T, delta, out=out)


def forward_logits(X, coefs, intercepts, hidden_activations):
    """Forward pass through explicit lists of weights: the logits.

    Used for prediction, so that the weights a user assigns to a fitted
    estimator's ``coefs_`` and ``intercepts_`` are the ones applied.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Input rows.
    coefs : list of ndarray
        Weight matrix of each layer, ``(fan_in, fan_out)``.
    intercepts : list of ndarray
        Bias vector of each layer, ``(fan_out,)``.
    hidden_activations : sequence of str
        Activation of each hidden layer (``len(coefs) - 1`` names).

    Returns
    -------
    logits : ndarray of shape (n_samples, n_outputs)
        Pre-activations of the output layer.
    """
    last = len(coefs) - 1
    A = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = A @ W
        Z += b
        if i < last:
            ACTIVATIONS[hidden_activations[i]](Z)
        A = Z
    return np.asarray(A)


class Workspace:
    """Per-layer buffers for one batch size, allocated once per fit.

    Every layer has an output buffer (activations; logits for the last layer)
    and a delta buffer. Layers whose activation derivative needs the
    pre-activation keep a copy of it; layers with dropout keep their mask and
    their dropped-out output (the next layer's input). A smaller final batch
    uses the leading rows, which are still contiguous.

    Parameters
    ----------
    network : Network
        The network the buffers are for.
    batch_size : int
        Largest number of rows processed at once.
    random_state : numpy.random.Generator or None, default=None
        Source of dropout masks. Without it the forward pass is
        deterministic (no dropout), as at prediction time.
    """

    def __init__(self, network, batch_size, random_state=None):
        dtype = network.dtype
        units = network.layer_units[1:]
        self.batch_size = batch_size
        self.random_state = random_state
        self.activations = [np.empty((batch_size, u), dtype) for u in units]
        self.deltas = [np.empty((batch_size, u), dtype) for u in units]
        self.ones = np.ones(batch_size, dtype)
        self.embedded = (
            None
            if network.embeddings is None
            else np.empty((batch_size, network.layer_units[0]), dtype)
        )
        hidden = list(zip(units[:-1], network.hidden_activations, network.dropout))
        self.preactivations = [
            np.empty((batch_size, u), dtype) if act in NEEDS_PREACTIVATION else None
            for u, act, _ in hidden
        ]
        use_dropout = random_state is not None
        self.masks = [
            np.empty((batch_size, u), dtype) if use_dropout and rate > 0 else None
            for u, _, rate in hidden
        ]
        self.dropped = [None if mask is None else np.empty_like(mask) for mask in self.masks]


class Network:
    """A fully connected feed-forward network with a fused output loss.

    Parameters
    ----------
    layer_units : sequence of int
        Width of every layer: ``[n_features, *hidden_layer_sizes, n_outputs]``.
    hidden_activations : sequence of str
        Activation of each hidden layer, a key of ``ACTIVATIONS``.
    output_activation : {"identity", "exp", "logistic", "softmax"}
        Output activation; it selects the fused loss.
    dtype : numpy dtype, default=np.float64
        Dtype of parameters, gradients and buffers.
    dropout : sequence of float, default=None
        Dropout rate of each hidden layer (inverted dropout: kept units are
        scaled by ``1 / (1 - rate)`` during training, nothing changes at
        prediction). Applied only by workspaces that have a random state.
    loss : fused loss object, default=None
        Loss to train with; by default the canonical loss of
        ``output_activation``. A loss must use ``output_activation`` as its
        inverse link.

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        All weights, then all biases.
    grad : ndarray of shape (n_params,)
        Gradient buffer with the layout of ``params``.
    coefs, intercepts : list of ndarray
        Per-layer views into ``params``.
    loss : fused loss object
    """

    def __init__(
        self,
        layer_units,
        hidden_activations,
        output_activation,
        dtype=np.float64,
        dropout=None,
        loss=None,
        embeddings=None,
    ):
        self.layer_units = [int(u) for u in layer_units]
        self.embeddings = embeddings
        if embeddings is not None and embeddings.n_inputs != self.layer_units[0]:
            raise ValueError(
                f"The embedded input has {embeddings.n_inputs} columns but the first "
                f"layer expects {self.layer_units[0]}."
            )
        n_hidden = len(self.layer_units) - 2
        self.hidden_activations = list(hidden_activations)
        if len(self.hidden_activations) != n_hidden:
            raise ValueError(
                f"Need one activation per hidden layer: got "
                f"{len(self.hidden_activations)} for {n_hidden} layers."
            )
        self.dropout = [0.0] * n_hidden if dropout is None else [float(r) for r in dropout]
        if len(self.dropout) != n_hidden or not all(0 <= r < 1 for r in self.dropout):
            raise ValueError(
                f"Need one dropout rate in [0, 1) per hidden layer, got {dropout!r}."
            )
        self.output_activation = output_activation
        self.loss = loss_for_output(output_activation) if loss is None else loss
        self.dtype = np.dtype(dtype)
        shapes = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        self.coef_shapes = shapes
        self.n_coef_params = sum(fan_in * fan_out for fan_in, fan_out in shapes)
        table_shapes = [] if embeddings is None else embeddings.table_shapes
        n_table_params = sum(rows * cols for rows, cols in table_shapes)
        # Weights and embedding tables come first: the L2 penalty and weight
        # decay cover this contiguous region, never the biases.
        self.n_penalized_params = self.n_coef_params + n_table_params
        n_params = self.n_penalized_params + sum(self.layer_units[1:])
        self.params = np.zeros(n_params, dtype=self.dtype)
        self.grad = np.zeros(n_params, dtype=self.dtype)
        self.coefs, self.intercepts = self.layer_views(self.params)
        self._grad_coefs, self._grad_intercepts = self.layer_views(self.grad)
        self.tables = self._table_views(self.params, table_shapes)
        self._grad_tables = self._table_views(self.grad, table_shapes)

    def _table_views(self, flat, table_shapes):
        tables, start = [], self.n_coef_params
        for rows, cols in table_shapes:
            tables.append(flat[start : start + rows * cols].reshape(rows, cols))
            start += rows * cols
        return tables

    @property
    def n_layers(self):
        """Number of layers including input and output (sklearn's ``n_layers_``)."""
        return len(self.layer_units)

    def layer_views(self, flat):
        """Split a flat vector laid out like ``params`` into per-layer views."""
        coefs, intercepts = [], []
        start = 0
        for fan_in, fan_out in self.coef_shapes:
            stop = start + fan_in * fan_out
            coefs.append(flat[start:stop].reshape(fan_in, fan_out))
            start = stop
        start = self.n_penalized_params
        for _, fan_out in self.coef_shapes:
            intercepts.append(flat[start : start + fan_out])
            start += fan_out
        return coefs, intercepts

    def initialize(self, random_state, activation_for_init, method="glorot"):
        """Draw starting weights layer by layer.

        Parameters
        ----------
        random_state : numpy.random.RandomState
            Source of randomness.
        activation_for_init : str
            Hidden activation name that selects the Glorot factor (sklearn's
            rule: 2 for logistic, 6 otherwise).
        method : {"glorot", "he", "lecun"}, default="glorot"
            Initialiser, see ``initializers.INITIALIZERS``.
        """
        for (fan_in, fan_out), W, b in zip(self.coef_shapes, self.coefs, self.intercepts):
            bound = init_bound(method, fan_in, fan_out, activation_for_init)
            init_layer(random_state, fan_in, fan_out, bound, W, b)
        # Tables are drawn last, so dense layers start as without embeddings.
        # Row 0 (unknown or missing) starts at zero: an unseen category adds
        # nothing to the first layer until training data teaches it a value.
        for table in self.tables:
            table[...] = random_state.uniform(-0.05, 0.05, table.shape)
            table[0] = 0.0

    def zero_unseen_embeddings(self, X):
        """Zero the table rows of categories that no row of ``X`` uses.

        Such rows (row 0, and categories declared but absent from the
        training data) get no gradient from ``X``: at zero they behave
        exactly like the unknown category, instead of like a random vector.
        """
        if self.embeddings is None:
            return
        for j, table in enumerate(self.tables):
            used = np.zeros(table.shape[0], dtype=bool)
            used[self.embeddings.codes(X, j)] = True
            used[0] = False
            table[~used] = 0.0

    def load(self, coefs, intercepts, tables=()):
        """Copy per-layer weights, biases and embedding tables into ``params``.

        Raises
        ------
        ValueError
            If the shapes do not match the network's layers.
        """
        if len(coefs) != len(self.coefs) or len(intercepts) != len(self.intercepts):
            raise ValueError(
                f"Expected {len(self.coefs)} layers of weights, got {len(coefs)}."
            )
        if len(tables) != len(self.tables):
            raise ValueError(
                f"Expected {len(self.tables)} embedding tables, got {len(tables)}."
            )
        targets = self.coefs + self.intercepts + self.tables
        for target, source in zip(targets, [*coefs, *intercepts, *tables]):
            source = np.asarray(source)
            if source.shape != target.shape:
                raise ValueError(
                    f"Weight shape {source.shape} does not match the layer shape "
                    f"{target.shape}."
                )
            target[...] = source

    def new_workspace(self, batch_size, random_state=None):
        """Buffers for batches of up to ``batch_size`` rows.

        Pass a ``numpy.random.Generator`` to train with dropout.
        """
        return Workspace(self, batch_size, random_state)

    def forward(self, X, workspace):
        """Forward pass into the workspace buffers; returns the logits view."""
        n_samples = X.shape[0]
        last = len(self.coefs) - 1
        A = self._first_input(X, workspace, n_samples)
        for i, (W, b) in enumerate(zip(self.coefs, self.intercepts)):
            Z = workspace.activations[i][:n_samples]
            _matmul(A, W, out=Z)
            Z += b
            if i < last:
                A = self._activate(i, Z, workspace, n_samples)
        return Z

    def _activate(self, i, Z, workspace, n_samples):
        """Hidden activation of layer ``i`` in place, then dropout if training."""
        if workspace.preactivations[i] is not None:
            np.copyto(workspace.preactivations[i][:n_samples], Z)
        ACTIVATIONS[self.hidden_activations[i]](Z)
        mask = workspace.masks[i]
        if mask is None:
            return Z
        mask = mask[:n_samples]
        keep = 1.0 - self.dropout[i]
        uniform = workspace.random_state.random(Z.shape, dtype=Z.dtype)
        np.multiply(uniform < keep, Z.dtype.type(1.0 / keep), out=mask)
        return np.multiply(Z, mask, out=workspace.dropped[i][:n_samples])

    def _first_input(self, X, workspace, n_samples):
        """The first layer's input: X itself, or X with its codes embedded."""
        if self.embeddings is None:
            return X
        return self.embeddings.embed(X, self.tables, out=workspace.embedded)

    def _layer_input(self, i, X, workspace, n_samples):
        """What layer ``i`` received in the forward pass."""
        if i == 0:
            return X if self.embeddings is None else workspace.embedded[:n_samples]
        dropped = workspace.dropped[i - 1]
        source = workspace.activations[i - 1] if dropped is None else dropped
        return source[:n_samples]

    def loss_and_gradient(self, X, Y, weights, alpha, workspace):
        """Loss of a batch and its gradient (into ``self.grad``).

        Parameters
        ----------
        X : {ndarray, sparse CSR matrix} of shape (n_samples, n_features)
            Batch inputs in the network's dtype.
        Y : ndarray of shape (n_samples, n_outputs)
            Batch targets in the network's dtype.
        weights : ndarray of shape (n_samples,) or None
            Sample weights of the batch.
        alpha : float
            L2 penalty. As in sklearn, ``alpha / 2 * ||W||**2`` is divided by
            the batch's total sample weight and added to the mean loss.
        workspace : Workspace
            Buffers for at least ``n_samples`` rows.

        Returns
        -------
        loss : float
            Mean loss plus the scaled L2 penalty.
        """
        n_samples = X.shape[0]
        logits = self.forward(X, workspace)
        delta = workspace.deltas[-1][:n_samples]
        loss = self.loss.value_and_delta(logits, Y, weights, delta)
        self._backpropagate(X, delta, workspace)
        total_weight = n_samples if weights is None else float(weights.sum())
        if alpha and total_weight > 0:
            loss += self._add_l2_penalty(alpha / total_weight)
        return loss

    def _backpropagate(self, X, delta, workspace):
        """Carry the output error back to the first layer, filling ``grad``."""
        n_samples = X.shape[0]
        ones = workspace.ones[:n_samples]
        for i in range(len(self.coefs) - 1, -1, -1):
            layer_input = self._layer_input(i, X, workspace, n_samples)
            _matmul_transposed(layer_input, delta, out=self._grad_coefs[i])
            # Summing the rows through BLAS (ones @ delta) beats delta.sum(0).
            np.dot(ones, delta, out=self._grad_intercepts[i])
            if i > 0:
                prev_delta = workspace.deltas[i - 1][:n_samples]
                np.matmul(delta, self.coefs[i].T, out=prev_delta)
                self._through_activation(i - 1, prev_delta, workspace, n_samples)
                delta = prev_delta
        if self.embeddings is not None:
            # The tables' gradient: the input gradient of their columns only.
            n_numeric = len(self.embeddings.numeric_columns)
            input_grad = delta @ self.coefs[0][n_numeric:].T
            self.embeddings.scatter_gradient(X, input_grad, self._grad_tables)

    def _through_activation(self, i, delta, workspace, n_samples):
        """Turn the gradient w.r.t. layer ``i``'s output into one w.r.t. its Z."""
        mask = workspace.masks[i]
        if mask is not None:
            delta *= mask[:n_samples]
        Z = workspace.preactivations[i]
        DERIVATIVES[self.hidden_activations[i]](
            workspace.activations[i][:n_samples], delta, None if Z is None else Z[:n_samples]
        )

    def _add_l2_penalty(self, scale):
        """Add ``scale * W`` to the weight gradient; return the penalty value."""
        weights = self.params[: self.n_penalized_params]
        axpy(scale, weights, self.grad[: self.n_penalized_params])
        return 0.5 * scale * float(np.dot(weights, weights))

    def predict_logits(self, X):
        """Logits for ``X`` with the current parameters (allocates)."""
        if self.embeddings is not None:
            X = self.embeddings.embed(X, self.tables)
        return forward_logits(X, self.coefs, self.intercepts, self.hidden_activations)

    def predict(self, X):
        """Predictions (output activation applied) for ``X``."""
        return self.loss.inverse_link(self.predict_logits(X))
