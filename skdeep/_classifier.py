"""MLPClassifier: labels, probabilities and partial_fit for classification."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ._base import BaseMultilayerPerceptron
from ._compat import StrOptions, _fit_context, with_callbacks
from ._engine import loss_for_output
from ._inputs import check_sample_weight


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron classifier on skdeep's NumPy engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    same parameters, defaults, fitted attributes and behaviour. The network
    minimises the cross-entropy (log-loss) of its output probabilities, with
    an L2 penalty, by L-BFGS or mini-batch stochastic gradient descent.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
        ``()`` gives a network with no hidden layer: a (multinomial) logistic
        regression, one neuron per output.
    activation : str or sequence of str, default='relu'
        One of ``'identity'``, ``'logistic'``, ``'tanh'``, ``'relu'`` (as in
        sklearn) or, as skdeep extensions, ``'leaky_relu'``, ``'elu'``,
        ``'selu'``, ``'softplus'``, ``'gelu'``; or a sequence with one name
        per hidden layer.
    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop'}, default='adam'
        ``'adamw'`` (Adam with decoupled ``weight_decay``) and ``'rmsprop'``
        (decay rate ``beta_2``) are skdeep extensions.
        Weight optimisation: quasi-Newton L-BFGS (good for small data), plain
        stochastic gradient descent with momentum, or Adam.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha / 2 * ||W||**2``, divided by the
        (weighted) number of samples in the batch, as in sklearn.
    batch_size : int or "auto", default="auto"
        Mini-batch size for the stochastic solvers; "auto" is
        ``min(200, n_samples)``. Ignored by L-BFGS.
    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine', 'step'}, \
            default='constant'
        Learning-rate schedule. As in sklearn, ``'adam'`` ignores
        ``'invscaling'`` and ``'adaptive'``; every other stochastic solver
        follows every schedule. ``'cosine'`` anneals to 0 over ``max_iter``
        epochs and ``'step'`` multiplies by ``lr_gamma`` every
        ``lr_step_size`` epochs, both after ``warmup`` epochs (skdeep
        extensions). ``'invscaling'`` uses
        ``learning_rate_init / pow(t, power_t)`` with ``t`` the number of
        samples seen; ``'adaptive'`` divides the rate by 5 each time
        ``n_iter_no_change`` epochs fail to improve by ``tol``.
    learning_rate_init : float, default=0.001
        Initial step size of the stochastic solvers.
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (L-BFGS).
    shuffle : bool, default=True
        Whether to shuffle the samples at every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the early-stopping split.
        Pass an int for reproducible (bit-identical) results.
    tol : float, default=1e-4
        Tolerance: training stops when the loss (or validation score) does
        not improve by at least ``tol`` for ``n_iter_no_change`` epochs.
    verbose : bool, default=False
        Whether to print one progress line per epoch.
    warm_start : bool, default=False
        Reuse the previous solution as initialisation when ``fit`` is called.
    momentum : float, default=0.9
        Momentum of the ``'sgd'`` solver, in ``[0, 1]``.
    nesterovs_momentum : bool, default=True
        Whether the ``'sgd'`` solver uses Nesterov's momentum.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and
        stop when its accuracy stops improving; the best weights are kept.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Number of epochs without ``tol`` improvement before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of the L-BFGS solver.
    dropout : float or sequence of float, default=0.0
        Dropout rate of the hidden layers, one value for all or one per
        hidden layer (skdeep extension). Inverted dropout: during training
        each hidden unit is zeroed with this probability and the others are
        scaled by ``1 / (1 - rate)``; prediction is unaffected. Reproducible
        under ``random_state``. Ignored by L-BFGS.
    init : {'glorot', 'he', 'lecun'}, default='glorot'
        Weight initialisation (skdeep extension): sklearn's uniform Glorot
        rule, He (``sqrt(6 / fan_in)``, for the ReLU family) or LeCun
        (``sqrt(3 / fan_in)``, for SELU).
    weight_decay : float, default=0.01
        Decoupled weight decay of the ``'adamw'`` solver (skdeep extension).
    warmup : int, default=0
        Epochs of linear learning-rate warm-up for the ``'cosine'`` and
        ``'step'`` schedules (skdeep extension).
    lr_step_size : int, default=10
        Epochs between decays of the ``'step'`` schedule.
    lr_gamma : float, default=0.5
        Factor applied at each decay of the ``'step'`` schedule.
    max_grad_norm : float or None, default=None
        Clip the gradient's global Euclidean norm to this value before each
        stochastic update (skdeep extension); None disables clipping.
    scoring : str, callable or None, default=None
        What early stopping monitors on the validation data (skdeep
        extension, as in ``HistGradientBoosting*``): None is sklearn's
        choice (accuracy for the classifier, R^2 for the regressor),
        ``'loss'`` the validation loss, and any other value a scorer name or
        callable accepted by :func:`sklearn.metrics.check_scoring`.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes (skdeep extension), multiplied into
        ``sample_weight`` as sklearn's linear models do. ``'balanced'`` uses
        ``n_samples / (n_classes * np.bincount(y))``.
    categorical_features : {"from_dtype"}, array-like of str, int or bool, \
            or None, default=None
        Columns to learn an embedding for (skdeep extension; the convention
        of sklearn's ``HistGradientBoosting*``). None: every column is
        numeric, as in sklearn. ``"from_dtype"``: the pandas ``category``,
        ``object`` and ``string`` columns of a DataFrame (an array or sparse
        matrix has none). Or the categorical columns by name, by index, or as
        a boolean mask. Each categorical column's categories (the declared
        categories of a ``category`` column, else the distinct non-missing
        values) are fixed at the first ``fit`` or ``partial_fit``; each
        becomes a learned vector, and categories unseen then, ``NaN``,
        ``None`` and ``pd.NA`` share a reserved "unknown" vector. At most
        1,000,000 categories per column. See the user guide's
        "Categorical columns" page.
    embedding_dim : int, callable or None, default=None
        Length of each category's vector: one int for every categorical
        column, a callable mapping a column's number of categories to its
        length, or None for ``min(50, round(1.6 * n_categories ** 0.56))``
        (2 categories: 2; 10: 6; 100: 21; 1,000 and more: 50).

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels.
    loss_ : float
        Loss at the end of training: the mean cross-entropy plus the penalty.
    best_loss_ : float or None
        Lowest training loss reached by the stochastic solvers; None with
        ``early_stopping=True``.
    loss_curve_ : list of float
        Training loss after each epoch (each iteration for L-BFGS).
    validation_scores_ : list of float or None
        Accuracy on the held-out set after each epoch, with early stopping.
    best_validation_score_ : float or None
        Best validation accuracy, with early stopping.
    validation_loss_curve_ : list of float or None
        Loss on the validation data after each epoch, when there is
        validation data (skdeep extension).
    history_ : list of dict
        One record per epoch of the stochastic solvers (skdeep extension):
        ``epoch``, ``loss``, ``learning_rate``, ``time`` (seconds) and, with
        validation data, ``validation_score`` and ``validation_loss``.
        ``loss_curve_`` and ``validation_scores_`` are its columns.
    t_ : int
        Number of training samples seen by the stochastic solvers.
    coefs_ : list of ndarray
        The ith element is the weight matrix between layer i and i + 1.
        Assigning new matrices changes the model's predictions. With
        categorical columns, the rows of ``coefs_[0]`` are the numeric
        columns in order, then each embedding's components.
    intercepts_ : list of ndarray
        The ith element is the bias vector of layer i + 1.
    n_features_in_ : int
        Number of features seen during fit.
    is_categorical_ : ndarray of bool of shape (n_features_in_,) or None
        Which input columns were embedded; None when none were.
    categories_ : list of ndarray
        Known categories of each categorical column, in column order. Only
        with categorical columns.
    embeddings_ : list of ndarray of shape (n_categories + 1, dim)
        The learned embedding table of each categorical column (row ``k``
        for ``categories_[j][k - 1]``, row 0 for unknown and missing
        values), trained with the weights and penalised by ``alpha`` (and
        ``weight_decay``) like them. Only with categorical columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    n_iter_ : int
        Number of epochs (iterations for L-BFGS) run by the last call.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output neurons.
    out_activation_ : str
        Output activation: ``'softmax'`` (multiclass) or ``'logistic'``
        (binary and multilabel).

    See Also
    --------
    MLPRegressor : Multi-layer perceptron regressor.
    sklearn.neural_network.MLPClassifier : The scikit-learn original.

    Notes
    -----
    The output activation is fused with the loss: softmax with cross-entropy
    and sigmoid with binary cross-entropy, so the output layer's error is
    ``probabilities - one_hot(y)``. Losses are computed from the logits and
    stay finite for any input. All weights live in one flat array; see the
    user guide for the engine's design.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.model_selection import train_test_split
    >>> from skdeep import MLPClassifier
    >>> X, y = make_classification(n_samples=100, random_state=1)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y,
    ...                                                     random_state=1)
    >>> clf = MLPClassifier(random_state=1, max_iter=300).fit(X_train, y_train)
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 2)
    >>> clf.predict(X_test[:5])
    array([...])
    >>> clf.score(X_test, y_test) > 0.75
    True
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _y_numeric = False

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        init="glorot",
        weight_decay=0.01,
        warmup=0,
        lr_step_size=10,
        lr_gamma=0.5,
        max_grad_norm=None,
        scoring=None,
        class_weight=None,
        categorical_features=None,
        embedding_dim=None,
    ):
        self.class_weight = class_weight
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            init=init,
            weight_decay=weight_decay,
            warmup=warmup,
            lr_step_size=lr_step_size,
            lr_gamma=lr_gamma,
            max_grad_norm=max_grad_norm,
            scoring=scoring,
            categorical_features=categorical_features,
            embedding_dim=embedding_dim,
        )

    # ------------------------------------------------------------------
    # Hooks of the base class
    # ------------------------------------------------------------------
    def _learn_target(self, y, classes):
        y = _labels(y)
        if classes is None:
            binarizer = LabelBinarizer().fit(y)
        else:  # the first partial_fit: every class, whether y has it or not
            binarizer = LabelBinarizer().fit(
                y if type_of_target(y).startswith("multilabel") else classes
            )
            _check_subset_of_classes(y, binarizer.classes_)
        attributes = {"classes_": binarizer.classes_, "_label_binarizer": binarizer}
        return binarizer.transform(y), attributes

    def _encode_target(self, fitted, y, name):
        y = _labels(y)
        binarizer = fitted._label_binarizer
        if name == "y":
            self._check_known_classes(fitted, y)
        else:
            _check_validation_labels(y, binarizer, name)
        return binarizer.transform(y)

    def _check_known_classes(self, fitted, y):
        classes = unique_labels(y)
        if self.warm_start:
            if set(classes) != set(fitted.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in "
                    f"the previous call to fit. Previously got {fitted.classes_}, `y` "
                    f"has {classes}"
                )
        else:
            _check_subset_of_classes(y, fitted.classes_)

    def _target_dtype(self, dtype):
        # One-hot targets as booleans take an eighth of the memory of floats;
        # the fused losses read them directly.
        return bool

    def _effective_sample_weight(self, fitted, Y, sample_weight, dtype):
        """``sample_weight`` times the weight of each sample's class."""
        if self.class_weight is None:
            return sample_weight
        if fitted._label_binarizer.y_type_.startswith("multilabel"):
            # One output per label: sklearn weighs each column separately.
            labels = Y.astype(int)
        else:
            class_index = Y[:, 0].astype(int) if Y.shape[1] == 1 else Y.argmax(axis=1)
            labels = np.asarray(fitted.classes_)[class_index]
        class_weight = compute_sample_weight(self.class_weight, labels)
        class_weight = check_sample_weight(class_weight, len(labels), dtype, name="class_weight")
        if sample_weight is None:
            return class_weight
        return check_sample_weight(
            class_weight * sample_weight, len(labels), dtype, name="class_weight * sample_weight"
        )

    def _output_activation(self, target_attributes):
        if target_attributes["_label_binarizer"].y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    def _decode(self, fitted, logits):
        # The label binarizer thresholds probabilities at 0.5 (or takes the
        # argmax), so decoding through it keeps sklearn's tie conventions.
        probabilities = loss_for_output(fitted.out_activation_).inverse_link(logits)
        if fitted.n_outputs_ == 1:
            probabilities = probabilities.ravel()
        return fitted._label_binarizer.inverse_transform(probabilities)

    def _decode_target(self, fitted, Y):
        return fitted._label_binarizer.inverse_transform(Y)

    def _score_predictions(self, y_true, y_pred, sample_weight):
        return accuracy_score(y_true, y_pred, sample_weight=sample_weight)

    def _split_stratify(self, Y):
        # As in sklearn, only single-output (binary) targets are stratified.
        return Y if Y.shape[1] == 1 else None

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------
    @available_if(lambda est: est._check_solver())
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit. Required for the first
            call, ignored afterwards; ``y`` need not contain every class.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first_call = getattr(self, "classes_", None) is None
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if not first_call and classes is not None and not np.array_equal(
            np.unique(classes), np.asarray(self.classes_)
        ):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on the first call to "
                f"partial_fit, which was: {self.classes_!r}"
            )
        return self._fit(
            X, y, sample_weight, incremental=True, classes=classes if first_call else None
        )

    def predict(self, X):
        """Predict class labels (or label indicators, for multilabel y).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        model = self._snapshot()
        return self._decode(model, model._logits(X))

    def decision_function(self, X):
        """Output-layer logits: the scores before the softmax or sigmoid.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            For binary classification a 1-D array whose positive values mean
            ``classes_[1]``; otherwise one column per class (or label).
        """
        model = self._snapshot()
        logits = model._logits(X)
        return logits[:, 0] if model.n_outputs_ == 1 else logits

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        model = self._snapshot()
        logits = model._logits(X)
        if model.n_outputs_ == 1:
            # sigmoid(-z) rather than 1 - sigmoid(z): no cancellation to 0.
            logits = np.column_stack([-logits[:, 0], logits[:, 0]])
        return loss_for_output(model.out_activation_).inverse_link(logits)

    def predict_log_proba(self, X):
        """Log of the probability estimates, computed stably from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
            Equal to ``log(predict_proba(X))`` but finite where the
            probability underflows to 0.
        """
        model = self._snapshot()
        logits = model._logits(X)
        loss = loss_for_output(model.out_activation_)
        if model.n_outputs_ == 1:
            z = logits[:, 0]
            return np.column_stack([loss.log_predict(-z), loss.log_predict(z)])
        return loss.log_predict(logits)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _labels(y):
    """``y`` as 1-D labels, or a 2-D indicator matrix (multilabel)."""
    y = np.asarray(y) if not hasattr(y, "shape") else y
    if y.ndim == 2 and y.shape[1] == 1:
        return column_or_1d(y, warn=True)
    return y


def _check_subset_of_classes(y, classes):
    labels = unique_labels(y)
    if len(np.setdiff1d(labels, classes, assume_unique=True)):
        raise ValueError(
            f"`y` has classes not in `self.classes_`. `self.classes_` has "
            f"{classes}. 'y' has {labels}."
        )


def _check_validation_labels(y_val, binarizer, name):
    """``y_val`` must have the kind of target ``y`` had, and only its classes."""
    multilabel = binarizer.y_type_.startswith("multilabel")
    if multilabel != type_of_target(y_val).startswith("multilabel"):
        shape = f"of shape (n_val, {len(binarizer.classes_)})" if multilabel else "1-D"
        raise ValueError(
            f"{name} must be {'a label-indicator matrix' if multilabel else 'labels'} "
            f"{shape}, like y; got {type_of_target(y_val)} targets of shape "
            f"{np.shape(y_val)}."
        )
    if multilabel:
        if np.shape(y_val)[1] != len(binarizer.classes_):
            raise ValueError(
                f"{name} has {np.shape(y_val)[1]} label columns but y had "
                f"{len(binarizer.classes_)}."
            )
        return
    unknown = np.setdiff1d(unique_labels(y_val), binarizer.classes_)
    if len(unknown):
        raise ValueError(f"{name} has classes not seen in y: {unknown}.")
