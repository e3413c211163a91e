"""The L-BFGS objective of a dense network in scikit-learn's operation order.

L-BFGS amplifies rounding: its line search and its two-loop recursion carry
every last-bit difference of the loss or the gradient into the next step,
and after a few hundred iterations two runs that differ only in rounding
end with other weights and another number of iterations. So that swapping
the import from ``sklearn.neural_network`` changes nothing with
``solver="lbfgs"``, :class:`SklearnOrderObjective` computes the penalised
loss and its gradient with the same floating-point operations, in the same
order, as scikit-learn's MLP does:

* the parameters form one vector, every weight matrix (row-major) and then
  every bias vector, layer after layer;
* the forward pass keeps each layer's activations, and the output
  activation turns the logits into predictions (the softmax normalised by
  a row sum);
* the loss is computed from the predictions: the log-losses from the
  probabilities clipped to ``[eps, 1 - eps]``, the squared error averaged
  over the outputs, half the Poisson deviance summed over them, each a
  (weighted) average over the rows;
* the L2 term is ``alpha / 2`` times the sum of each layer's squared
  weights, divided by the total sample weight;
* the output error ``prediction - y`` is back-propagated unscaled (times
  the sample weights), and each layer's gradient is
  ``(A.T @ delta + alpha * W) / total_weight`` and
  ``delta.sum(axis=0) / total_weight``.

The engine's own objective (``Sequential.loss_and_gradient``) is the same
function up to rounding, except that it computes the log-losses exactly from
the logits and, with several regression targets, gives L-BFGS the loss of
the sum over the targets whose gradient it returns.

Nothing is cast, as in scikit-learn: SciPy evaluates the objective at a
vector of the starting point's dtype, so that float32 data is fitted in
float32 from a float32 starting point, with the (float64) L-BFGS state
rounded to float32 at every evaluation.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, xlogy

from .losses import loss_for_output

__all__ = ["SklearnOrderObjective"]


def _softmax(Z):
    """Row-wise softmax in place: shifted by the row maximum, divided by the row sum."""
    shifted = Z - Z.max(axis=1)[:, np.newaxis]
    np.exp(shifted, out=Z)
    Z /= Z.sum(axis=1)[:, np.newaxis]
    return Z


def _exp(Z):
    return np.exp(Z, out=Z)


def _logistic(Z):
    return expit(Z, out=Z)


def _identity(Z):
    return Z


def _clipped(P):
    """Probabilities clipped to ``[eps, 1 - eps]`` of their dtype (a new array)."""
    eps = np.finfo(P.dtype).eps
    return np.clip(P, eps, 1 - eps)


def _squared_error(Y, P, weights):
    """Half the squared error, averaged over the rows and then over the outputs."""
    return 0.5 * np.average((Y - P) ** 2, weights=weights, axis=0).mean()


def _poisson(Y, P, weights):
    """Half the Poisson deviance, averaged over the rows, summed over the outputs."""
    return np.average(xlogy(Y, Y / P) - Y + P, weights=weights, axis=0).sum()


def _binary_log_loss(Y, P, weights):
    """Cross-entropy of independent sigmoids, from the clipped probabilities."""
    P = _clipped(P)
    return -np.average(xlogy(Y, P) + xlogy(1 - Y, 1 - P), weights=weights, axis=0).sum()


def _log_loss(Y, P, weights):
    """Cross-entropy of the softmax, from the clipped probabilities."""
    return -np.average(xlogy(Y, _clipped(P)), weights=weights, axis=0).sum()


#: Output activation -> (in-place inverse link, loss of the predictions), in
#: scikit-learn's operations: the canonical pairs of ``loss_for_output``,
#: whose output error is ``prediction - y``.
_OUTPUTS = {
    "identity": (_identity, _squared_error),
    "exp": (_exp, _poisson),
    "logistic": (_logistic, _binary_log_loss),
    "softmax": (_softmax, _log_loss),
}


class SklearnOrderObjective:
    """The penalised mean loss of a dense network and its gradient, as sklearn computes them.

    Parameters
    ----------
    network : Network
        A multi-layer perceptron of dense layers only (see :meth:`supports`);
        its layer sizes and activations are read, its parameters are not.
    X : {ndarray, sparse CSR matrix} of shape (n_samples, n_features)
        Training inputs.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets: 0/1 indicators (bool or float) for classification.
    weights : ndarray of shape (n_samples,) or None
        Sample weights.
    alpha : float
        L2 penalty.

    Notes
    -----
    The vector L-BFGS works on is laid out as scikit-learn packs it, which
    need not be the network's own layout: :meth:`pack` and :meth:`unpack`
    convert between the two.
    """

    def __init__(self, network, X, Y, weights, alpha):
        if not self.supports(network):
            raise ValueError(
                "SklearnOrderObjective needs a network of dense layers, activations "
                "differentiable from their output and one of the losses "
                f"{sorted(loss_for_output(output).name for output in _OUTPUTS)}."
            )
        self.X, self.Y, self.weights, self.alpha = X, Y, weights, alpha
        self.activations = [layer.activation for layer in network.dense_layers[:-1]]
        self.output, self.loss = _OUTPUTS[network.output_activation]
        self.shapes = [layer.coef.shape for layer in network.dense_layers]
        self._total_weight = X.shape[0] if weights is None else weights.sum()
        sizes = [n_in * n_out for n_in, n_out in self.shapes]
        coef_ends = np.cumsum(sizes)
        intercept_ends = coef_ends[-1] + np.cumsum([n_out for _, n_out in self.shapes])
        self._coef_slices = [
            slice(end - size, end) for end, size in zip(coef_ends, sizes)
        ]
        self._intercept_slices = [
            slice(end - n_out, end) for end, (_, n_out) in zip(intercept_ends, self.shapes)
        ]
        self.n_params = int(intercept_ends[-1])
        # The largest arrays of an evaluation (layer outputs and errors) are
        # written into buffers kept between evaluations: the same products,
        # without allocating and faulting in fresh memory every time.
        self._buffers = {}

    @staticmethod
    def supports(network):
        """Whether ``network`` is an MLP whose objective scikit-learn defines.

        Dense layers only (no embedding, no dropout), hidden activations
        whose derivative follows from their output (as scikit-learn's
        back-propagation requires), and the canonical loss of one of
        scikit-learn's output activations (no label smoothing).
        """
        dense_layers = getattr(network, "dense_layers", None)
        output, loss = getattr(network, "output_activation", None), network.loss
        return (
            dense_layers is not None
            and list(network.layers) == list(dense_layers)
            and not any(layer.activation.needs_preactivation for layer in dense_layers)
            and output in _OUTPUTS
            and loss.name == loss_for_output(output).name
            and not getattr(loss, "label_smoothing", 0.0)
        )

    # ------------------------------------------------------------------
    # The vector L-BFGS works on
    # ------------------------------------------------------------------
    def unpack(self, flat):
        """Weight and bias views of a vector in scikit-learn's layout."""
        coefs = [flat[s].reshape(shape) for s, shape in zip(self._coef_slices, self.shapes)]
        intercepts = [flat[s] for s in self._intercept_slices]
        return coefs, intercepts

    def pack(self, network):
        """``network``'s parameters as a new vector in scikit-learn's layout and
        in the network's dtype (scikit-learn's starting point)."""
        flat = np.empty(self.n_params, dtype=network.dtype)
        coefs, intercepts = self.unpack(flat)
        for target, source in zip(coefs + intercepts, network.coefs + network.intercepts):
            target[...] = source
        return flat

    def load(self, network, flat):
        """Copy a vector in scikit-learn's layout into ``network``'s parameters."""
        coefs, intercepts = self.unpack(flat)
        for target, source in zip(network.coefs + network.intercepts, coefs + intercepts):
            target[...] = source

    # ------------------------------------------------------------------
    # Loss and gradient
    # ------------------------------------------------------------------
    def __call__(self, flat):
        """Penalised loss at ``flat`` (scikit-learn's layout) and its gradient.

        Returns
        -------
        loss : numpy floating scalar
        grad : ndarray of shape (n_params,)
            A new array in the layout of ``flat``.
        """
        coefs, intercepts = self.unpack(flat)
        layer_outputs = self._forward(coefs, intercepts)
        loss = self.loss(self.Y, layer_outputs[-1], self.weights)
        loss += (0.5 * self.alpha) * self._squared_weights(coefs) / self._total_weight
        coef_grads, intercept_grads = self._backward(coefs, layer_outputs)
        return loss, np.hstack([g.ravel() for g in coef_grads + intercept_grads])

    def _forward(self, coefs, intercepts):
        """The input, then every layer's output (the last one's through the output link)."""
        outputs = [self.X]
        last = len(coefs) - 1
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            Z = self._product(outputs[-1], W, ("output", i))
            Z += b
            if i < last:
                self.activations[i].forward(Z)
            outputs.append(Z)
        self.output(outputs[-1])
        return outputs

    def _buffer(self, key, shape, dtype):
        """A kept array of ``shape`` and ``dtype`` (made on first use)."""
        buffer = self._buffers.get(key)
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._buffers[key] = np.empty(shape, dtype)
        return buffer

    def _product(self, A, W, key):
        """``A @ W``, into the buffer ``key`` for a dense ``A``."""
        if sp.issparse(A):
            return A @ W
        out = self._buffer(key, (A.shape[0], W.shape[1]), np.result_type(A.dtype, W.dtype))
        return np.matmul(A, W, out=out)

    @staticmethod
    def _squared_weights(coefs):
        """Sum over the layers of each weight matrix's squared norm, layer by layer."""
        total = 0
        for W in coefs:
            w = W.ravel()
            total += np.dot(w, w)
        return total

    def _backward(self, coefs, outputs):
        """Each layer's weight and bias gradients, from the last layer to the first."""
        n_layers = len(coefs)
        coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
        P = outputs[-1]
        error = self._buffer("error", P.shape, np.result_type(P.dtype, self.Y.dtype))
        delta = np.subtract(P, self.Y, out=error)
        if self.weights is not None:
            delta *= self.weights.reshape(-1, 1)
        for i in range(n_layers - 1, -1, -1):
            coef_grads[i], intercept_grads[i] = self._layer_gradient(
                outputs[i], delta, coefs[i]
            )
            if i > 0:
                delta = self._product(delta, coefs[i].T, ("error", i - 1))
                self.activations[i - 1].backward(outputs[i], delta)
        return coef_grads, intercept_grads

    def _layer_gradient(self, A, delta, W):
        """One layer's weight and bias gradients from its input and its error."""
        coef_grad = A.T @ delta
        coef_grad += self.alpha * W
        coef_grad /= self._total_weight
        return coef_grad, np.sum(delta, axis=0) / self._total_weight
