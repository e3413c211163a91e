"""Layers: each step of the forward pass beside its backward pass.

A network is a sequence of layers over one flat parameter vector (see
``network.py``). A layer

* declares its parameters (:meth:`Layer.param_specs`): their shapes, and
  whether the L2 penalty and weight decay apply to them; the network lays
  them out in its flat vector and hands the layer views of the parameters
  and of the gradient (:meth:`Layer.bind`);
* allocates, once per fit, the buffers it needs for batches of up to ``n``
  rows (:meth:`Layer.allocate`), so that training reuses memory;
* computes its output from its input into those buffers
  (:meth:`Layer.forward`), and from the gradient with respect to its output
  fills its parameters' gradient and returns the gradient with respect to
  its input (:meth:`Layer.backward`);
* predicts without buffers and without training noise
  (:meth:`Layer.predict`).

A new kind of layer is one class here; the network and the training loop
need no change.
"""

import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

from .activations import get_activation

__all__ = [
    "ParamSpec",
    "Layer",
    "Dense",
    "Dropout",
    "Embedding",
]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter array of a layer.

    Parameters
    ----------
    name : str
        Name within the layer (``"coef"``, ``"intercept"``, ...).
    shape : tuple of int
        Shape of the array.
    penalized : bool
        Whether the L2 penalty (``alpha``) and weight decay apply to it.
        Penalized parameters of every layer form the leading, contiguous part
        of the flat vector.
    lr_scale : float, default=1.0
        Factor on the optimizer's learning rate for this array (parameters
        of one factor are laid out contiguously).
    """

    name: str
    shape: tuple
    penalized: bool
    lr_scale: float = 1.0

    @property
    def size(self):
        """Number of scalars."""
        return math.prod(self.shape)


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


class Layer:
    """Base class: a layer without parameters that passes its input through.

    Attributes
    ----------
    n_inputs, n_outputs : int
        Width of the layer's input and output.
    output_grad_columns : slice
        Columns of the layer's output whose gradient :meth:`backward` needs
        (all of them by default); the next layer computes only those.
    """

    output_grad_columns = slice(None)

    def __init__(self, n_inputs, n_outputs):
        self.n_inputs = int(n_inputs)
        self.n_outputs = int(n_outputs)

    def param_specs(self):
        """The layer's parameter arrays, in the order :meth:`bind` receives them."""
        return []

    def bind(self, params, grads):
        """Receive views of the parameters and their gradient, in spec order."""

    def allocate(self, batch_size, dtype, random_state, input_grad):
        """Buffers for batches of up to ``batch_size`` rows.

        Parameters
        ----------
        batch_size : int
            Largest batch.
        dtype : numpy dtype
            Compute dtype.
        random_state : numpy.random.Generator or None
            Source of training noise (dropout); None when predicting or when
            the solver adds no noise.
        input_grad : slice or None
            Columns of the input whose gradient :meth:`backward` must
            return; None when no gradient is needed (the first layer).

        Returns
        -------
        buffers : types.SimpleNamespace
        """
        return SimpleNamespace(input_grad=input_grad)

    def forward(self, A, buffers, n):
        """Output for the first ``n`` rows, written into ``buffers``."""
        return A

    def backward(self, delta, A, buffers, n):
        """Fill the parameters' gradient; return the input's gradient.

        Parameters
        ----------
        delta : ndarray of shape (n, n_outputs)
            Gradient of the loss with respect to the layer's output; the
            layer may overwrite it.
        A : array of shape (n, n_inputs)
            What :meth:`forward` received.
        buffers : types.SimpleNamespace
            This layer's buffers, as :meth:`forward` left them.
        n : int
            Number of rows.

        Returns
        -------
        delta_in : ndarray or None
            Gradient with respect to the input columns ``buffers.input_grad``;
            None when ``buffers.input_grad`` is None.
        """
        return delta if buffers.input_grad is not None else None

    def predict(self, A):
        """Output for ``A`` without buffers and without training noise."""
        return A

    @property
    def predict_width(self):
        """Values per row alive at once in :meth:`predict` (input and output)."""
        return self.n_inputs + self.n_outputs


class Dense(Layer):
    """Fully connected layer with an in-place activation: ``f(A @ W + b)``.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Fan-in and fan-out.
    activation : str, default="identity"
        Name of an entry of ``ACTIVATIONS``. The output layer keeps
        ``"identity"``: its activation is fused with the loss.
    coef_lr_scale, intercept_lr_scale : float, default=1.0
        Learning-rate factors of the weights and the biases. With Adam,
        weights drawn with standard deviation ``c`` and trained at
        ``c`` times the rate behave as the neural-tangent parametrization
        ``(A @ W) * c`` (Adam's steps do not depend on the gradient's scale).

    Attributes
    ----------
    coef : ndarray of shape (n_inputs, n_outputs)
        Weights (penalized), a view into the network's parameters.
    intercept : ndarray of shape (n_outputs,)
        Biases (not penalized).
    """

    def __init__(self, n_inputs, n_outputs, activation="identity", coef_lr_scale=1.0,
                 intercept_lr_scale=1.0):
        super().__init__(n_inputs, n_outputs)
        self.activation = get_activation(activation)
        self.coef_lr_scale = float(coef_lr_scale)
        self.intercept_lr_scale = float(intercept_lr_scale)

    def param_specs(self):
        return [
            ParamSpec("coef", (self.n_inputs, self.n_outputs), True, self.coef_lr_scale),
            ParamSpec("intercept", (self.n_outputs,), False, self.intercept_lr_scale),
        ]

    def bind(self, params, grads):
        self.coef, self.intercept = params
        self.coef_grad, self.intercept_grad = grads

    def allocate(self, batch_size, dtype, random_state, input_grad):
        keep_z = self.activation.needs_preactivation
        n_grad_columns = len(range(self.n_inputs)[input_grad]) if input_grad is not None else 0
        return SimpleNamespace(
            input_grad=input_grad,
            output=np.empty((batch_size, self.n_outputs), dtype),
            preactivation=np.empty((batch_size, self.n_outputs), dtype) if keep_z else None,
            input_delta=(
                np.empty((batch_size, n_grad_columns), dtype) if input_grad is not None else None
            ),
            # Summing the rows through BLAS (ones @ delta) beats delta.sum(0).
            ones=np.ones(batch_size, dtype),
        )

    def forward(self, A, buffers, n):
        Z = buffers.output[:n]
        _matmul(A, self.coef, out=Z)
        Z += self.intercept
        if not self.activation.is_identity:
            if buffers.preactivation is not None:
                np.copyto(buffers.preactivation[:n], Z)
            self.activation.forward(Z)
        return Z

    def backward(self, delta, A, buffers, n):
        if not self.activation.is_identity:
            Z = buffers.preactivation
            self.activation.backward(buffers.output[:n], delta, None if Z is None else Z[:n])
        _matmul_transposed(A, delta, out=self.coef_grad)
        np.dot(buffers.ones[:n], delta, out=self.intercept_grad)
        if buffers.input_grad is None:
            return None
        delta_in = buffers.input_delta[:n]
        np.matmul(delta, self.coef[buffers.input_grad].T, out=delta_in)
        return delta_in

    def predict(self, A):
        Z = A @ self.coef
        Z += self.intercept
        return np.asarray(self.activation.forward(Z))


class Dropout(Layer):
    """Inverted dropout: zero each unit with probability ``rate`` in training.

    Kept units are scaled by ``1 / (1 - rate)``, so that the expected output
    is the input and prediction needs no change. Only workspaces with a
    random state apply it.

    Parameters
    ----------
    n_units : int
        Width of the input (and output).
    rate : float
        Probability of zeroing a unit, in ``[0, 1)``.
    """

    def __init__(self, n_units, rate):
        super().__init__(n_units, n_units)
        if not 0 <= rate < 1:
            raise ValueError(f"A dropout rate must be in [0, 1), got {rate!r}.")
        self.rate = float(rate)

    def allocate(self, batch_size, dtype, random_state, input_grad):
        active = random_state is not None and self.rate > 0
        shape = (batch_size, self.n_outputs)
        return SimpleNamespace(
            input_grad=input_grad,
            random_state=random_state,
            mask=np.empty(shape, dtype) if active else None,
            output=np.empty(shape, dtype) if active else None,
        )

    def forward(self, A, buffers, n):
        if buffers.mask is None:
            return A
        mask = buffers.mask[:n]
        keep = 1.0 - self.rate
        uniform = buffers.random_state.random(A.shape, dtype=A.dtype)
        np.multiply(uniform < keep, A.dtype.type(1.0 / keep), out=mask)
        return np.multiply(A, mask, out=buffers.output[:n])

    def backward(self, delta, A, buffers, n):
        if buffers.mask is not None:
            delta *= buffers.mask[:n]
        return delta if buffers.input_grad is not None else None


class Embedding(Layer):
    """Entity embeddings: category codes replaced by learned table rows.

    Parameters
    ----------
    layout : EmbeddingLayout
        Which input columns hold codes, and each table's shape. The output
        is the numeric columns followed by each code's table row.

    Attributes
    ----------
    tables : list of ndarray of shape (n_levels, dim)
        One table per categorical column (penalized), views into the
        network's parameters.
    """

    def __init__(self, layout):
        super().__init__(len(layout.numeric_columns) + len(layout.categorical_columns),
                         layout.n_inputs)
        self.layout = layout
        # Only the embedded columns carry a gradient back to the tables.
        self.output_grad_columns = slice(len(layout.numeric_columns), None)

    def param_specs(self):
        return [
            ParamSpec(f"table_{j}", shape, penalized=True)
            for j, shape in enumerate(self.layout.table_shapes)
        ]

    def bind(self, params, grads):
        self.tables, self.table_grads = list(params), list(grads)

    def allocate(self, batch_size, dtype, random_state, input_grad):
        return SimpleNamespace(
            input_grad=None, output=np.empty((batch_size, self.n_outputs), dtype)
        )

    def forward(self, A, buffers, n):
        return self.layout.embed(A, self.tables, out=buffers.output)

    def backward(self, delta, A, buffers, n):
        self.layout.scatter_gradient(A, delta, self.table_grads)
        return None

    def predict(self, A):
        return self.layout.embed(A, self.tables)
