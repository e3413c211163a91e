"""The network of the tabular estimators, and its data-dependent initialisation.

One :class:`TabularNetwork` holds every member of a tabular ensemble, side
by side (``members.py``): member ``i`` is the network it would be alone,
trained on its own rows. Each member's layers, in order: embeddings of the
high-cardinality categorical columns (numeric and one-hot columns pass
through), optionally piecewise-linear encodings and periodic features of
the numeric columns, a learned scale per input column, then dense layers
with a neural-tangent-style learning rate (``1 / sqrt(fan_in)`` times the
base rate, so that wide and narrow layers learn at comparable speeds), each
with its activation (optionally parametric) and dropout, and a dense output
layer.

Initialisation looks at the training data (Holzmüller et al., 2024): each
dense layer's weights are drawn from a normal distribution and rescaled so
that every unit's pre-activation has unit standard deviation on a sample of
the member's training rows, and each unit's bias puts its activation's kink
at a random convex combination of five of those rows ("he+5"), so that no
unit starts dead or saturated whatever the scale of the inputs.
"""

import numpy as np

from .members import (
    MemberDense,
    MemberEmbedding,
    MemberPeriodicEmbedding,
    MemberPiecewiseLinear,
)
from .network import Sequential

__all__ = ["TabularNetwork"]


class TabularNetwork(Sequential):
    """Embeddings, encodings, front scale, dense layers: ``n_members`` networks.

    Parameters
    ----------
    n_members : int
        Number of member networks trained side by side.
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
        periodic features (:class:`~skdeep._engine.members.MemberPeriodicEmbedding`).
    parametric_activation : bool, default=False
        Whether each hidden unit learns the strength of its activation.
    bins : tuple of two ndarray of shape (n_numeric, n_bins) or None, default=None
        Lower edges and inverse widths of the piecewise-linear encoding
        (:class:`~skdeep._engine.members.MemberPiecewiseLinear`) of the
        first ``n_numeric`` columns (after the embeddings); None: no encoding.
    bin_features : int or None, default=None
        Learned features per column of the piecewise-linear encoding; None
        passes the encodings on.
    """

    def __init__(self, n_members, n_inputs, embeddings, hidden_layer_sizes, activation,
                 n_outputs, loss, dtype, dropout=0.0, scale_lr=6.0, intercept_lr=0.1,
                 n_periodic=0, parametric_activation=False, bins=None, bin_features=None):
        k = int(n_members)
        layers = []
        width = n_inputs
        if embeddings is not None:
            layers.append(MemberEmbedding(k, embeddings))
            width = embeddings.n_inputs
        if bins is not None:
            # Appended after the input, so the numeric columns stay first.
            layers.append(MemberPiecewiseLinear(k, width, *bins, n_features=bin_features))
            width = layers[-1].n_outputs
        if n_periodic:
            layers.append(MemberPeriodicEmbedding(k, width, n_periodic))
            width = layers[-1].n_outputs
        self.dense_layers = []
        sizes = [*hidden_layer_sizes, n_outputs]
        for i, size in enumerate(sizes):
            last = i == len(sizes) - 1
            dense = MemberDense(
                k, width, size, "identity" if last else activation,
                dropout=0.0 if last else dropout,
                parametric=parametric_activation and not last,
                coef_lr_scale=1.0 / np.sqrt(width), intercept_lr_scale=intercept_lr,
                # The learned scale per input column lives in the first layer.
                input_scale_lr=scale_lr if i == 0 else None,
            )
            layers.append(dense)
            self.dense_layers.append(dense)
            width = size
        # The layer whose output is each hidden layer's activation.
        self.hidden_outputs = self.dense_layers[:-1]
        self.embeddings = embeddings
        self.output_activation = loss.output_activation
        self.hidden_activations = [activation] * len(hidden_layer_sizes)
        self.layer_units = [self.dense_layers[0].n_inputs, *sizes]
        super().__init__(layers, loss, dtype, n_members=k)

    @property
    def n_layers(self):
        """Number of dense layers' inputs and outputs (sklearn's ``n_layers_``)."""
        return len(self.layer_units)

    def initialize(self, random_states, X_samples):
        """Draw every member's parameters, the dense ones from its data.

        Parameters
        ----------
        random_states : sequence of numpy.random.RandomState
            One source of randomness per member; each member draws from its
            own in the order a network of its own would.
        X_samples : ndarray of shape (n_members, n_rows, n_inputs)
            Each member's encoded training rows (a few thousand are enough).
        """
        A = np.asarray(X_samples, dtype=self.dtype)
        for layer in self.layers:
            for member, random_state in enumerate(random_states):
                layer.initialize_member(member, random_state, A[member])
            A = layer.predict(A)

    def fitted_arrays(self, member):
        """Member ``member``'s learned arrays by name, as views (for fitted attributes)."""
        arrays = {
            "coefs": [layer.coef[member] for layer in self.dense_layers],
            "intercepts": [layer.intercept[member] for layer in self.dense_layers],
            "scale": self.dense_layers[0].scale[member],
        }
        embedding = self._layer(MemberEmbedding)
        if embedding is not None:
            arrays["tables"] = [table[member] for table in embedding.tables]
        periodic = self._layer(MemberPeriodicEmbedding)
        if periodic is not None:
            arrays["periodic"] = [periodic.frequency[member], periodic.phase[member],
                                  periodic.coef[member], periodic.intercept[member]]
        piecewise = self._layer(MemberPiecewiseLinear)
        if piecewise is not None and piecewise.n_features:
            arrays["piecewise"] = [piecewise.coef[member], piecewise.intercept[member]]
        strengths = [layer.strength[member] for layer in self.hidden_outputs if layer.parametric]
        if strengths:
            arrays["activation_strength"] = strengths
        return arrays

    def _layer(self, kind):
        """The network's layer of class ``kind``, or None."""
        return next((layer for layer in self.layers if isinstance(layer, kind)), None)

    def load_arrays(self, member, coefs, intercepts, scale, tables=(), periodic=(),
                    activation_strength=(), piecewise=()):
        """Copy one member's learned arrays (as :meth:`fitted_arrays` names them) into ``params``."""
        current = self.fitted_arrays(member)
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
