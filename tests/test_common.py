"""sklearn's estimator checks on both estimators, default and non-default."""

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeep import MLPClassifier, MLPRegressor

# With early stopping, the random validation split of a data set whose rows
# are repeated differs from the split of the weighted data set, so the two
# models are trained on different rows.
_EARLY_STOPPING_WEIGHTS = (
    "the early-stopping validation split draws different rows when samples "
    "are repeated than when they are weighted"
)


# skdeep's extensions, all at once, in one non-default configuration each.
_EXTENSIONS = dict(
    hidden_layer_sizes=(12, 8),
    activation=["gelu", "leaky_relu"],
    dropout=[0.1, 0.0],
    init="he",
    solver="adamw",
    learning_rate="cosine",
    warmup=2,
    max_grad_norm=5.0,
    learning_rate_init=0.01,
    max_iter=100,
)


def _estimators():
    for Estimator in (MLPClassifier, MLPRegressor):
        yield Estimator(max_iter=100)
        yield Estimator(solver="lbfgs", max_iter=100)
        yield Estimator(solver="sgd", max_iter=100)
        yield Estimator(early_stopping=True, max_iter=100)
    yield MLPClassifier(class_weight="balanced", **_EXTENSIONS)
    yield MLPRegressor(loss="huber", **_EXTENSIONS)
    yield MLPRegressor(loss="quantile", quantile=0.5, max_iter=100)
    yield MLPClassifier(solver="rmsprop", activation="selu", init="lecun", max_iter=100)
    # Column 0 embedded: the checks' continuous values become categories.
    yield MLPClassifier(categorical_features=[0], embedding_dim=2, max_iter=100)
    yield MLPRegressor(categorical_features=[-1], max_iter=100)


# check_classifiers_train compares predict_log_proba with log(predict_proba).
# On its separable data L-BFGS drives the logits past 745, where a probability
# underflows to exactly 0 and log(0) = -inf; skdeep's predict_log_proba is a
# stable log-softmax of the logits and stays finite (e.g. -800) there.
_STABLE_LOG_PROBA = (
    "predict_log_proba is computed stably from the logits and stays finite "
    "where predict_proba underflows to 0 (log(0) = -inf in the check)"
)


# Dropout draws a fresh mask for every row it sees, so a repeated row is
# dropped out differently from one row of weight 2.
_DROPOUT_WEIGHTS = (
    "dropout draws independent masks for repeated rows, so repetition and "
    "integer weights train on different noise"
)


# check_class_weight_classifiers weighs class 0 10**7 times more than the
# others and expects nearly every test prediction to be class 0. The weighted
# validation accuracy is already perfect once class 0 is predicted right, so
# early stopping (correctly) stops there, before the model drifts to
# predicting class 0 everywhere.
_EARLY_STOPPING_CLASS_WEIGHT = (
    "the class-weighted validation score saturates once the dominant class is "
    "right, so early stopping ends training before predictions collapse to it"
)


# Categorical models declare allow_nan (NaN in a categorical column is a
# missing category, embedded as the unknown one), so check_estimators_nan_inf
# is skipped; check_estimators_pickle then scatters NaN over every column,
# and a numeric column still refuses NaN.
_NAN_IN_NUMERIC_COLUMNS = (
    "NaN is accepted in categorical columns only (a missing category); the check "
    "puts NaN in numeric columns too, which are refused with a clear error"
)

# With the categorical input tag, sklearn's checks feed X rounded to the
# integers 0..7. On that data check_regressors_train's R^2 > 0.5 is out of
# reach for any MLP here: sklearn's own MLPRegressor (and skdeep's without
# embeddings) stops at R^2 0.32 after 19 epochs with the check's settings.
_ROUNDED_REGRESSION_DATA = (
    "the categorical tag makes the check round X to integers 0..7, on which "
    "sklearn's MLPRegressor also scores R^2 0.32 < 0.5"
)


def _expected_failed_checks(estimator):
    if estimator.categorical_features is not None:
        failures = {"check_estimators_pickle": _NAN_IN_NUMERIC_COLUMNS}
        if isinstance(estimator, MLPRegressor):
            failures["check_regressors_train"] = _ROUNDED_REGRESSION_DATA
        return failures
    if np.any(np.asarray(estimator.dropout) > 0):
        return {
            "check_sample_weight_equivalence_on_dense_data": _DROPOUT_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": _DROPOUT_WEIGHTS,
        }
    if isinstance(estimator, MLPClassifier) and estimator.solver == "lbfgs":
        return {"check_classifiers_train": _STABLE_LOG_PROBA}
    if estimator.early_stopping:
        failures = {
            "check_sample_weight_equivalence_on_dense_data": _EARLY_STOPPING_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": _EARLY_STOPPING_WEIGHTS,
        }
        if isinstance(estimator, MLPClassifier):
            failures["check_class_weight_classifiers"] = _EARLY_STOPPING_CLASS_WEIGHT
        return failures
    return {}


@parametrize_with_checks(
    list(_estimators()), expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
