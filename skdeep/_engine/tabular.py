"""The network of the tabular estimators, and its data-dependent initialisation.

Layers, in order: embeddings of the high-cardinality categorical columns
(numeric and one-hot columns pass through), optionally piecewise-linear
encodings and periodic features of the numeric columns, a learned scale per input
column, then dense layers with a neural-tangent-style learning rate
(``1 / sqrt(fan_in)`` times the base rate, so that wide and narrow layers
learn at comparable speeds), optionally parametric activations, and
dropout, and a dense output layer.

Initialisation looks at the training data (Holzmüller et al., 2024): each
dense layer's weights are drawn from a normal distribution and rescaled so
that every unit's pre-activation has unit standard deviation on a sample of
the training rows, and each unit's bias puts its activation's kink at a
random convex combination of five training rows ("he+5"), so that no unit
starts dead or saturated whatever the scale of the inputs.
"""

import numpy as np

from .layers import (
    Dense,
    Dropout,
    Embedding,
    ParametricActivation,
    PeriodicEmbedding,
    PiecewiseLinearEncoding,
    Scale,
)
from .network import Sequential

__all__ = ["TabularNetwork"]

_BIAS_SUPPORT = 5


class TabularNetwork(Sequential):
    """Embeddings, front scale, dense layers with dropout, output layer.

    Parameters
    ----------
    n_inputs : int
        Columns of the encoded input (numeric and one-hot columns, then the
        codes of the embedded columns).
    embeddings : EmbeddingLayout or None
        The embedded columns and their tables.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer.
    activation : str
        Hidden activation, a key of ``ACTIVATIONS``.
    n_outputs : int
        Number of logits.
    loss : fused loss object
        Loss of the logits.
    dtype : numpy dtype
        Compute dtype.
    dropout : float, default=0.0
        Dropout rate after every hidden layer.
    scale_lr : float, default=6.0
        Learning-rate factor of the front scale.
    intercept_lr : float, default=0.1
        Learning-rate factor of the biases.
    n_periodic : int, default=0
        The first ``n_periodic`` columns (after the embeddings) get learned
        periodic features (:class:`~skdeep._engine.layers.PeriodicEmbedding`).
    parametric_activation : bool, default=False
        Whether each hidden unit learns the strength of its activation
        (:class:`~skdeep._engine.layers.ParametricActivation`).
    bins : tuple of two ndarray of shape (n_numeric, n_bins) or None, default=None
        Lower edges and inverse widths of the piecewise-linear encoding
        (:class:`~skdeep._engine.layers.PiecewiseLinearEncoding`) of the
        first ``n_numeric`` columns (after the embeddings); None: no encoding.
    bin_features : int or None, default=None
        Learned features per column of the piecewise-linear encoding; None
        passes the encodings on.
    """

    def __init__(self, n_inputs, embeddings, hidden_layer_sizes, activation, n_outputs, loss,
                 dtype, dropout=0.0, scale_lr=6.0, intercept_lr=0.1, n_periodic=0,
                 parametric_activation=False, bins=None, bin_features=None):
        layers = []
        width = n_inputs
        if embeddings is not None:
            layers.append(Embedding(embeddings))
            width = embeddings.n_inputs
        if bins is not None:
            # Appended after the input, so the numeric columns stay first.
            layers.append(PiecewiseLinearEncoding(width, *bins, n_features=bin_features))
            width = layers[-1].n_outputs
        if n_periodic:
            layers.append(PeriodicEmbedding(width, n_periodic))
            width = layers[-1].n_outputs
        layers.append(Scale(width, lr_scale=scale_lr))
        self.dense_layers = []
        # The layer whose output is each hidden layer's activation.
        self.hidden_outputs = []
        sizes = [*hidden_layer_sizes, n_outputs]
        for i, size in enumerate(sizes):
            last = i == len(sizes) - 1
            fused = "identity" if last or parametric_activation else activation
            dense = Dense(width, size, fused, coef_lr_scale=1.0 / np.sqrt(width),
                          intercept_lr_scale=intercept_lr)
            layers.append(dense)
            self.dense_layers.append(dense)
            if not last and parametric_activation:
                layers.append(ParametricActivation(size, activation))
            if not last:
                self.hidden_outputs.append(layers[-1])
            if not last and dropout > 0:
                layers.append(Dropout(size, dropout))
            width = size
        self.embeddings = embeddings
        self.output_activation = loss.output_activation
        self.hidden_activations = [activation] * len(hidden_layer_sizes)
        self.layer_units = [self.dense_layers[0].n_inputs, *sizes]
        super().__init__(layers, loss, dtype)

    @property
    def coefs(self):
        """Each dense layer's weights (views)."""
        return [layer.coef for layer in self.dense_layers]

    @property
    def intercepts(self):
        """Each dense layer's biases (views)."""
        return [layer.intercept for layer in self.dense_layers]

    @property
    def tables(self):
        """Embedding tables (views); empty without embedded columns."""
        return [] if self.embeddings is None else self.layers[0].tables

    @property
    def n_layers(self):
        """Number of dense layers' inputs and outputs (sklearn's ``n_layers_``)."""
        return len(self.layer_units)

    def initialize(self, random_state, X_sample):
        """Draw the parameters, the dense ones from the data (see module doc).

        Parameters
        ----------
        random_state : numpy.random.RandomState
            Source of randomness.
        X_sample : ndarray of shape (n_rows, n_inputs)
            Encoded training rows (a few thousand are enough).
        """
        A = X_sample
        for layer in self.layers:
            if isinstance(layer, Embedding):
                for table in layer.tables:
                    table[...] = random_state.normal(size=table.shape)
            elif isinstance(layer, Scale):
                layer.scale[...] = 1.0
            elif isinstance(layer, (PeriodicEmbedding, PiecewiseLinearEncoding)):
                layer.initialize(random_state)
            elif isinstance(layer, ParametricActivation):
                layer.strength[...] = 1.0
            elif isinstance(layer, Dense):
                _init_dense_from_data(layer, A, random_state)
            A = layer.predict(A)

    def fitted_arrays(self):
        """The learned arrays by name, as views (for fitted attributes)."""
        arrays = {
            "coefs": self.coefs,
            "intercepts": self.intercepts,
            "scale": next(layer for layer in self.layers if isinstance(layer, Scale)).scale,
        }
        if self.embeddings is not None:
            arrays["tables"] = self.layers[0].tables
        periodic = [layer for layer in self.layers if isinstance(layer, PeriodicEmbedding)]
        if periodic:
            layer = periodic[0]
            arrays["periodic"] = [layer.frequency, layer.phase, layer.coef, layer.intercept]
        piecewise = [layer for layer in self.layers
                     if isinstance(layer, PiecewiseLinearEncoding) and layer.n_features]
        if piecewise:
            arrays["piecewise"] = [piecewise[0].coef, piecewise[0].intercept]
        strengths = [layer.strength for layer in self.layers
                     if isinstance(layer, ParametricActivation)]
        if strengths:
            arrays["activation_strength"] = strengths
        return arrays

    def load_arrays(self, coefs, intercepts, scale, tables=(), periodic=(),
                    activation_strength=(), piecewise=()):
        """Copy learned arrays (as :meth:`fitted_arrays` names them) into ``params``."""
        current = self.fitted_arrays()
        targets = [*current["coefs"], *current["intercepts"], current["scale"],
                   *current.get("tables", []), *current.get("periodic", []),
                   *current.get("activation_strength", []), *current.get("piecewise", [])]
        sources = [*coefs, *intercepts, scale, *tables, *periodic, *activation_strength,
                   *piecewise]
        if len(targets) != len(sources):
            raise ValueError(f"Expected {len(targets)} arrays, got {len(sources)}.")
        for target, source in zip(targets, sources):
            if np.shape(source) != target.shape:
                raise ValueError(
                    f"Array shape {np.shape(source)} does not match the layer shape "
                    f"{target.shape}."
                )
            target[...] = source


def _init_dense_from_data(layer, A, random_state):
    """Unit-variance pre-activations on ``A``, and kinks at training points."""
    fan_in, fan_out = layer.coef.shape
    weights = random_state.normal(size=(fan_in, fan_out)) / np.sqrt(fan_in)
    Z = np.asarray(A, dtype=np.float64) @ weights
    spread = Z.std(axis=0)
    spread[spread == 0] = 1.0
    weights /= spread
    Z /= spread
    # he+5: minus a random convex combination of five rows' pre-activations.
    rows = random_state.randint(Z.shape[0], size=(_BIAS_SUPPORT, fan_out))
    mix = random_state.exponential(size=(_BIAS_SUPPORT, fan_out))
    mix /= mix.sum(axis=0)
    bias = -(Z[rows, np.arange(fan_out)] * mix).sum(axis=0)
    layer.coef[...] = weights
    layer.intercept[...] = bias
