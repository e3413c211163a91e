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
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import check_random_state

from . import _options
from ._callbacks import callback_observer
from ._categorical import category_lookups, embedding_dims
from ._compat import CallbackSupportMixin, _fit_context, with_callbacks
from ._engine import EmbeddingLayout, Network, forward_logits
from ._inputs import (
    as_training_array,
    check_sample_weight,
    encode_for_predict,
    encode_inputs,
    learn_inputs,
)
from ._training import TrainingState, VerboseLog, fit_lbfgs, fit_stochastic
from ._validation import Evaluator, TrainingData, split_validation
from ._version import __version__

#: Fitted attributes that do not end with an underscore.
_PRIVATE_FITTED = frozenset(
    {
        "_label_binarizer",
        "_optimizer_state",
        "_no_improvement_count",
        "_hidden_activations",
        "_category_lookups",
    }
)


def _is_fitted_attribute(name):
    return name in _PRIVATE_FITTED or (name.endswith("_") and not name.startswith("__"))


def _training_state(fitted, early_stopping):
    """The :class:`TrainingState` stored in a fitted estimator's attributes."""
    best_loss = fitted.get("best_loss_")
    best_score = fitted.get("best_validation_score_")
    return TrainingState(
        t=fitted.get("t_", 0),
        loss_curve=list(fitted.get("loss_curve_") or []),
        best_loss=np.inf if best_loss is None else best_loss,
        validation_scores=list(fitted.get("validation_scores_") or []) if early_stopping else None,
        best_validation_score=-np.inf if best_score is None else best_score,
        no_improvement_count=fitted.get("_no_improvement_count", 0),
        history=list(fitted.get("history_") or []),
        optimizer_state=fitted.get("_optimizer_state"),
    )


def _progress_attributes(state, solver, early_stopping):
    """sklearn's fitted attributes (and skdeep's) for a training state."""
    attributes = {"n_iter_": state.n_iter, "t_": state.t, "loss_curve_": state.loss_curve}
    if state.loss is not None:
        attributes["loss_"] = np.float64(state.loss)
    if solver == "lbfgs":
        return attributes
    validation_losses = [r["validation_loss"] for r in state.history if "validation_loss" in r]
    scores = None
    if early_stopping:
        scores = state.validation_scores
    elif validation_losses:
        scores = [r.get("validation_score", np.nan) for r in state.history]
    attributes.update(
        best_loss_=None if early_stopping else state.best_loss,
        validation_scores_=scores,
        best_validation_score_=state.best_validation_score if early_stopping else None,
        history_=state.history,
        validation_loss_curve_=validation_losses or None,
        _no_improvement_count=state.no_improvement_count,
        _optimizer_state={"solver": solver, **state.optimizer_state},
    )
    return attributes


def _network_attributes(network, copy):
    """The weights as sklearn's fitted attributes (views, or copies)."""
    take = (lambda a: a.copy()) if copy else (lambda a: a)
    attributes = {
        "coefs_": [take(W) for W in network.coefs],
        "intercepts_": [take(b) for b in network.intercepts],
        "n_layers_": network.n_layers,
        "n_outputs_": network.layer_units[-1],
        "out_activation_": network.output_activation,
        "_hidden_activations": list(network.hidden_activations),
    }
    if network.embeddings is not None:
        attributes["embeddings_"] = [take(table) for table in network.tables]
    return attributes


def _divergence_error(result, estimator):
    """The ValueError of a fit whose loss or predictions became non-finite."""
    hint = "The input data may contain large values and need to be preprocessed (e.g. "
    hint += "StandardScaler)"
    if estimator.solver != "lbfgs":
        rate = estimator.learning_rate_init
        hint += f", or the learning rate (learning_rate_init={rate}) is too large: try {rate / 10:g}"
    return ValueError(
        f"Training diverged ({result.message}); the estimator was left as it was before "
        f"this call. {hint}."
    )


class BaseMultilayerPerceptron(CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta):
    """Shared machinery of skdeep's multi-layer perceptrons.

    Warning: this class should not be used directly; use
    :class:`~skdeep.MLPClassifier` or :class:`~skdeep.MLPRegressor`.
    """

    _parameter_constraints: dict = dict(_options.MLP_CONSTRAINTS)

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        dropout=0.0,
        init="glorot",
        weight_decay=0.01,
        warmup=0,
        lr_step_size=10,
        lr_gamma=0.5,
        max_grad_norm=None,
        scoring=None,
        categorical_features=None,
        embedding_dim=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.init = init
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.lr_step_size = lr_step_size
        self.lr_gamma = lr_gamma
        self.max_grad_norm = max_grad_norm
        self.scoring = scoring
        self.categorical_features = categorical_features
        self.embedding_dim = embedding_dim

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

    def _effective_sample_weight(self, fitted, Y, sample_weight, dtype):
        """Hook: the classifier folds class weights into ``sample_weight``."""
        return sample_weight

    def _target_dtype(self, dtype):
        """Dtype of the encoded targets the engine trains on."""
        return dtype

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
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be passed together.")
        validation = None if X_val is None else (X_val, y_val, sample_weight_val)
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
        previous = self.__dict__ if continuing else {}
        data, fitted = self._prepare(X, y, sample_weight, previous, classes)
        random_state = check_random_state(self.random_state)
        network = self._network(data, fitted, previous, random_state)
        fit_args = (X, y, sample_weight)
        if self.solver == "lbfgs":
            result = self._run_lbfgs(network, data, fitted, previous, fit_args)
        else:
            result = self._run_stochastic(
                network, data, fitted, previous, incremental, validation, random_state, fit_args
            )
        if result.status == "diverged":
            raise _divergence_error(result, self)
        if result.status == "interrupted" and incremental:
            # One epoch was all this call had to do, and it was not completed.
            warnings.warn(result.message)
            return self
        early_stopping = _options.uses_early_stopping(self, incremental)
        fitted.update(_network_attributes(network, copy=False))
        fitted.update(_progress_attributes(result.state, self.solver, early_stopping))
        self._commit(fitted, fresh=not continuing)
        self._warn_about(result)
        return self

    def _prepare(self, X, y, sample_weight, previous, classes):
        """Validated, encoded training arrays, and the new input/target attributes."""
        if previous:
            X, y = encode_inputs(self, X, y, y_numeric=self._y_numeric)
            fitted = {}
            Y = self._encode_target(self, y, "y")
            dtype = previous["coefs_"][0].dtype
        else:
            X, y, fitted = learn_inputs(self, X, y, sample_weight, self._y_numeric)
            Y, target = self._learn_target(y, classes)
            fitted.update(target)
            dtype = X.dtype
        X = as_training_array(X, dtype)
        Y = np.ascontiguousarray(Y, dtype=self._target_dtype(dtype))
        sample_weight = check_sample_weight(sample_weight, X.shape[0], dtype)
        scratch = self._scratch(fitted, fresh=not previous)
        sample_weight = self._effective_sample_weight(scratch, Y, sample_weight, dtype)
        return TrainingData(X, Y, sample_weight), fitted

    def _scratch(self, fitted, fresh):
        """A copy of the estimator carrying the in-progress fitted attributes."""
        scratch = object.__new__(type(self))
        scratch.__dict__ = self._merged_state(fitted, fresh)
        return scratch

    def _merged_state(self, fitted, fresh):
        """The attribute dict after committing ``fitted``.

        A fresh fit drops every earlier fitted attribute, so that nothing of
        an earlier model (its history, its tables) survives a refit.
        """
        state = {k: v for k, v in self.__dict__.items() if not (fresh and _is_fitted_attribute(k))}
        state.update(fitted)
        return state

    def _commit(self, fitted, fresh):
        """Replace the attribute dict in one step.

        A ``predict`` running in another thread holds either the old dict or
        the new one (see :meth:`_snapshot`), never a mix of the two.
        """
        self.__dict__ = self._merged_state(fitted, fresh)

    def _network(self, data, fitted, previous, random_state):
        """A network for ``data``: freshly initialised, or with the fitted weights."""
        sizes = _options.hidden_layer_sizes(self)
        activations, dropout = _options.hidden_settings(self, len(sizes))
        layout = _embedding_layout(previous or fitted, self.embedding_dim)
        n_inputs = data.X.shape[1] if layout is None else layout.n_inputs
        output_activation = (
            previous["out_activation_"] if previous else self._output_activation(fitted)
        )
        network = Network(
            [n_inputs, *sizes, data.Y.shape[1]],
            activations,
            output_activation,
            data.X.dtype,
            dropout=dropout if self.solver != "lbfgs" else None,
            loss=self._engine_loss(),
            embeddings=layout,
        )
        if previous:
            self._load_weights(network, previous)
        else:
            network.initialize(
                random_state, _options.first_activation(self, activations), self.init
            )
            network.zero_unseen_embeddings(data.X)
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
    def _observers(self, network, fitted, previous, fit_args, max_subtasks, task_name):
        """Verbose output and sklearn callbacks for this fit."""
        observers = [VerboseLog()] if self.verbose else []

        def reconstruct(network):
            # sklearn sets these on a copy of the estimator as it was before
            # this fit; attributes of an earlier model that this one lacks
            # are set to None.
            state = {**previous, **fitted, **_network_attributes(network, copy=True)}
            state = {k: v for k, v in state.items() if _is_fitted_attribute(k)}
            stale = [k for k in self.__dict__ if _is_fitted_attribute(k) and k not in state]
            return {**dict.fromkeys(stale), **state}

        callbacks = callback_observer(self, fit_args, max_subtasks, task_name, reconstruct)
        return observers if callbacks is None else [*observers, callbacks]

    def _run_lbfgs(self, network, data, fitted, previous, fit_args):
        observers = self._observers(
            network, fitted, previous, fit_args, self.max_iter + 1, "lbfgs-iter"
        )
        state = TrainingState(t=previous.get("t_", 0))
        return fit_lbfgs(
            network, data.astuple(), _options.lbfgs_config(self), state, observers=observers
        )

    def _run_stochastic(
        self, network, data, fitted, previous, incremental, validation, random_state, fit_args
    ):
        early_stopping = _options.uses_early_stopping(self, incremental)
        resume = previous.get("_optimizer_state") if incremental else None
        optimizer = _options.optimizer_for(self, network, resume)
        evaluate = None
        if validation is not None:
            held_out = self._validation_data(validation, fitted, previous, network.dtype)
            evaluate = self._evaluator(network, fitted, previous, held_out)
        elif early_stopping:
            stratify = self._split_stratify(data.Y)
            data, held_out = split_validation(
                data, self.validation_fraction, stratify, random_state
            )
            evaluate = self._evaluator(network, fitted, previous, held_out)
        observers = self._observers(
            network, fitted, previous, fit_args, 1 if incremental else self.max_iter, "epoch"
        )
        return fit_stochastic(
            network,
            optimizer,
            _options.schedule_for(self),
            data.astuple(),
            _options.stochastic_config(self, data.X.shape[0], incremental),
            _training_state(previous, early_stopping),
            random_state,
            evaluate=evaluate,
            observers=observers,
        )

    def _validation_data(self, validation, fitted, previous, dtype):
        """Validate an explicit validation set like the training data."""
        X_val, y_val, sw_val = validation
        scratch = self._scratch(fitted, fresh=not previous)
        X_val, y_val = encode_inputs(scratch, X_val, y_val, y_numeric=self._y_numeric)
        X_val = as_training_array(X_val, dtype)
        Y_val = np.ascontiguousarray(
            self._encode_target(scratch, y_val, "y_val"), dtype=self._target_dtype(dtype)
        )
        sw_val = check_sample_weight(sw_val, X_val.shape[0], dtype)
        return TrainingData(X_val, Y_val, sw_val)

    def _evaluator(self, network, fitted, previous, held_out):
        """``evaluate(network) -> (score, loss)`` on held-out encoded data."""
        scratch = self._scratch(
            {**fitted, "out_activation_": network.output_activation,
             "n_outputs_": network.layer_units[-1]},
            fresh=not previous,
        )

        def scoring_view():
            # Predicts with the network's live weights, on encoded input.
            live = {**fitted, **_network_attributes(network, copy=False)}
            return self._scratch({**live, "_input_is_encoded": True}, fresh=not previous)

        return Evaluator(
            held_out,
            self._decode_target(scratch, held_out.Y),
            self.scoring,
            lambda logits: self._decode(scratch, logits),
            self._score_predictions,
            scoring_view,
        )

    def _warn_about(self, result):
        if result.status == "interrupted":
            warnings.warn(result.message)
        elif result.status == "max_iter" and self.solver == "lbfgs":
            warnings.warn(
                "lbfgs failed to converge after "
                f"{self.n_iter_} iteration(s) (status=1): {result.message}. "
                "Increase the number of iterations (max_iter) or scale the data.",
                ConvergenceWarning,
            )
        elif result.status == "max_iter":
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )

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
        """Output-layer logits of this (snapshot of the) model for raw ``X``."""
        if not self.__dict__.get("_input_is_encoded", False):
            X = encode_for_predict(self, X)
        layout = _embedding_layout(self.__dict__, self.embedding_dim)
        if layout is not None:
            X = layout.embed(X, self.embeddings_)
        return forward_logits(X, self.coefs_, self.intercepts_, self._hidden_activation_names())

    def _hidden_activation_names(self):
        names = self.__dict__.get("_hidden_activations")
        if names is None:  # a model assembled by hand
            names, _ = _options.hidden_settings(self, len(self.coefs_) - 1)
        return names

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        explicit_columns = self.categorical_features is not None and not isinstance(
            self.categorical_features, str
        )
        # Explicit categorical columns need dense input; "from_dtype" finds
        # none in a sparse matrix and trains on it as before.
        tags.input_tags.sparse = not explicit_columns
        tags.input_tags.categorical = self.categorical_features is not None
        return tags

    # ------------------------------------------------------------------
    # Persistence
    # ------------------------------------------------------------------
    def __getstate__(self):
        # sklearn may hand back the instance's own __dict__: copy before tagging.
        state = dict(super().__getstate__())
        state["_skdeep_version"] = __version__
        # A cache of categories_, rebuilt on loading: pickles and skops files
        # hold only arrays.
        state.pop("_category_lookups", None)
        return state

    def __setstate__(self, state):
        saved_version = state.pop("_skdeep_version", None)
        if saved_version is not None and saved_version != __version__:
            warnings.warn(
                f"Trying to unpickle estimator {type(self).__name__} from skdeep "
                f"version {saved_version} when using version {__version__}. This "
                "might lead to breaking code or invalid results. Use at your own risk.",
                UserWarning,
            )
        super().__setstate__(state)
        if getattr(self, "categories_", None) is not None:
            self._category_lookups = category_lookups(self.categories_)


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
