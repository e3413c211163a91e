"""MLPFeatures: what a network's hidden layer learned, as a transformer.

The transformer fits a skdeep estimator on the target and then outputs the
activations of one of its hidden layers (and, as an option, the learned
vectors of its categorical columns) for another model to use. The
estimators themselves keep no ``transform`` method, so that they stay
drop-ins for scikit-learn's MLPs; the forward pass is the engine's
(through the estimators' private ``_hidden_features``), not recomputed here.
"""

from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from ._base import BaseNeuralNetwork
from ._classifier import MLPClassifier
from ._compat import Interval, _check_feature_names_in, _fit_context
from ._doc_link import DocLinkMixin
from ._regressor import MLPRegressor

__all__ = ["MLPFeatures"]


def _default_estimator(y):
    """MLPRegressor for a floating-point target, MLPClassifier for labels.

    The dtype decides, not the values: a float target with whole values
    (prices, counts stored as floats) is still a quantity to regress.
    """
    if np.asarray(y).dtype.kind == "f":
        return MLPRegressor()
    return MLPClassifier()


def _n_hidden_layers(estimator):
    """Hidden layers that ``estimator``'s parameters ask for."""
    return int(np.size(np.atleast_1d(np.asarray(estimator.hidden_layer_sizes))))


def _hidden_layer_index(layer, n_hidden):
    """``layer`` as an index from 0, or a clear error when it is not a hidden layer."""
    if isinstance(layer, (bool, np.bool_)):
        # A bool passes for an int (True == 1), but it is no layer index.
        raise TypeError(
            f"layer must be the integer index of a hidden layer (0 for the first, -1 for "
            f"the last); got the boolean {layer!r}."
        )
    if n_hidden == 0:
        raise ValueError(
            "The wrapped estimator has no hidden layer (hidden_layer_sizes=()), so there "
            "are no learned features to output; give it at least one hidden layer."
        )
    if not -n_hidden <= layer < n_hidden:
        raise ValueError(
            f"layer={layer} is out of range for a network with {n_hidden} hidden "
            f"layer(s): use 0 to {n_hidden - 1} counting from the first, or -1 to "
            f"-{n_hidden} counting from the last."
        )
    return layer % n_hidden


def fitted_networks(estimator):
    """The fitted networks of ``estimator``: its members (an ensemble), or itself."""
    return list(estimator.__dict__.get("estimators_", [estimator]))


class MLPFeatures(DocLinkMixin, TransformerMixin, BaseEstimator):
    """Supervised features: the hidden-layer activations of a fitted network.

    ``fit(X, y)`` trains a clone of ``estimator`` on the target;
    ``transform(X)`` returns what hidden layer ``layer`` of that network
    computes for ``X``: features shaped by the target, for another model
    (gradient boosting, a linear model) inside a ``Pipeline``,
    ``ColumnTransformer``, ``FeatureUnion`` or stacking ensemble. With
    ``include_embeddings=True`` the learned vector of each embedded
    categorical column's category is appended.

    Parameters
    ----------
    estimator : skdeep estimator or None, default=None
        The network to train: an :class:`MLPClassifier`,
        :class:`MLPRegressor`, :class:`TabularMLPClassifier` or
        :class:`TabularMLPRegressor`, configured as you like (its
        parameters can be searched as ``estimator__<name>``). None picks
        ``MLPRegressor()`` for a floating-point target and
        ``MLPClassifier()`` for any other (integers, strings, booleans are
        class labels); pass an estimator to choose, and to set its
        ``random_state``. A tabular estimator that averages several networks
        (``n_networks``, 3 by default) outputs the features of every network
        side by side (see Notes).
    layer : int, default=-1
        Which hidden layer's activations to output: an index into the
        hidden layers (not counting the input or the output layer), from 0
        for the first; negative indices count from the last, so -1 is the
        layer just below the output. A bool is refused, not taken as 0 or 1.
    include_embeddings : bool, default=False
        Append the learned embedding of each embedded categorical column
        (``categorical_features`` of the MLPs; the columns with more than
        ``max_one_hot`` categories of the tabular estimators). Fitting
        fails if the network embedded no column.

    Attributes
    ----------
    estimator_ : skdeep estimator
        The fitted clone of ``estimator`` (or of the default).
    layer_ : int
        The hidden layer the features come from, counted from 0.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when X has string column
        names.

    See Also
    --------
    sklearn.frozen.FrozenEstimator : Keeps an already fitted transformer
        fixed inside a pipeline (the held-out fit below).
    sklearn.ensemble.StackingRegressor : Stacks out-of-fold predictions.

    Notes
    -----
    **The leakage trap.** The network learned its features from the rows it
    was fitted on, target included, so on those rows they predict the
    target better than they will on new rows. A model trained next on the
    same rows' features (``make_pipeline(MLPFeatures(...), model)`` fitted
    once) learns to trust them too much. Fit the transformer on one part
    of the training rows and the next model on another (a held-out fit:
    ``FrozenEstimator`` keeps the fitted transformer fixed in the
    pipeline), and evaluate on rows neither has seen.

    **Ensembles.** A tabular estimator with ``n_networks > 1`` trains that
    many networks, each from its own seed. Their hidden units are not
    aligned (unit 3 of one network has nothing to do with unit 3 of
    another), so averaging them would mix unrelated features; the
    transformer concatenates them instead: the ``width`` units of network 0,
    then those of network 1, and so on (then, with ``include_embeddings``,
    each network's embeddings in the same order), named
    ``network{m}_hidden{layer}_{unit}`` and ``network{m}_{column}_embedding{k}``.
    The output is ``n_networks`` times wider than one network's; pass
    ``n_networks=1`` for the features of a single network.

    Unlike ``TargetEncoder``, ``fit_transform`` does not cross-fit: the
    networks fitted on different folds would each learn their own hidden
    units in their own order, so out-of-fold features of different folds
    would not be the same columns.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.pipeline import make_pipeline
    >>> from skdeep import MLPFeatures, MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> features = make_pipeline(StandardScaler(), MLPFeatures(
    ...     MLPRegressor(hidden_layer_sizes=(16, 8), solver="lbfgs", random_state=0)))
    >>> features.fit_transform(X, y).shape
    (442, 8)
    >>> features[-1].get_feature_names_out()[:3]
    array(['hidden1_0', 'hidden1_1', 'hidden1_2'], dtype=object)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": "no_validation",  # checked in fit, with a message naming the choices
        "layer": [Interval(Integral, None, None, closed="neither")],
        "include_embeddings": ["boolean"],
    }

    def __init__(self, estimator=None, *, layer=-1, include_embeddings=False):
        self.estimator = estimator
        self.layer = layer
        self.include_embeddings = include_embeddings

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Train a clone of the estimator on ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data, in any form the wrapped estimator accepts.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target the network learns its features from.
        **fit_params : dict
            Passed to the estimator's ``fit`` (``sample_weight``, ``X_val``
            and ``y_val``, ...).

        Returns
        -------
        self : object
            The fitted transformer.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None: its features are learned from the target."
            )
        estimator = self._new_estimator(y)
        layer = _hidden_layer_index(self.layer, _n_hidden_layers(estimator))
        estimator.fit(X, y, **fit_params)
        if self.include_embeddings and not estimator._embedded_columns().size:
            raise ValueError(
                f"include_embeddings=True, but the fitted {type(estimator).__name__} "
                "embedded no categorical column. Give the MLPs categorical_features; the "
                "tabular estimators embed the columns with more than max_one_hot "
                "categories and one-hot encode the others."
            )
        # Everything is set at the end: a fit that raised left self as it was.
        fitted = {"estimator_": estimator, "layer_": layer,
                  "n_features_in_": estimator.n_features_in_}
        if hasattr(estimator, "feature_names_in_"):
            fitted["feature_names_in_"] = estimator.feature_names_in_
        stale = [name for name in vars(self) if name.endswith("_") and name not in fitted]
        for name in stale:
            delattr(self, name)
        for name, value in fitted.items():
            setattr(self, name, value)
        return self

    def _new_estimator(self, y):
        """An unfitted clone of ``estimator``, or the default for ``y``."""
        if self.estimator is None:
            return _default_estimator(y)
        if not isinstance(self.estimator, BaseNeuralNetwork):
            raise TypeError(
                "MLPFeatures wraps a skdeep estimator (MLPClassifier, MLPRegressor, "
                "TabularMLPClassifier or TabularMLPRegressor) whose hidden layers it "
                f"reads; got {self.estimator!r}."
            )
        return clone(self.estimator)

    def transform(self, X):
        """Hidden-layer activations (and embeddings) of the fitted network for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input data, in the layout of the training data.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
            The activations of hidden layer ``layer_``, then (with
            ``include_embeddings``) each embedded column's vector.
        """
        check_is_fitted(self)
        hidden = self.estimator_._hidden_features(X, self.layer_)
        if not self.include_embeddings:
            return hidden
        return np.hstack([hidden, self.estimator_._embedding_features(X)])

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        ``hidden{layer}_{unit}`` for each unit of the hidden layer, then
        ``{column}_embedding{k}`` for each component of each embedded
        column's vector; for an ensemble of tabular networks, each name
        starts with ``network{m}_`` (see Notes of the class).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, used in the embeddings' names; by default
            ``feature_names_in_``, or ``x0``, ``x1``, ... without them.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        input_names = _check_feature_names_in(self, input_features)
        networks = fitted_networks(self.estimator_)
        prefixes = [""] if len(networks) == 1 else [f"network{m}_" for m in range(len(networks))]
        names = []
        for prefix, network in zip(prefixes, networks):
            width = network.coefs_[self.layer_].shape[1]
            names += [f"{prefix}hidden{self.layer_}_{unit}" for unit in range(width)]
        if self.include_embeddings:
            columns = self.estimator_._embedded_columns()
            for prefix, network in zip(prefixes, networks):
                for column, table in zip(columns, network.embeddings_):
                    names += [f"{prefix}{input_names[column]}_embedding{k}"
                              for k in range(table.shape[1])]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The features are learned from the target.
        tags.target_tags.required = True
        # What X may hold is what the wrapped network accepts.
        inner = self.estimator if self.estimator is not None else MLPRegressor()
        tags.input_tags = get_tags(inner).input_tags
        return tags
