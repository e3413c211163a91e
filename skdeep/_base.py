"""The estimator layer shared by MLPClassifier and MLPRegressor.

``fit`` and ``partial_fit`` go down the layers once: inputs are validated
and encoded (``_inputs.py``), parameters become engine objects
(``_options.py``), the training loop runs on clean arrays (``_training.py``)
and returns one result, and the fitted attributes are committed in one step.
Nothing is written on the estimator before that commit, so a call that
raises (or is interrupted) leaves it exactly as it was, and a ``predict``
running in another thread sees either the previous model or the new one.
No math happens in this module: the engine computes.
"""

import warnings
from abc import ABCMeta, abstractmethod

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import check_random_state

from . import _options
from ._callbacks import callback_observer
from ._categorical import embedding_dims
from ._compat import CallbackSupportMixin, _fit_context, with_callbacks
from ._doc_link import DocLinkMixin
from ._engine import (
    EmbeddingLayout,
    Network,
    forward_hidden,
    forward_logits,
    forward_row_bytes,
    in_row_chunks,
)
from ._fitted import (
    Draft,
    hidden_activation_names,
    is_fitted_attribute,
    network_attributes,
    progress_attributes,
    training_state,
)
from ._inputs import (
    as_training_array,
    check_same_input_settings,
    check_sample_weight,
    encode_for_predict,
    encode_inputs,
    learn_inputs,
)
from ._persistence import VersionedPickleMixin
from ._training import TrainingState, VerboseLog, fit_lbfgs, fit_stochastic
from ._validation import TrainingData, evaluator, split_validation, validation_data


def _divergence_error(result, estimator, data):
    """The ValueError of a fit whose loss or predictions became non-finite.

    It says what happened, then sklearn's words (so that code matching
    sklearn's message still matches), then what to change.
    """
    return ValueError(
        f"Training diverged: the {result.message}; the estimator was left as it was "
        "before this call. Solver produced non-finite parameter weights. The input "
        "data may contain large values and need to be preprocessed. "
        f"{_divergence_hint(estimator, data)}"
    )


def _kept_a_best_epoch(result):
    """Whether an early-stopped run that diverged had an epoch of its own worth
    keeping: one that set a new best validation score (a warm start's earlier
    best is not this call's)."""
    return result.found_best


def _divergence_recovered_warning(result, estimator, data):
    """The warning of an early-stopped fit that diverged after a good epoch."""
    return ConvergenceWarning(
        f"Training diverged in epoch {result.state.n_iter} (the {result.message}); "
        "early stopping kept the weights with the best validation score seen "
        f"({result.state.best_validation_score:.6g}). "
        f"{_divergence_hint(estimator, data)}"
    )


def _divergence_hint(estimator, data):
    """What to change, for the likely cause of a divergence.

    Each cause is named only when the settings point at it: a huge ``alpha``
    overflows the L2 penalty whatever the solver, large inputs overflow the
    activations, and only the stochastic solvers have a learning rate.
    """
    # The tabular estimators have no alpha and always a stochastic solver.
    alpha = getattr(estimator, "alpha", 0.0)
    rate = estimator.learning_rate_init
    if alpha > _HUGE_ALPHA:
        return (
            f"alpha={alpha:g} is so large that the L2 penalty overflows: use a smaller "
            "alpha (the default is 0.0001)."
        )
    hints = []
    scale = _largest_magnitude(data.X)
    if scale > _LARGE_INPUT:
        hints.append(
            f"X has values up to {scale:.3g}: standardise it (e.g. with StandardScaler)"
        )
    target_scale = _largest_magnitude(data.Y) if data.Y.dtype.kind == "f" else 0.0
    if target_scale > _LARGE_TARGET:
        hints.append(
            f"y has values up to {target_scale:.3g}: scale it (e.g. with "
            "TransformedTargetRegressor and StandardScaler)"
        )
    if getattr(estimator, "solver", None) != "lbfgs":
        hints.append(
            f"the learning rate (learning_rate_init={rate:g}) may be too large: try "
            f"{rate / 10:g}"
        )
    if not hints:
        hints.append("scale the input data (e.g. with StandardScaler)")
    return "Try this: " + "; or ".join(hints) + "."


#: Above this, alpha alone makes the penalty of ordinary weights overflow.
_HUGE_ALPHA = 1e30
#: Inputs beyond this magnitude are unscaled, the usual cause of overflow.
_LARGE_INPUT = 1e4
#: Regression targets beyond this make squared errors (and gradients) large.
_LARGE_TARGET = 1e2


def _largest_magnitude(X):
    """max |X| of dense or sparse training data (0 for empty data)."""
    values = X.data if sp.issparse(X) else X
    return float(np.max(np.abs(values))) if values.size else 0.0


def _found_no_best_epoch(result):
    """Whether epochs ran with validation scores of which none was finite."""
    best = result.state.best_validation_score
    return (
        result.status != "interrupted" and result.state.n_iter > 0
        and best is not None and not best > -np.inf
    )


def _no_finite_validation_score(result):
    """The error of an early-stopped fit whose every validation score was NaN or -inf.

    "Best" never improved, so the fit would end on its initial weights.
    """
    return ValueError(
        "Every validation score of this fit was NaN or -inf "
        f"({result.state.validation_scores[-result.state.n_iter:]!r}), so early "
        "stopping found no best epoch and the model would keep its untrained weights; "
        "the estimator was left as it was before this call. Check that the scorer "
        "can score the validation data (for example, 'roc_auc' needs both classes "
        "in the validation set), or pass another `scoring`."
    )


def _warn_about(result, estimator):
    """sklearn's warnings for a fit that did not converge or was interrupted."""
    if result.status == "interrupted":
        warnings.warn(result.message)
    elif result.status == "max_iter" and estimator.solver == "lbfgs":
        warnings.warn(
            "lbfgs failed to converge after "
            f"{estimator.n_iter_} iteration(s) (status=1): {result.message}. "
            "Increase the number of iterations (max_iter) or scale the data.",
            ConvergenceWarning,
        )
    elif result.status == "max_iter" and estimator._warn_at_max_iter:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({estimator.max_iter}) reached "
            "and the optimization hasn't converged yet.",
            ConvergenceWarning,
        )


def explicit_validation(X_val, y_val, sample_weight_val):
    """``fit``'s explicit validation data as one tuple, or None; checks they come together."""
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be passed together.")
    if sample_weight_val is not None and X_val is None:
        raise ValueError(
            "sample_weight_val was passed without X_val and y_val: it weighs the "
            "rows of an explicit validation set, so pass X_val and y_val too."
        )
    return None if X_val is None else (X_val, y_val, sample_weight_val)


class BaseNeuralNetwork(
    DocLinkMixin, VersionedPickleMixin, CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta
):
    """What every skdeep network estimator shares: the task hooks and prediction.

    :class:`BaseMultilayerPerceptron` (the drop-in MLPs) and the tabular
    estimators each own their ``fit``; a classifier or regressor supplies the
    hooks below, which both call.

    Warning: this class should not be used directly.
    """

    def _set_params_from_init(self, arguments):
        """Store the ``__init__`` arguments as attributes, unchanged.

        Each public estimator spells out its own signature (scikit-learn
        reads parameter names and defaults from it) and hands its
        ``locals()`` here; nothing is validated before ``fit``.
        """
        for name, value in arguments.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    # ------------------------------------------------------------------
    # Hooks of the classifier and the regressor. ``fitted`` is an estimator
    # carrying the fitted attributes to use (it may be a scratch copy).
    # ------------------------------------------------------------------
    @abstractmethod
    def _learn_target(self, y, classes):
        """First fit: ``(Y, target_attributes)``, the encoded 2-D target."""

    @abstractmethod
    def _encode_target(self, fitted, y, name):
        """Encode ``y`` like the training targets of ``fitted``; ``name`` in errors."""

    @abstractmethod
    def _output_activation(self, target_attributes):
        """Name of the output activation for the target of a first fit."""

    @abstractmethod
    def _decode(self, fitted, logits):
        """Turn output-layer logits into what ``predict`` returns."""

    @abstractmethod
    def _decode_target(self, fitted, Y):
        """Encoded targets back to what ``predict`` returns."""

    @abstractmethod
    def _score_predictions(self, y_true, y_pred, sample_weight):
        """The metric of ``score`` (accuracy or R^2) on decoded predictions."""

    @abstractmethod
    def _split_stratify(self, Y):
        """Labels to stratify the early-stopping split by, or None."""

    def _engine_loss(self):
        """The engine's loss object; None picks the output activation's own."""
        return None

    def _monitored_scoring(self):
        """What validation scores each epoch: ``scoring``, unless a loss needs its own."""
        return self.scoring

    def _effective_sample_weight(self, fitted, Y, sample_weight, dtype, require_positive=True):
        """Hook: the classifier folds class weights into ``sample_weight``.

        ``require_positive`` as in :func:`~skdeep._inputs.check_sample_weight`.
        """
        return sample_weight

    def _target_dtype(self, dtype):
        """Dtype of the encoded targets the engine trains on."""
        return dtype

    def _encode_with_target(self, fitted, X, y):
        """Validate and encode ``X`` and ``y`` against ``fitted``'s input description."""
        return encode_inputs(fitted, X, y, y_numeric=self._y_numeric)

    @abstractmethod
    def _logits(self, X):
        """Output-layer logits of this (snapshot of the) model for raw ``X``."""

    @abstractmethod
    def _snapshot(self):
        """This estimator as it is now, unaffected by a fit committing meanwhile."""

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data (for the tabular estimators, a raw DataFrame in
            the layout of the training data).

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (or label indicators, for multilabel targets), or
            predicted values.
        """
        model = self._snapshot()
        return self._decode(model, model._logits(X))


class BaseMultilayerPerceptron(BaseNeuralNetwork):
    """Shared machinery of skdeep's multi-layer perceptrons.

    Warning: this class should not be used directly; use
    :class:`~skdeep.MLPClassifier` or :class:`~skdeep.MLPRegressor`.
    """

    _parameter_constraints: dict = dict(_options.MLP_CONSTRAINTS)
    #: sklearn warns when the epochs run out before the loss stopped improving.
    _warn_at_max_iter = True
    #: Report (and stop on) sklearn's clipped log-loss, as its MLPs do.
    _clip_log_loss = True

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers
            in regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights. Each sample's contribution to the loss is scaled
            by its weight; the loss is the weighted mean.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
                default=None
            Explicit validation data (skdeep extension, the convention of
            sklearn's ``HistGradientBoosting*``). The stochastic solvers score
            it after every epoch (``validation_scores_``,
            ``validation_loss_curve_``, ``history_``); with
            ``early_stopping=True`` it replaces the internal
            ``validation_fraction`` split. In a ``Pipeline``, request it with
            ``set_fit_request(X_val=True, y_val=True)`` and let the pipeline
            transform it with ``Pipeline(..., transform_input=["X_val"])``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Sample weights of ``X_val``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = explicit_validation(X_val, y_val, sample_weight_val)
        return self._fit(X, y, sample_weight, incremental=False, validation=validation)

    def _fit(self, X, y, sample_weight, *, incremental, validation=None, classes=None):
        """Train, then commit every fitted attribute at once.

        Parameters
        ----------
        X, y, sample_weight : array-like
            The call's data, as the user passed it.
        incremental : bool
            True for ``partial_fit`` (one epoch, state carried over).
        validation : tuple of (X_val, y_val, sample_weight_val), default=None
            Explicit validation data.
        classes : array-like, default=None
            ``partial_fit``'s ``classes``.
        """
        continuing = "coefs_" in self.__dict__ and (self.warm_start or incremental)
        draft = Draft(self, self.__dict__ if continuing else {})
        data = self._prepare(draft, X, y, sample_weight, classes)
        random_state = check_random_state(self.random_state)
        network = self._network(draft, data, random_state)
        fit_args = (X, y, sample_weight)
        if self.solver == "lbfgs":
            result = self._run_lbfgs(draft, network, data, fit_args)
        else:
            result = self._run_stochastic(
                draft, network, data, incremental, validation, random_state, fit_args
            )
        return self._commit(draft, network, result, data, incremental)

    def _commit(self, draft, network, result, data, incremental):
        """Turn a training result into the fitted model, or raise; returns self.

        ``data`` (a :class:`~skdeep._validation.TrainingData`) only serves the
        hints of a divergence error.
        """
        early_stopping = _options.uses_early_stopping(self, incremental)
        recovered = None
        if result.status == "diverged":
            # As in sklearn: with early stopping, the best epoch's weights are
            # a model worth keeping; without a finite best, nothing is.
            if not (early_stopping and _kept_a_best_epoch(result)):
                raise _divergence_error(result, self, data)
            recovered = _divergence_recovered_warning(result, self, data)
        if early_stopping and _found_no_best_epoch(result):
            raise _no_finite_validation_score(result)
        if result.status == "interrupted" and incremental:
            # One epoch was all this call had to do, and it was not completed.
            warnings.warn(result.message)
            return self
        draft.fitted.update(network_attributes(network, copy=False))
        draft.fitted.update(progress_attributes(result.state, self.solver, early_stopping))
        # One assignment: a predict running in another thread holds either the
        # old dict or the new one (see _snapshot), never a mix of the two.
        self.__dict__ = draft.state()
        if recovered is not None:
            warnings.warn(recovered)
        else:
            _warn_about(result, self)
        return self

    def _prepare(self, draft, X, y, sample_weight, classes):
        """Validated, encoded training arrays; the draft learns the input and target."""
        if draft.fresh:
            X, y, draft.fitted = learn_inputs(self, X, y, sample_weight, self._y_numeric)
            Y, target = self._learn_target(y, classes)
            draft.fitted.update(target)
            dtype = X.dtype
        else:
            check_same_input_settings(self, X)
            X, y = self._encode_with_target(self, X, y)
            Y = self._encode_target(self, y, "y")
            dtype = draft.previous["coefs_"][0].dtype
        X = as_training_array(X, dtype)
        Y = np.ascontiguousarray(Y, dtype=self._target_dtype(dtype))
        sample_weight = check_sample_weight(sample_weight, X.shape[0], dtype)
        sample_weight = self._effective_sample_weight(
            draft.as_estimator(), Y, sample_weight, dtype
        )
        return TrainingData(X, Y, sample_weight)

    def _network(self, draft, data, random_state):
        """A network for ``data``: freshly initialised, or with the fitted weights."""
        sizes = _options.hidden_layer_sizes(self)
        activations, dropout = _options.hidden_settings(self, len(sizes))
        source = draft.previous or draft.fitted
        layout = _embedding_layout(source, self.embedding_dim)
        network = Network(
            [data.X.shape[1] if layout is None else layout.n_inputs, *sizes, data.Y.shape[1]],
            activations,
            source.get("out_activation_") or self._output_activation(draft.fitted),
            data.X.dtype,
            dropout=dropout if self.solver != "lbfgs" else None,
            loss=self._engine_loss(),
            embeddings=layout,
        )
        if network.loss.output_activation != network.output_activation:
            raise ValueError(
                f"Cannot continue training with {self._engine_loss().name!r}: the fitted "
                f"model has the {network.output_activation!r} output of another loss. "
                "Refit with warm_start=False."
            )
        if draft.fresh:
            network.initialize(
                random_state, _options.first_activation(self, activations), self.init
            )
            network.zero_unseen_embeddings(data.X)
        else:
            self._load_weights(network, draft.previous)
        return network

    def _load_weights(self, network, previous):
        try:
            network.load(
                previous["coefs_"], previous["intercepts_"], previous.get("embeddings_", ())
            )
        except ValueError as exc:
            raise ValueError(
                "Cannot continue training: the layer sizes implied by "
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} and the data "
                f"do not match the fitted coefs_ ({exc}). Refit with "
                "warm_start=False."
            ) from exc

    # ------------------------------------------------------------------
    # Solver drivers
    # ------------------------------------------------------------------
    def _observers(self, draft, fit_args, max_subtasks, task_name):
        """Verbose output and sklearn callbacks for this fit.

        ``verbose=True`` (or 1) prints sklearn's lines, which sklearn prints
        for the stochastic solvers only; ``verbose >= 2`` prints skdeep's
        richer line for every epoch or L-BFGS iteration.
        """
        detailed = self.verbose >= 2
        observers = []
        if detailed or (self.verbose and task_name == "epoch"):
            observers.append(VerboseLog(detailed=detailed))

        def reconstruct(network):
            # sklearn sets these on a copy of the estimator as it was before
            # this fit; attributes of an earlier model that this one lacks
            # are set to None.
            attributes = draft.fitted_attributes(network)
            stale = [k for k in self.__dict__ if is_fitted_attribute(k) and k not in attributes]
            return {**dict.fromkeys(stale), **attributes}

        callbacks = callback_observer(self, fit_args, max_subtasks, task_name, reconstruct)
        return observers if callbacks is None else [*observers, callbacks]

    def _run_lbfgs(self, draft, network, data, fit_args):
        observers = self._observers(draft, fit_args, self.max_iter + 1, "lbfgs-iter")
        state = TrainingState(t=draft.previous.get("t_", 0))
        return fit_lbfgs(
            network, data.astuple(), _options.lbfgs_config(self), state, observers=observers
        )

    def _run_stochastic(self, draft, network, data, incremental, validation, random_state,
                        fit_args):
        early_stopping = _options.uses_early_stopping(self, incremental)
        self._monitor_stochastic_loss(network)
        resume = draft.previous.get("_optimizer_state") if incremental else None
        optimizer = _options.optimizer_for(self, network, resume)
        evaluate = None
        if validation is not None:
            held_out = validation_data(self, draft.as_estimator(), validation, network.dtype,
                                       y=fit_args[1])
            evaluate = evaluator(self, draft, network, held_out)
        elif early_stopping:
            stratify = self._split_stratify(data.Y)
            data, held_out = split_validation(
                data, self.validation_fraction, stratify, random_state
            )
            evaluate = evaluator(self, draft, network, held_out)
        observers = self._observers(draft, fit_args, 1 if incremental else self.max_iter, "epoch")
        return fit_stochastic(
            network,
            optimizer,
            _options.schedule_for(self),
            data.astuple(),
            _options.stochastic_config(self, data.X.shape[0], incremental),
            training_state(draft.previous, early_stopping),
            random_state,
            evaluate=evaluate,
            observers=observers,
        )

    def _monitor_stochastic_loss(self, network):
        """sklearn's stochastic solvers monitor the clipped log-loss (see the
        engine's clip_eps) and the squared error averaged over outputs (same
        gradient); L-BFGS's loss follows ``lbfgs_objective`` (see
        ``_training.prepare_lbfgs_loss``)."""
        if self._clip_log_loss:
            network.loss.clip_eps = np.finfo(network.dtype).eps
            network.loss.mean_over_outputs = True

    def _check_solver(self):
        if self.solver not in _options.STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _snapshot(self):
        """This estimator as it is now, unaffected by a fit committing meanwhile.

        The returned object shares the current attribute dict (so assigning
        ``coefs_`` changes predictions as before); a fit replaces the dict
        rather than changing it, so everything one predicting call reads
        comes from one model.
        """
        snapshot = object.__new__(type(self))
        snapshot.__dict__ = self.__dict__
        if "coefs_" not in snapshot.__dict__:
            # sklearn's check_is_fitted scans every attribute name; on
            # one-row predictions that scan was half of the latency.
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )
        return snapshot

    def _logits(self, X):
        """Output-layer logits of this (snapshot of the) model for raw ``X``.

        Rows go through the network in slices that fit sklearn's
        ``working_memory``; the embedding of categories happens per slice too.
        """
        X = self._encoded_inputs(X)
        activations = hidden_activation_names(self)

        def logits(rows):
            return forward_logits(self._embedded(rows), self.coefs_, self.intercepts_,
                                  activations)

        return self._in_row_chunks(logits, X)

    def _encoded_inputs(self, X):
        # A scorer's view hands over its already-encoded validation array.
        if X is not self.__dict__.get("_encoded_input"):
            X = encode_for_predict(self, X)
        return X

    def _embedded(self, X):
        layout = _embedding_layout(self.__dict__, self.embedding_dim)
        return X if layout is None else layout.embed(X, self.embeddings_)

    # ------------------------------------------------------------------
    # Learned features, for skdeep.MLPFeatures. Private: the estimators
    # themselves get no transform, so they stay drop-ins for sklearn's.
    # ------------------------------------------------------------------
    def _hidden_features(self, X, layer):
        """Activations of hidden layer ``layer`` (a non-negative index) for raw ``X``.

        In row chunks within sklearn's ``working_memory``, as ``predict``.
        """
        model = self._snapshot()
        X = model._encoded_inputs(X)
        activations = hidden_activation_names(model)

        def hidden(rows):
            return forward_hidden(model._embedded(rows), model.coefs_, model.intercepts_,
                                  activations, layer)

        return model._in_row_chunks(hidden, X)

    def _embedding_features(self, X):
        """The learned vector of each embedded column's category, side by side.

        Shape ``(n_samples, sum of the embedding widths)``, in the order of
        :meth:`_embedded_columns`.
        """
        model = self._snapshot()
        X = model._encoded_inputs(X)
        n_numeric = model.n_features_in_ - len(model._embedded_columns())
        return model._in_row_chunks(lambda rows: np.asarray(model._embedded(rows)[:, n_numeric:]),
                                    X)

    def _in_row_chunks(self, function, X):
        """``function`` of the encoded rows ``X``, in chunks that fit ``working_memory``."""
        if X.shape[0] == 1:
            return function(X)  # one row is never split: skip sizing it (latency)
        row_bytes = forward_row_bytes(self.coefs_, np.result_type(X.dtype, self.coefs_[0].dtype))
        return in_row_chunks(function, X, _options.max_predict_rows(row_bytes, X.shape[0]))

    def _embedded_columns(self):
        """Indices of the input columns with an embedding table, in table order."""
        mask = self.__dict__.get("is_categorical_")
        return np.flatnonzero(mask) if mask is not None else np.array([], dtype=int)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        explicit_columns = self.categorical_features is not None and not isinstance(
            self.categorical_features, str
        )
        # Explicit categorical columns need dense input; "from_dtype" finds
        # none in a sparse matrix and trains on it as before.
        tags.input_tags.sparse = not explicit_columns
        tags.input_tags.categorical = self.categorical_features is not None
        # Categorical columns take strings, and NaN as a missing category.
        tags.input_tags.string = self.categorical_features is not None
        tags.input_tags.allow_nan = self.categorical_features is not None
        return tags


def _embedding_layout(fitted, embedding_dim):
    """The engine's view of the categorical columns of ``fitted`` (a dict)."""
    mask = fitted.get("is_categorical_")
    if mask is None:
        return None
    tables = fitted.get("embeddings_")
    if tables is not None:
        n_levels = [table.shape[0] for table in tables]
        dims = [table.shape[1] for table in tables]
    else:
        n_categories = [len(categories) for categories in fitted["categories_"]]
        n_levels = [n + 1 for n in n_categories]
        dims = embedding_dims(embedding_dim, n_categories)
    return EmbeddingLayout(mask.size, np.flatnonzero(mask), n_levels, dims)
