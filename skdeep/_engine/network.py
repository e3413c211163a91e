"""Networks: a stack of layers over one flat parameter vector.

All parameters of a network live in one flat array, ``params``; each layer's
arrays are views into it. The gradient is a second flat array with the same
layout. An optimizer step is therefore a handful of vectorised operations on
two vectors, L-BFGS gets its vector without packing, and saving the best
weights is one copy. Penalized parameters (weights, embedding tables) come
first, so the L2 penalty and weight decay touch one contiguous slice.

:class:`Sequential` is the general stack; :class:`Network` is the
multi-layer perceptron of the estimators, with sklearn's names for its
weights (``coefs``, ``intercepts``) and sklearn's initialisation.
"""

import copy
import math

import numpy as np

from ._linalg import axpy
from .activations import ACTIVATIONS
from .initializers import init_bound, init_layer
from .layers import Dense, Dropout, Embedding
from .losses import loss_for_output

__all__ = [
    "Sequential",
    "Network",
    "Workspace",
    "forward_logits",
    "forward_hidden",
    "forward_row_bytes",
    "in_row_chunks",
]


def in_row_chunks(function, X, max_rows):
    """``function(X)`` computed on slices of at most ``max_rows`` rows.

    Prediction allocates a few arrays of ``n_samples`` times a layer's
    width; slicing the rows bounds that memory whatever the input size. The
    results are stacked into one preallocated array, so the output is the
    only array that grows with ``n_samples``.

    Parameters
    ----------
    function : callable
        Maps rows to an array with one row per input row; rows must not
        depend on each other.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Input rows.
    max_rows : int or None
        Largest slice; None computes ``function(X)`` at once.

    Returns
    -------
    out : ndarray of shape (n_samples, ...)
    """
    n_samples = X.shape[0]
    if max_rows is None or n_samples <= max_rows:
        return function(X)
    first = function(X[:max_rows])
    out = np.empty((n_samples, *first.shape[1:]), dtype=first.dtype)
    out[:max_rows] = first
    for start in range(max_rows, n_samples, max_rows):
        out[start:start + max_rows] = function(X[start:start + max_rows])
    return out


def forward_row_bytes(coefs, dtype):
    """Bytes per row alive at once in :func:`forward_logits` for these weights."""
    widest = max(W.shape[0] + W.shape[1] for W in coefs)
    return widest * np.dtype(dtype).itemsize


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
    # Overflow is handled below, row by row; it must not warn.
    with np.errstate(over="ignore", invalid="ignore"):
        logits = _forward(X, coefs, intercepts, hidden_activations)
    # One reduction when every logit is finite (the usual case); rows only if not.
    if not np.isfinite(logits).all():
        rows = np.flatnonzero(~np.isfinite(logits).all(axis=1))
        logits[rows] = _guarded_forward(X[rows], coefs, intercepts, hidden_activations,
                                        logits.dtype)
    return logits


def forward_hidden(X, coefs, intercepts, hidden_activations, layer):
    """Forward pass through explicit weights, stopped at a hidden layer.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Input rows (embedded, if the network embeds categories).
    coefs, intercepts, hidden_activations
        As for :func:`forward_logits`.
    layer : int
        Index of the hidden layer, ``0 <= layer < len(coefs) - 1``.

    Returns
    -------
    activations : ndarray of shape (n_samples, coefs[layer].shape[1])
        Output of hidden layer ``layer``, its activation applied.
    """
    if not 0 <= layer < len(coefs) - 1:
        raise ValueError(f"layer {layer} is not a hidden layer of {len(coefs) - 1}.")
    # The layers up to ``layer`` form a network whose "logits" are that
    # layer's pre-activations: the overflow guard of forward_logits applies.
    Z = forward_logits(X, coefs[: layer + 1], intercepts[: layer + 1], hidden_activations)
    with np.errstate(over="ignore"):
        return np.asarray(ACTIVATIONS[hidden_activations[layer]].forward(Z))


def _forward(X, coefs, intercepts, hidden_activations):
    last = len(coefs) - 1
    A = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = A @ W
        Z += b
        if i < last:
            ACTIVATIONS[hidden_activations[i]].forward(Z)
        A = Z
    return np.asarray(A)


def _guarded_forward(X, coefs, intercepts, hidden_activations, dtype):
    """The forward pass of rows whose logits overflowed, without NaN or infinity.

    Extreme inputs (or float32 activations beyond its range) overflow a
    plain matrix product, and ``inf - inf`` then turns into NaN. Here each
    row is computed in float64 and scaled by its largest value before every
    product, so an overflow gives a signed infinity, which is clipped to the
    largest finite value; the logits are clipped to a quarter of ``dtype``'s
    range, so that the softmax's shift and the log-probabilities stay finite.
    """
    A = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    A = _clip_to_finite(A.astype(np.float64))
    last = len(coefs) - 1
    with np.errstate(over="ignore", invalid="ignore"):
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            scale = np.maximum(np.abs(A).max(axis=1, keepdims=True), 1.0)
            Z = (A / scale) @ np.asarray(W, dtype=np.float64)
            Z *= scale
            Z += b
            Z = _clip_to_finite(Z)
            if i < last:
                ACTIVATIONS[hidden_activations[i]].forward(Z)
                Z = _clip_to_finite(Z)
            A = Z
    limit = np.finfo(dtype).max / 4
    return np.clip(A, -limit, limit).astype(dtype)


def _clip_to_finite(A):
    """Infinities to the largest finite float64, NaN (an undefined limit) to 0."""
    return np.nan_to_num(A, copy=False, nan=0.0)


class Workspace:
    """Every layer's buffers for one batch size, allocated once per fit.

    A smaller final batch uses the leading rows, which are still contiguous.

    Parameters
    ----------
    network : Sequential
        The network the buffers are for.
    batch_size : int
        Largest number of rows processed at once.
    random_state : numpy.random.Generator or None, default=None
        Source of training noise (dropout masks). Without it the forward pass
        is deterministic, as at prediction time.

    Attributes
    ----------
    buffers : list of types.SimpleNamespace
        One per layer.
    inputs : list
        What each layer received in the last forward pass.
    output_delta : ndarray of shape (batch_size, n_outputs)
        Gradient of the loss with respect to the logits (with a leading
        member axis for a network of several members).
    """

    def __init__(self, network, batch_size, random_state=None):
        dtype = network.dtype
        self.batch_size = batch_size
        self.random_state = random_state
        self.buffers = [
            layer.allocate(batch_size, dtype, random_state, input_grad)
            for layer, input_grad in zip(network.layers, network.input_grads)
        ]
        self.inputs = [None] * len(network.layers)
        self.output_delta = np.empty(
            (*network.member_axis, batch_size, network.n_outputs), dtype)

    @property
    def activations(self):
        """Output buffers of the layers that have one."""
        return [b.output for b in self.buffers if getattr(b, "output", None) is not None]

    @property
    def deltas(self):
        """Gradient buffers: each layer's input gradient, then the logits'."""
        inner = [getattr(b, "input_delta", None) for b in self.buffers]
        return [*(delta for delta in inner if delta is not None), self.output_delta]

    @property
    def dropped(self):
        """Output buffers of the dropout layers (None where dropout is off)."""
        return [b.output for b in self.buffers if hasattr(b, "mask")]


class Sequential:
    """A stack of layers with a fused output loss, over one flat vector.

    Parameters
    ----------
    layers : list of Layer
        Applied in order; the last one outputs the logits.
    loss : fused loss object
        Loss of the logits (see ``losses.py``); its output activation turns
        logits into predictions.
    dtype : numpy dtype, default=np.float64
        Dtype of parameters, gradients and buffers.
    n_members : int or None, default=None
        None: one network on ``(n, width)`` arrays. An int ``k``: ``k``
        member networks side by side (the layers of ``members.py``), every
        array with a leading member axis; each parameter array of a layer
        is then ``(k, *shape)``, the members' copies contiguous in ``params``.

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        All parameters: the penalized ones first, in layer order, then the
        others.
    grad : ndarray of shape (n_params,)
        Gradient buffer with the layout of ``params``.
    n_penalized_params : int
        Length of the leading penalized part.
    lr_scales : list of (int, int, float)
        ``(start, stop, factor)`` of the contiguous runs of parameters whose
        learning rate is scaled by ``factor`` (see ``ParamSpec.lr_scale``);
        an optimizer built with them applies the factors.
    """

    def __init__(self, layers, loss, dtype=np.float64, n_members=None):
        self.layers = list(layers)
        self.loss = loss
        self.dtype = np.dtype(dtype)
        self.n_members = None if n_members is None else int(n_members)
        self.n_outputs = self.layers[-1].n_outputs
        # Which of its input's columns each layer must return a gradient for:
        # none for the first layer, what the layer before it needs otherwise.
        self.input_grads = [None] + [layer.output_grad_columns for layer in self.layers[:-1]]
        self._allocate_parameters()

    @property
    def member_axis(self):
        """``(n_members,)``, or ``()`` for a network of one member."""
        return () if self.n_members is None else (self.n_members,)

    def _allocate_parameters(self):
        copies = self.n_members or 1
        specs = [(layer, spec) for layer in self.layers for spec in layer.param_specs()]
        # Penalized first; within each part, parameters of one learning-rate
        # factor together (a stable sort keeps the layer order otherwise).
        ordered = sorted(specs, key=lambda s: (not s[1].penalized, s[1].lr_scale != 1.0,
                                                 s[1].lr_scale))
        self.n_penalized_params = copies * sum(spec.size for _, spec in ordered if spec.penalized)
        self.lr_scales = _lr_scale_runs(ordered, copies)
        n_params = copies * sum(spec.size for _, spec in ordered)
        self._slots = {}
        offset = 0
        for layer, spec in ordered:
            shape = (*self.member_axis, *spec.shape)
            self._slots[(id(layer), spec.name)] = (offset, shape)
            offset += copies * spec.size
        self.params = np.zeros(n_params, dtype=self.dtype)
        self.grad = np.zeros(n_params, dtype=self.dtype)
        for layer in self.layers:
            layer.bind(self.layer_arrays(layer, self.params), self.layer_arrays(layer, self.grad))

    def layer_arrays(self, layer, flat):
        """Views of ``layer``'s parameters in a vector laid out like ``params``."""
        arrays = []
        for spec in layer.param_specs():
            offset, shape = self._slots[(id(layer), spec.name)]
            arrays.append(flat[offset : offset + math.prod(shape)].reshape(shape))
        return arrays

    def replica(self):
        """A network that shares ``params`` but has a gradient and layers of its own.

        Threads computing the gradients of parts of one batch each use a
        replica (see ``parallel.py``); its ``grad`` has the layout of
        ``params``.
        """
        twin = object.__new__(Sequential)
        twin.__dict__.update({key: self.__dict__[key] for key in (
            "loss", "dtype", "n_members", "n_outputs", "input_grads", "params",
            "n_penalized_params", "lr_scales")})
        twin.grad = np.zeros_like(self.grad)
        twin.layers = [copy.copy(layer) for layer in self.layers]
        twin._slots = {(id(twin_layer), name): slot
                       for layer, twin_layer in zip(self.layers, twin.layers)
                       for (owner, name), slot in self._slots.items() if owner == id(layer)}
        for layer in twin.layers:
            layer.bind(twin.layer_arrays(layer, twin.params), twin.layer_arrays(layer, twin.grad))
        return twin

    def member_replica(self, first, stop):
        """A network of members ``first:stop`` that shares ``params`` and ``grad``.

        Its layers hold views of those members' parameters and gradients, so
        threads that each run some of the members need no gradient of their
        own and nothing to sum (see ``parallel.py``).
        """
        twin = object.__new__(Sequential)
        twin.__dict__.update({key: self.__dict__[key] for key in (
            "loss", "dtype", "n_outputs", "input_grads", "params", "grad",
            "n_penalized_params", "lr_scales")})
        twin.n_members = stop - first
        twin.layers = [copy.copy(layer) for layer in self.layers]
        for layer, twin_layer in zip(self.layers, twin.layers):
            twin_layer.n_members = stop - first
            twin_layer.bind([array[first:stop] for array in self.layer_arrays(layer, self.params)],
                            [array[first:stop] for array in self.layer_arrays(layer, self.grad)])
        return twin

    def member_indices(self, member):
        """Positions in ``params`` of member ``member``'s parameters (``n_members`` set)."""
        pieces = []
        for offset, shape in self._slots.values():
            size = math.prod(shape[1:])
            start = offset + member * size
            pieces.append(np.arange(start, start + size))
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.intp)

    def new_workspace(self, batch_size, random_state=None):
        """Buffers for batches of up to ``batch_size`` rows.

        Pass a ``numpy.random.Generator`` to train with dropout.
        """
        return Workspace(self, batch_size, random_state)

    def forward(self, X, workspace):
        """Forward pass into the workspace buffers; returns the logits view."""
        n_samples = X.shape[0] if self.n_members is None else X.shape[1]
        A = X
        for i, layer in enumerate(self.layers):
            workspace.inputs[i] = A
            A = layer.forward(A, workspace.buffers[i], n_samples)
        return A

    def loss_and_gradient(self, X, Y, weights, alpha, workspace, share=None):
        """Loss of a batch and its gradient (into ``self.grad``).

        Parameters
        ----------
        X : {ndarray, sparse CSR matrix} of shape (n_samples, n_features)
            Batch inputs in the network's dtype.
        Y : ndarray of shape (n_samples, n_outputs)
            Batch targets in the network's dtype (or bool, for classes).
        weights : ndarray of shape (n_samples,) or None
            Sample weights of the batch.
        alpha : float
            L2 penalty. As in sklearn, ``alpha / 2 * ||W||**2`` is divided by
            the batch's total sample weight and added to the mean loss.
        workspace : Workspace
            Buffers for at least ``n_samples`` rows.
        share : float or None, default=None
            When these rows are part of a larger batch (a thread's part):
            their share of the batch's total weight. The loss and gradient
            are scaled by it, so that the parts add up to the batch's.

        Returns
        -------
        loss : float
            Mean loss plus the scaled L2 penalty.
        """
        n_samples = X.shape[0]
        logits = self.forward(X, workspace)
        delta = workspace.output_delta[:n_samples]
        loss = self.loss.value_and_delta(logits, Y, weights, delta)
        if share is not None:
            loss *= share
            delta *= delta.dtype.type(share)
        self._backpropagate(delta, workspace, n_samples)
        total_weight = n_samples if weights is None else float(weights.sum())
        if alpha and total_weight > 0:
            loss += self.add_l2_penalty(alpha / total_weight)
        return loss

    def member_losses_and_gradient(self, X, Y, weights, workspace, share=None):
        """Each member's loss on its batch, and the gradients (into ``self.grad``).

        For a network of several members (``n_members`` set); the L2
        penalty does not apply.

        Parameters
        ----------
        X : ndarray of shape (n_members, n_samples, n_features)
            Each member's batch inputs, in the network's dtype.
        Y : ndarray of shape (n_members, n_samples, n_outputs)
            Their targets.
        weights : ndarray of shape (n_members, n_samples) or None
            Their sample weights.
        workspace : Workspace
            Buffers for at least ``n_samples`` rows per member.
        share : ndarray of shape (n_members,) or None, default=None
            When these rows are part of a larger batch, each member's share
            of its batch's total weight: the losses and gradients are then
            scaled to add up to the whole batch's over its parts.

        Returns
        -------
        losses : ndarray of shape (n_members,)
            Mean loss of each member's rows (times ``share``).
        """
        n_samples = X.shape[1]
        logits = self.forward(X, workspace)
        delta = workspace.output_delta[:, :n_samples]
        losses = self.loss.member_values_and_deltas(logits, Y, weights, delta)
        if share is not None:
            losses *= share
            delta *= share[:, None, None].astype(delta.dtype)
        self._backpropagate(delta, workspace, n_samples)
        return losses

    def _backpropagate(self, delta, workspace, n_samples):
        """Carry the output error back through every layer, filling ``grad``."""
        for i in range(len(self.layers) - 1, -1, -1):
            delta = self.layers[i].backward(
                delta, workspace.inputs[i], workspace.buffers[i], n_samples
            )
            if delta is None:
                break

    def add_l2_penalty(self, scale):
        """Add ``scale * W`` to the penalized part of ``grad``; return the penalty value.

        ``loss_and_gradient`` calls it with ``alpha / total_weight``; a caller
        that sums unpenalised gradients over parts of the data (``skdeep.dask``)
        adds the penalty of the whole once, with the whole's total weight.
        """
        weights = self.params[: self.n_penalized_params]
        axpy(scale, weights, self.grad[: self.n_penalized_params])
        return 0.5 * scale * float(np.dot(weights, weights))

    def predict_logits(self, X, max_rows=None):
        """Logits for ``X`` with the current parameters.

        ``max_rows`` bounds the rows computed at once (see
        :func:`in_row_chunks`); :attr:`predict_row_bytes` says what a row
        costs.
        """
        if self.n_members is None:
            return in_row_chunks(self._predict_all, X, max_rows)
        # Each member's rows: chunk along the row axis.
        return np.moveaxis(in_row_chunks(
            lambda rows: np.moveaxis(self._predict_all(np.moveaxis(rows, 0, 1)), 1, 0),
            np.moveaxis(X, 1, 0), max_rows), 1, 0)

    def _predict_all(self, X):
        A = X
        for layer in self.layers:
            A = layer.predict(A)
        return np.asarray(A)

    @property
    def predict_row_bytes(self):
        """Bytes per row alive at once in :meth:`predict_logits`."""
        widest = max(layer.predict_width for layer in self.layers)
        return widest * (self.n_members or 1) * self.dtype.itemsize

    def predict_through(self, X, last):
        """Output of layer ``last`` (one of ``layers``) for ``X``, as at prediction."""
        A = X
        for layer in self.layers:
            A = layer.predict(A)
            if layer is last:
                return np.asarray(A)
        raise ValueError("The layer is not part of this network.")

    def predict(self, X, max_rows=None):
        """Predictions (output activation applied) for ``X``."""
        logits = self.predict_logits(X, max_rows)
        if self.n_members is None:
            return self.loss.inverse_link(logits)
        for member_logits in logits:
            self.loss.inverse_link(member_logits)
        return logits


def _lr_scale_runs(ordered_specs, copies=1):
    """``[(start, stop, factor)]`` for the runs of parameters whose factor is not 1."""
    runs, offset = [], 0
    for _, spec in ordered_specs:
        stop = offset + copies * spec.size
        if spec.lr_scale != 1.0:
            if runs and runs[-1][1] == offset and runs[-1][2] == spec.lr_scale:
                runs[-1] = (runs[-1][0], stop, spec.lr_scale)
            else:
                runs.append((offset, stop, spec.lr_scale))
        offset = stop
    return runs


class Network(Sequential):
    """The multi-layer perceptron: dense layers, dropout, embeddings.

    Parameters
    ----------
    layer_units : sequence of int
        Width of every dense layer's input and of the output:
        ``[n_inputs, *hidden_layer_sizes, n_outputs]``.
    hidden_activations : sequence of str
        Activation of each hidden layer, a key of ``ACTIVATIONS``.
    output_activation : {"identity", "exp", "logistic", "softmax"}
        Output activation; it selects the fused loss.
    dtype : numpy dtype, default=np.float64
        Dtype of parameters, gradients and buffers.
    dropout : sequence of float, default=None
        Dropout rate of each hidden layer (see :class:`~.layers.Dropout`).
    loss : fused loss object, default=None
        Loss to train with; by default the canonical loss of
        ``output_activation``. A loss must use ``output_activation`` as its
        inverse link.
    embeddings : EmbeddingLayout, default=None
        Categorical input columns to embed in front of the first dense
        layer; ``layer_units[0]`` is then the embedded width.

    Attributes
    ----------
    coefs, intercepts : list of ndarray
        Each dense layer's weights and biases, views into ``params``.
    tables : list of ndarray
        Embedding tables, views into ``params`` (empty without embeddings).
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
        if embeddings is not None and embeddings.n_inputs != self.layer_units[0]:
            raise ValueError(
                f"The embedded input has {embeddings.n_inputs} columns but the first "
                f"layer expects {self.layer_units[0]}."
            )
        self.embeddings = embeddings
        self.output_activation = output_activation
        self.dense_layers = self._dense_layers()
        self.embedding_layer = None if embeddings is None else Embedding(embeddings)
        super().__init__(
            self._stack(),
            loss_for_output(output_activation) if loss is None else loss,
            dtype,
        )
        self.coefs = [layer.coef for layer in self.dense_layers]
        self.intercepts = [layer.intercept for layer in self.dense_layers]
        embedding = self.embedding_layer
        self.tables = [] if embedding is None else embedding.tables
        self._grad_tables = [] if embedding is None else embedding.table_grads

    def _dense_layers(self):
        shapes = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        activations = [*self.hidden_activations, "identity"]
        return [Dense(fan_in, fan_out, act) for (fan_in, fan_out), act in zip(shapes, activations)]

    def _stack(self):
        """Embedding, then each dense layer followed by its dropout (if any)."""
        stack = [] if self.embedding_layer is None else [self.embedding_layer]
        for i, dense in enumerate(self.dense_layers):
            stack.append(dense)
            if i < len(self.dropout) and self.dropout[i] > 0:
                stack.append(Dropout(dense.n_outputs, self.dropout[i]))
        return stack

    @property
    def n_layers(self):
        """Number of layers including input and output (sklearn's ``n_layers_``)."""
        return len(self.layer_units)

    @property
    def coef_shapes(self):
        """``(fan_in, fan_out)`` of each dense layer."""
        return [layer.coef.shape for layer in self.dense_layers]

    @property
    def n_coef_params(self):
        """Number of dense weights (biases and tables excluded)."""
        return sum(layer.coef.size for layer in self.dense_layers)

    def layer_views(self, flat):
        """Per-layer weight and bias views of a vector laid out like ``params``."""
        arrays = [self.layer_arrays(layer, flat) for layer in self.dense_layers]
        return [a[0] for a in arrays], [a[1] for a in arrays]

    def initialize(self, random_state, activation_for_init, method="glorot"):
        """Draw starting weights layer by layer, as sklearn's MLP does.

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
        for layer in self.dense_layers:
            fan_in, fan_out = layer.coef.shape
            bound = init_bound(method, fan_in, fan_out, activation_for_init)
            init_layer(random_state, fan_in, fan_out, bound, layer.coef, layer.intercept)
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
