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
from ._docstrings import CLASSIFIER_WORDS, fill_docstring
from ._engine import loss_for_output
from ._inputs import check_sample_weight

_ATTRIBUTES = [
    "classes_", "loss_", "best_loss_", "loss_curve_", "validation_scores_",
    "best_validation_score_", "validation_loss_curve_", "history_", "t_", "coefs_",
    "intercepts_", "n_features_in_", "is_categorical_", "categories_", "embeddings_",
    "feature_names_in_", "n_iter_", "n_layers_", "n_outputs_", "out_activation_",
]  # fmt: skip


@fill_docstring(_ATTRIBUTES, CLASSIFIER_WORDS)
class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron classifier on skdeep's NumPy engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    same parameters, defaults, fitted attributes and behaviour. The network
    minimises the cross-entropy (log-loss) of its output probabilities, with
    an L2 penalty, by L-BFGS or mini-batch stochastic gradient descent.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    MLPRegressor : Multi-layer perceptron regressor.
    sklearn.neural_network.MLPClassifier : The scikit-learn original.

    Notes
    -----
    The output activation is fused with the loss: softmax with cross-entropy
    and sigmoid with binary cross-entropy, so the output layer's error is
    ``probabilities - one_hot(y)``. The engine computes losses from the
    logits, finite for any input; L-BFGS computes scikit-learn's clipped
    log-loss of the probabilities unless ``lbfgs_objective='exact'``. All
    weights live in one flat array; see the user guide for the engine's
    design.

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
    #: As in sklearn: the classifier's one loss, readable but not a parameter.
    loss = "log_loss"

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
        lbfgs_objective="sklearn",
    ):
        self._set_params_from_init(locals())

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

    def _effective_sample_weight(self, fitted, Y, sample_weight, dtype, require_positive=True):
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
        class_weight = check_sample_weight(class_weight, len(labels), dtype, name="class_weight",
                                           require_positive=require_positive)
        if sample_weight is None:
            return class_weight
        return check_sample_weight(
            class_weight * sample_weight, len(labels), dtype, name="class_weight * sample_weight",
            require_positive=require_positive,
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


    def predict_logits(self, X):
        """Output-layer logits: the scores before the softmax or sigmoid.

        skdeep's replacement for a ``decision_function``, which
        :class:`sklearn.neural_network.MLPClassifier` does not have. Under
        that name, scikit-learn's tools (``CalibratedClassifierCV``,
        ``DecisionBoundaryDisplay(response_method="auto")``, ranking
        scorers) would use the logits where, with sklearn's MLP, they use
        ``predict_proba``; under this name they compute what they compute
        for sklearn's MLP.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        logits : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            For binary classification a 1-D array whose positive values mean
            ``classes_[1]``; otherwise one column per class (or label).
            ``predict_proba`` is their softmax (or sigmoid).

        See Also
        --------
        predict_proba : The probabilities computed from these logits.
        predict_log_proba : Their logarithm, computed from the logits.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skdeep import MLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifier(solver="lbfgs", random_state=0).fit(X, y)
        >>> clf.predict_logits(X[:2]).shape
        (2, 3)
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
            Probability of each class, in the order of ``classes_``. For
            multilabel targets, the probability of each label, each strictly
            between 0 and 1. No probability is exactly 0: the smallest is the
            smallest normal float of the dtype (about 2.2e-308 in float64),
            so that ``log(predict_proba(X))`` is ``predict_log_proba(X)``.
        """
        return self._probabilities(X, log=False)

    def predict_log_proba(self, X):
        """Log of the probability estimates, computed stably from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``:
            a log-softmax (or log-sigmoid) of the logits, equal to
            ``log(predict_proba(X))`` to rounding and always finite. It is
            floored at the log of the smallest normal float (about -708.4 in
            float64, -87.3 in float32), where ``predict_proba`` is floored.
        """
        return self._probabilities(X, log=True)

    def _probabilities(self, X, log):
        model = self._snapshot()
        logits = model._logits(X)
        if model.n_outputs_ == 1:
            # sigmoid(-z) rather than 1 - sigmoid(z): no cancellation to 0.
            logits = np.column_stack([-logits[:, 0], logits[:, 0]])
        loss = loss_for_output(model.out_activation_)
        return loss.log_probabilities(logits) if log else loss.probabilities(logits)

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
