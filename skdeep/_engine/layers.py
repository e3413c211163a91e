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
    "Scale",
    "PeriodicEmbedding",
    "PiecewiseLinearEncoding",
    "ParametricActivation",
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


class Scale(Layer):
    """A learned factor per input column: ``y = x * s`` (initialised to 1).

    In front of the first dense layer it lets training weigh the features
    before they mix; a large learning-rate factor makes it adapt quickly.

    Parameters
    ----------
    n_units : int
        Width of the input (and output).
    lr_scale : float, default=1.0
        Learning-rate factor of the scale vector.
    """

    def __init__(self, n_units, lr_scale=1.0):
        super().__init__(n_units, n_units)
        self.lr_scale = float(lr_scale)

    def param_specs(self):
        return [ParamSpec("scale", (self.n_inputs,), penalized=False, lr_scale=self.lr_scale)]

    def bind(self, params, grads):
        (self.scale,), (self.scale_grad,) = params, grads

    def allocate(self, batch_size, dtype, random_state, input_grad):
        return SimpleNamespace(
            input_grad=input_grad,
            output=np.empty((batch_size, self.n_inputs), dtype),
            ones=np.ones(batch_size, dtype),
        )

    def forward(self, A, buffers, n):
        return np.multiply(A, self.scale, out=buffers.output[:n])

    def backward(self, delta, A, buffers, n):
        # dL/ds_j = sum_i delta_ij x_ij; the product reuses the output buffer.
        product = np.multiply(delta, A, out=buffers.output[:n])
        np.dot(buffers.ones[:n], product, out=self.scale_grad)
        if buffers.input_grad is None:
            return None
        delta *= self.scale
        return delta[:, buffers.input_grad]

    def predict(self, A):
        return A * self.scale


class PeriodicEmbedding(Layer):
    """Learned periodic features of each numeric column ("PBLD", Gorishniy et al.
    2022; Holzmüller et al. 2024).

    For numeric column ``j`` with value ``x``: ``a = cos(2 pi w_j x + b_j)``
    for ``n_frequencies`` learned frequencies ``w_j`` and phases ``b_j``, then
    ``e = a @ V_j + c_j`` (``n_features`` values); the output holds every
    column's ``e``, then the numeric values themselves, then the other input
    columns unchanged. Smooth periodic features let the next layers carve
    sharp, non-monotonic functions of one column that plain units need many
    neurons for.

    Parameters
    ----------
    n_inputs : int
        Input width.
    n_numeric : int
        The first ``n_numeric`` input columns are embedded.
    n_frequencies : int, default=16
        Frequencies per column.
    n_features : int, default=3
        Learned features per column.
    sigma : float, default=0.1
        Standard deviation of the initial frequencies.
    lr_scale : float, default=0.1
        Learning-rate factor of all the layer's parameters.
    """

    def __init__(self, n_inputs, n_numeric, n_frequencies=16, n_features=3, sigma=0.1,
                 lr_scale=0.1):
        super().__init__(n_inputs, n_inputs + n_numeric * n_features)
        self.n_numeric, self.n_frequencies, self.n_features = n_numeric, n_frequencies, n_features
        self.sigma, self.lr_scale = float(sigma), float(lr_scale)

    def param_specs(self):
        f, k, o = self.n_numeric, self.n_frequencies, self.n_features
        return [
            ParamSpec("frequency", (f, k), False, self.lr_scale),
            ParamSpec("phase", (f, k), False, self.lr_scale),
            ParamSpec("coef", (f, k, o), True, self.lr_scale),
            ParamSpec("intercept", (f, o), False, self.lr_scale),
        ]

    def bind(self, params, grads):
        self.frequency, self.phase, self.coef, self.intercept = params
        self.frequency_grad, self.phase_grad, self.coef_grad, self.intercept_grad = grads

    def initialize(self, random_state):
        """Frequencies ~ N(0, sigma^2), phases ~ U(-pi, pi), linear part ~ U(-1/sqrt(k), ...)."""
        bound = 1.0 / np.sqrt(self.n_frequencies)
        self.frequency[...] = random_state.normal(scale=self.sigma, size=self.frequency.shape)
        self.phase[...] = random_state.uniform(-np.pi, np.pi, self.phase.shape)
        self.coef[...] = random_state.uniform(-bound, bound, self.coef.shape)
        self.intercept[...] = random_state.uniform(-bound, bound, self.intercept.shape)

    # Per-column arrays are laid out (column, row, frequency): each column's
    # rows are then one matrix, and the per-column products are one batched
    # matmul (BLAS) instead of an einsum loop.
    def allocate(self, batch_size, dtype, random_state, input_grad):
        shape = (self.n_numeric, batch_size, self.n_frequencies)
        return SimpleNamespace(
            input_grad=input_grad,
            angle=np.empty(shape, dtype),
            cosine=np.empty(shape, dtype),
            features=np.empty((self.n_numeric, batch_size, self.n_features), dtype),
            output=np.empty((batch_size, self.n_outputs), dtype),
        )

    def _angles(self, x, out=None):
        """``2 pi w x + b`` of every column, frequency and row, shape (f, n, k)."""
        angle = np.multiply(x.T[:, :, None], self.frequency[:, None, :], out=out)
        angle *= 2 * np.pi
        angle += self.phase[:, None, :]
        return angle

    def _features(self, cosine, out=None):
        features = np.matmul(cosine, self.coef, out=out)
        features += self.intercept[:, None, :]
        return features

    def _write_output(self, features, A, out):
        n, width = A.shape[0], self.n_numeric * self.n_features
        out[:, :width].reshape(n, self.n_numeric, self.n_features)[...] = (
            features.transpose(1, 0, 2))
        out[:, width:] = A
        return out

    def forward(self, A, buffers, n):
        angle = self._angles(A[:, : self.n_numeric], out=buffers.angle[:, :n])
        cosine = np.cos(angle, out=buffers.cosine[:, :n])
        features = self._features(cosine, out=buffers.features[:, :n])
        return self._write_output(features, A, buffers.output[:n])

    def backward(self, delta, A, buffers, n):
        f, o = self.n_numeric, self.n_features
        x = A[:, :f]
        delta_features = delta[:, : f * o].reshape(n, f, o).transpose(1, 0, 2)
        np.matmul(buffers.cosine[:, :n].transpose(0, 2, 1), delta_features, out=self.coef_grad)
        self.intercept_grad[...] = delta_features.sum(axis=1)
        # d cos(angle) = -sin(angle): the angles are not needed after this.
        sine = np.sin(buffers.angle[:, :n], out=buffers.angle[:, :n])
        delta_angle = np.matmul(delta_features, self.coef.transpose(0, 2, 1),
                                out=buffers.cosine[:, :n])
        delta_angle *= sine
        np.negative(delta_angle, out=delta_angle)
        self.phase_grad[...] = delta_angle.sum(axis=1)
        self.frequency_grad[...] = np.matmul(x.T[:, None, :], delta_angle)[:, 0, :]
        self.frequency_grad *= 2 * np.pi
        if buffers.input_grad is None:
            return None
        delta_in = delta[:, f * o :].copy()
        delta_in[:, :f] += 2 * np.pi * np.matmul(delta_angle, self.frequency[:, :, None])[:, :, 0].T
        return delta_in[:, buffers.input_grad]

    def predict(self, A):
        angle = self._angles(A[:, : self.n_numeric])
        features = self._features(np.cos(angle, out=angle))
        out = np.empty((A.shape[0], self.n_outputs), dtype=np.result_type(A, self.coef))
        return self._write_output(features, A, out)

    @property
    def predict_width(self):
        # The angles and their cosines, beside the input and the output.
        return self.n_inputs + self.n_outputs + 2 * self.n_numeric * self.n_frequencies


class PiecewiseLinearEncoding(Layer):
    """Piecewise-linear encodings of numeric columns (Gorishniy et al. 2022).

    Column ``j`` has bins ``[lo_jt, lo_jt + width_jt]`` (quantile bins of
    the training values, :func:`~skdeep._engine.preprocessing.quantile_bins`);
    a value ``x`` is encoded as ``clip((x - lo_jt) / width_jt, 0, 1)`` for
    every bin ``t``: 1 for the bins below ``x``, 0 for those above, the
    position inside the bin that holds it. One unit of the next layer can
    then switch on at any bin edge, as a tree's split does, instead of
    building a threshold from many smooth units. The output is the input,
    then every column's encodings, or ``n_features`` learned linear
    combinations of them per column.

    Parameters
    ----------
    n_inputs : int
        Input width.
    lower : ndarray of shape (n_numeric, n_bins)
        Lower edge of each bin of the first ``n_numeric`` input columns.
    inverse_width : ndarray of shape (n_numeric, n_bins)
        ``1 / width`` of each bin; 0 marks an unused bin (its encoding is 0).
    n_features : int or None, default=None
        None outputs the encodings themselves (``n_bins`` per column); an
        int outputs that many learned features ``codes @ V_j + c_j`` per
        column: the next layer's input then grows by ``n_features``, not
        ``n_bins``, per column.
    """

    def __init__(self, n_inputs, lower, inverse_width, n_features=None):
        lower, inverse_width = np.asarray(lower), np.asarray(inverse_width)
        if lower.ndim != 2 or lower.shape != inverse_width.shape:
            raise ValueError("Need one lower edge and one inverse width per column and bin.")
        self.n_numeric, self.n_bins = lower.shape
        self.n_features = None if n_features is None else int(n_features)
        width = self.n_bins if self.n_features is None else self.n_features
        super().__init__(n_inputs, n_inputs + self.n_numeric * width)
        # Per-column arrays are laid out (column, row, bin), as in PeriodicEmbedding.
        self.lower, self.inverse_width = lower[:, None, :], inverse_width[:, None, :]

    def param_specs(self):
        if self.n_features is None:
            return []
        f, k, o = self.n_numeric, self.n_bins, self.n_features
        lr_scale = 1.0 / np.sqrt(k)
        return [ParamSpec("coef", (f, k, o), True, lr_scale),
                ParamSpec("intercept", (f, o), False, lr_scale)]

    def bind(self, params, grads):
        if self.n_features is not None:
            (self.coef, self.intercept), (self.coef_grad, self.intercept_grad) = params, grads

    def initialize(self, random_state):
        """Linear part ~ U(-1/sqrt(n_bins), 1/sqrt(n_bins)), biases 0."""
        if self.n_features is not None:
            bound = 1.0 / np.sqrt(self.n_bins)
            self.coef[...] = random_state.uniform(-bound, bound, self.coef.shape)
            self.intercept[...] = 0.0

    def allocate(self, batch_size, dtype, random_state, input_grad):
        return SimpleNamespace(
            input_grad=input_grad,
            # The bins in the batch's dtype: float32 codes from float64 edges
            # would make every pass cast, at about 2.7x the time.
            lower=self.lower.astype(dtype),
            inverse_width=self.inverse_width.astype(dtype),
            codes=np.empty((self.n_numeric, batch_size, self.n_bins), dtype),
            features=(None if self.n_features is None
                      else np.empty((self.n_numeric, batch_size, self.n_features), dtype)),
            output=np.empty((batch_size, self.n_outputs), dtype),
        )

    def _codes(self, x, out, lower, inverse_width):
        """Encodings of every column, row and bin, shape (f, n, k)."""
        np.subtract(x.T[:, :, None], lower, out=out)
        out *= inverse_width
        return np.clip(out, 0.0, 1.0, out=out)

    def _write_output(self, codes, A, out, features=None):
        """The input, then the encodings or (into ``features``) their learned features."""
        n = A.shape[0]
        out[:, : self.n_inputs] = A
        if self.n_features is None:
            features = codes
        else:
            features = np.matmul(codes, self.coef, out=features)
            features += self.intercept[:, None, :]
        width = features.shape[2]
        out[:, self.n_inputs :].reshape(n, self.n_numeric, width)[...] = (
            features.transpose(1, 0, 2))
        return out

    def forward(self, A, buffers, n):
        codes = self._codes(A[:, : self.n_numeric], buffers.codes[:, :n], buffers.lower,
                            buffers.inverse_width)
        features = None if buffers.features is None else buffers.features[:, :n]
        return self._write_output(codes, A, buffers.output[:n], features)

    def backward(self, delta, A, buffers, n):
        codes = buffers.codes[:, :n]
        width = self.n_bins if self.n_features is None else self.n_features
        delta_out = delta[:, self.n_inputs :].reshape(n, self.n_numeric, width).transpose(1, 0, 2)
        if self.n_features is not None:
            np.matmul(codes.transpose(0, 2, 1), delta_out, out=self.coef_grad)
            self.intercept_grad[...] = delta_out.sum(axis=1)
        if buffers.input_grad is None:
            return None
        delta_codes = (delta_out if self.n_features is None
                       else np.matmul(delta_out, self.coef.transpose(0, 2, 1)))
        # Inside its bin a code moves with x at rate 1/width; at 0 or 1 it is flat.
        # (A product with the mask: np.where with a scalar branch is slower.)
        slope = np.multiply((codes > 0) & (codes < 1), buffers.inverse_width)
        delta_in = delta[:, : self.n_inputs].copy()
        delta_in[:, : self.n_numeric] += (delta_codes * slope).sum(axis=2).T
        return delta_in[:, buffers.input_grad]

    def predict(self, A):
        dtype = np.result_type(A, np.float32) if self.n_features is None else (
            np.result_type(A, self.coef))
        codes = self._codes(A[:, : self.n_numeric].astype(dtype, copy=False),
                            np.empty((self.n_numeric, A.shape[0], self.n_bins), dtype),
                            # The same bins in the same dtype as in training.
                            self.lower.astype(dtype, copy=False),
                            self.inverse_width.astype(dtype, copy=False))
        return self._write_output(codes, A, np.empty((A.shape[0], self.n_outputs), dtype))

    @property
    def predict_width(self):
        # The codes, beside the input and the output.
        return self.n_inputs + self.n_outputs + self.n_numeric * self.n_bins


class ParametricActivation(Layer):
    """An activation with a learned strength per unit: ``y = z + a * (f(z) - z)``.

    With ``a = 1`` (the initial value) it is ``f``; with ``a = 0`` the unit
    is linear. Each unit learns how much nonlinearity it needs, and weight
    decay pulls ``a`` towards the linear end (RealMLP's parametric
    activation, Holzmüller et al., 2024). It follows a :class:`Dense` layer
    whose own activation is the identity.

    Parameters
    ----------
    n_units : int
        Width of the input (and output).
    activation : str
        The nonlinearity ``f``, a key of ``ACTIVATIONS``.
    lr_scale : float, default=0.1
        Learning-rate factor of the strengths ``a``.
    """

    def __init__(self, n_units, activation, lr_scale=0.1):
        super().__init__(n_units, n_units)
        self.activation = get_activation(activation)
        self.lr_scale = float(lr_scale)

    def param_specs(self):
        return [ParamSpec("strength", (self.n_inputs,), penalized=True, lr_scale=self.lr_scale)]

    def bind(self, params, grads):
        (self.strength,), (self.strength_grad,) = params, grads

    def allocate(self, batch_size, dtype, random_state, input_grad):
        shape = (batch_size, self.n_inputs)
        return SimpleNamespace(
            input_grad=input_grad,
            activated=np.empty(shape, dtype),
            output=np.empty(shape, dtype),
            input_delta=np.empty(shape, dtype) if input_grad is not None else None,
            ones=np.ones(batch_size, dtype),
        )

    def forward(self, A, buffers, n):
        activated = buffers.activated[:n]
        np.copyto(activated, A)
        self.activation.forward(activated)
        out = np.subtract(activated, A, out=buffers.output[:n])
        out *= self.strength
        out += A
        return out

    def backward(self, delta, A, buffers, n):
        activated = buffers.activated[:n]
        # dL/da_j = sum_i delta_ij (f(z_ij) - z_ij); the next layer is done
        # with the output buffer, so the product reuses it.
        product = np.subtract(activated, A, out=buffers.output[:n])
        product *= delta
        np.dot(buffers.ones[:n], product, out=self.strength_grad)
        if buffers.input_grad is None:
            return None
        # dy/dz = 1 + a (f'(z) - 1): mix delta and delta * f'(z).
        delta_in = buffers.input_delta[:n]
        np.copyto(delta_in, delta)
        self.activation.backward(activated, delta_in, A)
        delta_in -= delta
        delta_in *= self.strength
        delta_in += delta
        return delta_in[:, buffers.input_grad]

    def predict(self, A):
        activated = self.activation.forward(np.array(A, copy=True))
        return A + self.strength * (activated - A)

    @property
    def predict_width(self):
        return 3 * self.n_inputs

