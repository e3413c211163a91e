"""Validation data: the early-stopping split, and scoring after each epoch.

The training loop asks one question after every epoch: ``evaluate(network)
-> (score, loss)`` on held-out data. This module builds that callable from
encoded arrays and the estimator's ``scoring``; it also holds out the
``validation_fraction`` split when no explicit validation set is given.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split

from ._fitted import network_attributes
from ._inputs import as_training_array, check_labels_present, check_sample_weight
from ._options import max_predict_rows

__all__ = [
    "TrainingData",
    "validation_size",
    "can_hold_out",
    "split_validation",
    "validation_rows",
    "validation_data",
    "check_target_columns",
    "check_validation_rows",
    "Evaluator",
    "evaluator",
]


@dataclass
class TrainingData:
    """Encoded arrays in the compute dtype: inputs, targets, sample weights."""

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray = None

    def astuple(self):
        """``(X, Y, sample_weight)``, the training loops' ``data``."""
        return self.X, self.Y, self.sample_weight


def can_hold_out(n_samples, validation_fraction):
    """Whether ``n_samples`` rows can give :func:`validation_size` rows and keep some."""
    n_validation = _rows_held_out(n_samples, validation_fraction)
    return 2 <= n_validation < n_samples


def _rows_held_out(n_samples, validation_fraction):
    n_validation = int(np.ceil(validation_fraction * n_samples))
    if validation_fraction > 0 and n_samples >= 3:
        n_validation = max(n_validation, 2)
    return n_validation


def validation_size(n_samples, validation_fraction):
    """Rows held out: ``validation_fraction`` of them, and at least 2.

    A score on one row says nothing, so small data sets hold out two rows
    where sklearn would refuse to fit.
    """
    n_validation = _rows_held_out(n_samples, validation_fraction)
    if not can_hold_out(n_samples, validation_fraction):
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or "
            f"the size of your dataset (got {n_samples} samples and "
            f"validation_fraction={validation_fraction})."
        )
    return n_validation


def split_validation(data, validation_fraction, stratify, random_state):
    """Hold out ``validation_fraction`` of ``data`` for early stopping.

    Stratified by ``stratify`` when possible; a plain split (from the same
    random state, so still reproducible) when the data is too small for it.

    Returns
    -------
    train, validation : TrainingData
    """
    train_rows, held_out_rows = validation_rows(data.X.shape[0], validation_fraction, stratify,
                                                random_state)
    return _rows_of(data, train_rows), _rows_of(data, held_out_rows)


def _rows_of(data, rows):
    weights = None if data.sample_weight is None else data.sample_weight[rows]
    return TrainingData(data.X[rows], data.Y[rows], weights)


def validation_rows(n_samples, validation_fraction, stratify, random_state):
    """Training and held-out row indices of the early-stopping split.

    Stratified by ``stratify`` when possible; a plain split (from the same
    random state, so still reproducible) when the data is too small for it.

    Returns
    -------
    train_rows, validation_rows : ndarray of int
        In the order sklearn's ``train_test_split`` returns them.
    """
    indices = np.arange(n_samples)
    test_size = validation_size(n_samples, validation_fraction)
    state = random_state.get_state()
    try:
        return train_test_split(
            indices, random_state=random_state, test_size=test_size, stratify=stratify
        )
    except ValueError:
        if stratify is None:
            raise
        random_state.set_state(state)
        return train_test_split(indices, random_state=random_state, test_size=test_size)


def _target_columns(y):
    """Columns of a target: 1 for a 1-D one (or a single column), else its second size."""
    shape = np.shape(y)
    return shape[1] if len(shape) == 2 else 1


def check_target_columns(y_val, y, name="y_val"):
    """``y_val`` must have as many columns (targets, or labels) as ``y``.

    A 1-D ``y`` and a single-column one are alike. Checked before encoding,
    which would broadcast one column against several, or fail in a metric
    after the first epoch.
    """
    n_val, n_train = _target_columns(y_val), _target_columns(y)
    if n_val != n_train:
        raise ValueError(
            f"{name} has {n_val} column(s) (shape {np.shape(y_val)}) but y has {n_train} "
            f"(shape {np.shape(y)}): a validation target needs the columns of y."
        )


def check_validation_rows(X_val):
    """An explicit validation set needs rows: scoring none would divide by zero."""
    shape = tuple(X_val.shape) if hasattr(X_val, "shape") else np.shape(X_val)
    if len(shape) and shape[0] == 0:
        raise ValueError(
            f"X_val has no rows (shape {shape}); an explicit validation set needs at "
            "least one. Pass X_val and y_val with rows, or neither."
        )


def validation_data(estimator, fitted, validation, dtype, y=None):
    """An explicit validation set, validated and encoded like the training data.

    Parameters
    ----------
    estimator : BaseMultilayerPerceptron
        Supplies the target encoding (``_encode_target``).
    fitted : estimator instance
        Holds the fitted input and target attributes of the model being
        trained (a draft's :meth:`~skdeep._base.Draft.as_estimator`).
    validation : tuple of (X_val, y_val, sample_weight_val)
        As given to ``fit``.
    dtype : numpy dtype
        Compute dtype.
    y : array-like, default=None
        The training target as given to ``fit``: a regressor's ``y_val``
        must have its columns (None: not checked; the classifiers check
        their labels' kind themselves).

    Returns
    -------
    TrainingData
    """
    X_val, y_val, sw_val = validation
    check_validation_rows(X_val)
    if y is not None and estimator._y_numeric:
        check_target_columns(y_val, y)
    if not estimator._y_numeric:
        check_labels_present(y_val, "y_val")
    X_val, y_val = estimator._encode_with_target(fitted, X_val, y_val)
    X_val = as_training_array(X_val, dtype)
    Y_val = estimator._encode_target(fitted, y_val, "y_val")
    Y_val = np.ascontiguousarray(Y_val, dtype=estimator._target_dtype(dtype))
    sw_val = check_sample_weight(sw_val, X_val.shape[0], dtype, name="sample_weight_val")
    return TrainingData(X_val, Y_val, sw_val)


def evaluator(estimator, draft, network, held_out):
    """The :class:`Evaluator` of ``network`` on ``held_out`` encoded data.

    Parameters
    ----------
    estimator : BaseMultilayerPerceptron
        Supplies ``scoring`` and the task's decoding and score.
    draft : Draft
        The model being trained, for decoding and for scorers.
    network : Network
        The network being trained; scorers see its live weights.
    held_out : TrainingData
        Encoded validation data.
    """
    outputs = {
        "out_activation_": network.output_activation,
        "n_outputs_": network.layer_units[-1],
    }
    decoder = draft.as_estimator(outputs)

    def scoring_view():
        # Predicts with the network's live weights. The held-out array is
        # already encoded, and only that very array skips encoding: a scorer
        # may also predict on raw data of its own.
        live = network_attributes(network, copy=False)
        return draft.as_estimator({**live, "_encoded_input": held_out.X})

    return Evaluator(
        held_out,
        estimator._decode_target(decoder, held_out.Y),
        estimator._monitored_scoring(),
        lambda logits: estimator._decode(decoder, logits),
        estimator._score_predictions,
        scoring_view,
    )


class Evaluator:
    """``evaluator(network) -> (score, loss)`` on validation data.

    Parameters
    ----------
    data : TrainingData
        Encoded validation arrays.
    y_true : array-like
        The validation targets as ``predict`` returns them (labels).
    scoring : None, "loss", str or callable
        The estimator's ``scoring``: None scores the decoded predictions
        with ``score_predictions``; ``"loss"`` uses minus the validation
        loss; anything else is a scorer for :func:`sklearn.metrics.check_scoring`.
    decode : callable
        ``decode(logits) -> predictions``.
    score_predictions : callable
        ``score_predictions(y_true, y_pred, sample_weight) -> float``.
    scoring_view : callable
        ``scoring_view() -> estimator``: a fitted estimator whose weights are
        the network's live ones and which takes ``data.X`` as already
        encoded, for scorers (built once, on first use).
    """

    def __init__(self, data, y_true, scoring, decode, score_predictions, scoring_view):
        self.data = data
        self.y_true = y_true
        self.scoring = scoring
        self.decode = decode
        self.score_predictions = score_predictions
        self._scoring_view = scoring_view
        self._scorer = None
        self._view = None

    def __call__(self, network):
        X = self.data.X
        # Weights that overflow on the held-out rows score NaN (see
        # _safe_score); that is a result to record, not a warning.
        with np.errstate(over="ignore", invalid="ignore"):
            logits = network.predict_logits(
                X, max_predict_rows(network.predict_row_bytes, X.shape[0])
            )
        return self.score_logits(network.loss, logits)

    def score_logits(self, loss_function, logits):
        """``(score, loss)`` of the validation data's ``logits`` (overwritten).

        ``loss_function`` is the network's fused loss.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            loss = loss_function.value(logits, self.data.Y, self.data.sample_weight)
        if self.scoring == "loss":
            return -loss, loss
        if self.scoring is not None:
            return self._call_scorer(), loss
        return self._safe_score(self.decode(logits)), loss

    def _call_scorer(self):
        if self._view is None:
            self._view = self._scoring_view()
            self._scorer = check_scoring(self._view, scoring=self.scoring)
        X, weights = self.data.X, self.data.sample_weight
        if weights is None:
            return float(self._scorer(self._view, X, self.y_true))
        return float(self._scorer(self._view, X, self.y_true, sample_weight=weights))

    def _safe_score(self, y_pred):
        """The score, or NaN when the predictions are not finite."""
        if np.issubdtype(np.asarray(y_pred).dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self.score_predictions(self.y_true, y_pred, self.data.sample_weight)
