"""Input validation and encoding: what goes into the network, and how.

A first ``fit`` *learns* a description of the input (sklearn's
``n_features_in_`` and ``feature_names_in_``, and with categorical columns
``is_categorical_`` and ``categories_``) and returns it as a dict of fitted
attributes; every later call (``partial_fit``, a validation set, ``predict``)
*encodes* its input against such a description. Nothing here stores anything
on an estimator: sklearn's ``validate_data`` records feature names on the
object it is given, so learning runs on a scratch copy.

The result is always one 2-D float array (or CSR matrix) in which a
categorical column holds integer codes (see ``_categorical.py``).
"""

from numbers import Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils.validation import check_array, check_X_y, validate_data

from ._categorical import (
    as_dense_2d,
    category_lookups,
    column,
    embedding_dims,
    encode,
    feature_name,
    learn_categories,
    resolve_categorical_mask,
)

__all__ = [
    "FLOAT_DTYPES",
    "INPUT_ATTRIBUTES",
    "with_state",
    "learn_inputs",
    "encode_inputs",
    "encode_for_predict",
    "check_same_input_settings",
    "check_labels_present",
    "check_sample_weight",
    "as_training_array",
]

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

#: The fitted attributes that describe the input.
INPUT_ATTRIBUTES = (
    "n_features_in_",
    "feature_names_in_",
    "is_categorical_",
    "categories_",
    "_category_lookups",
)

_CHECK_PARAMS = dict(accept_sparse=["csr", "csc"], multi_output=True, dtype=FLOAT_DTYPES)


def with_state(estimator, state):
    """A shallow copy of ``estimator`` carrying the fitted attributes ``state``.

    sklearn's validators read (and, on a first fit, write) fitted attributes
    on the object they are given; the copy keeps them off the estimator
    until its fit succeeds.
    """
    scratch = object.__new__(type(estimator))
    scratch.__dict__ = {k: v for k, v in estimator.__dict__.items() if k not in INPUT_ATTRIBUTES}
    scratch.__dict__.update(state)
    return scratch


def _recorded_state(scratch, mask, categories):
    state = {"n_features_in_": scratch.n_features_in_, "is_categorical_": mask}
    if hasattr(scratch, "feature_names_in_"):
        state["feature_names_in_"] = scratch.feature_names_in_
    if mask is not None:
        state["categories_"] = categories
        state["_category_lookups"] = category_lookups(categories)
    return state


def learn_inputs(estimator, X, y, sample_weight, y_numeric):
    """Validate a first fit's ``X`` and ``y`` and learn the input description.

    Parameters
    ----------
    estimator : estimator instance
        Supplies ``categorical_features`` and the name used in errors; not
        modified.
    X, y : array-like
        The training data as the user passed it.
    sample_weight : array-like or None
        Rows of weight 0 add no categories.
    y_numeric : bool
        Whether ``y`` must be numeric (regression).

    Returns
    -------
    X : ndarray or sparse matrix
        Validated input, categorical columns as codes.
    y : ndarray
        Validated target.
    state : dict
        Fitted attributes describing the input (see ``INPUT_ATTRIBUTES``).
    """
    scratch = with_state(estimator, {})
    if not y_numeric and not _has_number_dtype(y):
        check_labels_present(y)
    check_params = dict(_CHECK_PARAMS, y_numeric=y_numeric)
    if not _may_have_categorical_columns(estimator.categorical_features, X):
        X, y = _validate_numeric(scratch, X, y, True, check_params)
        return X, y, _recorded_state(scratch, None, None)
    X = as_dense_2d(X)
    if X.shape[1] == 0:
        # The numeric path reports empty input as sklearn does.
        X, y = _validate_numeric(scratch, X, y, True, check_params)
        return X, y, _recorded_state(scratch, None, None)
    validate_data(scratch, X, skip_check_array=True, reset=True)
    feature_names = getattr(scratch, "feature_names_in_", None)
    mask = resolve_categorical_mask(estimator.categorical_features, X, feature_names)
    if mask is None:
        X, y = _validate_numeric(scratch, X, y, True, check_params)
        return X, y, _recorded_state(scratch, None, None)
    rows = _rows_with_weight(X, sample_weight)
    categories = [
        learn_categories(column(rows, j), feature_name(feature_names, j))
        for j in np.flatnonzero(mask)
    ]
    state = _recorded_state(scratch, mask, categories)
    X = _encode(estimator, X, mask, state["_category_lookups"], feature_names)
    X, y = check_X_y(X, y, estimator=estimator, **check_params)
    return X, y, state


def encode_inputs(fitted, X, y=None, y_numeric=False):
    """Validate ``X`` (and ``y``) against a fitted input description.

    Parameters
    ----------
    fitted : estimator instance
        Holds the fitted input attributes (the estimator itself, or a
        :func:`with_state` copy during a first fit); not modified.
    X : array-like
        Input in the fitted layout.
    y : array-like, default=None
        Target to validate with ``X``; None for ``X`` alone.
    y_numeric : bool, default=False
        Whether ``y`` must be numeric.

    Returns
    -------
    X or (X, y)
    """
    if y is not None and not y_numeric and not _has_number_dtype(y):
        check_labels_present(y)
    mask = getattr(fitted, "is_categorical_", None)
    if mask is None:
        if y is None:
            return validate_data(fitted, X, reset=False, accept_sparse=["csr", "csc"],
                                 dtype=FLOAT_DTYPES)
        return _validate_numeric(fitted, X, y, False, dict(_CHECK_PARAMS, y_numeric=y_numeric))
    X = as_dense_2d(X)
    validate_data(fitted, X, skip_check_array=True, reset=False)
    X = _encode(fitted, X, mask, _lookups(fitted), getattr(fitted, "feature_names_in_", None))
    if y is None:
        return X
    return check_X_y(X, y, estimator=fitted, **dict(_CHECK_PARAMS, y_numeric=y_numeric))


def encode_for_predict(fitted, X):
    """``X`` ready for the forward pass, with a lean path for clean arrays."""
    if getattr(fitted, "is_categorical_", None) is None and _is_clean_array(fitted, X):
        return X
    return encode_inputs(fitted, X)


def check_same_input_settings(fitted, X):
    """Refuse to continue training when the categorical settings changed.

    ``categorical_features`` and ``embedding_dim`` shape the network's input
    layer; warm start and ``partial_fit`` keep the fitted tables, so a
    changed setting cannot take effect and is an error rather than ignored.
    """
    mask = getattr(fitted, "is_categorical_", None)
    wanted = None
    if _may_have_categorical_columns(fitted.categorical_features, X):
        X = as_dense_2d(X)
        if X.ndim != 2 or X.shape[1] != fitted.n_features_in_:
            return  # validation reports the wrong number of features
        names = getattr(fitted, "feature_names_in_", None)
        wanted = resolve_categorical_mask(fitted.categorical_features, X, names)
    if (mask is None) != (wanted is None) or (
        mask is not None and not np.array_equal(mask, wanted)
    ):
        raise ValueError(
            "Cannot continue training: categorical_features="
            f"{fitted.categorical_features!r} selects other columns than the fitted "
            f"model's (is_categorical_={mask!r}). Refit with warm_start=False, or use "
            "a new estimator for partial_fit."
        )
    if mask is not None:
        n_categories = [len(categories) for categories in fitted.categories_]
        dims = embedding_dims(fitted.embedding_dim, n_categories)
        fitted_dims = [table.shape[1] for table in fitted.embeddings_]
        if dims != fitted_dims:
            raise ValueError(
                f"Cannot continue training: embedding_dim={fitted.embedding_dim!r} gives "
                f"widths {dims}, but the fitted tables have widths {fitted_dims}. Refit "
                "with warm_start=False, or use a new estimator for partial_fit."
            )


def _may_have_categorical_columns(categorical_features, X):
    """Whether ``categorical_features`` can select any column of ``X``."""
    if categorical_features is None:
        return False
    if isinstance(categorical_features, str):  # "from_dtype" reads a DataFrame's dtypes
        return isinstance(X, pd.DataFrame)
    return True


def _validate_numeric(scratch, X, y, reset, check_params):
    """sklearn's validation, with a hint when X has categorical columns."""
    try:
        return validate_data(scratch, X, y, reset=reset, **check_params)
    except ValueError as exc:
        if "convert" not in str(exc):
            raise
        if scratch.categorical_features == "from_dtype" and not isinstance(X, pd.DataFrame):
            raise ValueError(
                f"X has non-numeric values ({exc}), but categorical_features="
                f"'from_dtype' reads the column dtypes of a pandas DataFrame and X is a "
                f"{type(X).__module__.split('.')[0]}.{type(X).__name__}: pass a pandas "
                "DataFrame (a Dask DataFrame: "
                "compute it first), or name the categorical columns by index, e.g. "
                "categorical_features=[0, 2]."
            ) from exc
        dtypes = getattr(X, "dtypes", None)
        if dtypes is None:
            raise
        non_numeric = [
            str(name)
            for name, dtype in dtypes.items()
            if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)
        ]
        if not non_numeric:
            raise
        raise ValueError(
            f"X has categorical or string columns {non_numeric} ({exc}): pass "
            "categorical_features='from_dtype' to learn an embedding for each, "
            "or encode them before this estimator."
        ) from exc


def _encode(fitted, X, mask, lookups, feature_names):
    """``encode``, with errors that name the numeric columns at fault.

    A string in a column that ``categorical_features`` leaves out, or a NaN
    in a numeric column, fails sklearn's float check, whose message names
    neither the column nor what is supported.
    """
    name = type(fitted).__name__
    try:
        return encode(X, mask, lookups, name, feature_names)
    except ValueError as exc:
        message = str(exc)
        if "convert" in message:
            columns = _failing_columns(X, mask, feature_names, _is_non_numeric)
            raise ValueError(
                f"X has non-numeric values in column(s) {columns}, which "
                f"categorical_features={fitted.categorical_features!r} does not list "
                f"({exc}): add them to categorical_features, or encode them before "
                "this estimator."
            ) from exc
        if "NaN" in message:
            columns = _failing_columns(X, mask, feature_names, _has_nan)
            raise ValueError(
                f"Input X contains NaN in the numeric column(s) {columns}. With "
                f"categorical_features, {name} supports missing values in the "
                "categorical columns only (they are embedded as an unknown category); "
                "impute the numeric columns first (e.g. with sklearn.impute.SimpleImputer)."
            ) from exc
        raise


def _failing_columns(X, mask, feature_names, fails):
    """Names (or indices) of the numeric columns of X for which ``fails(values)``."""
    columns = []
    for j in np.flatnonzero(~mask):
        values = np.asarray(column(X, j))
        if fails(values):
            columns.append(str(feature_names[j]) if feature_names is not None else int(j))
    return columns


def _is_non_numeric(values):
    try:
        values.astype(np.float64)
    except (TypeError, ValueError):
        return True
    return False


def _has_nan(values):
    try:
        return bool(np.isnan(values.astype(np.float64)).any())
    except (TypeError, ValueError):
        return False


def _rows_with_weight(X, sample_weight):
    """The rows of X whose sample weight is not zero.

    A row of weight 0 must not change the model, so its categories are not
    learned either: fitting with zero weights equals fitting without those
    rows. Weights are validated (with their errors) later.
    """
    if sample_weight is None:
        return X
    try:
        keep = np.asarray(sample_weight, dtype=float) != 0
    except (TypeError, ValueError):
        return X
    if keep.shape != (X.shape[0],) or keep.all():
        return X
    return X.iloc[keep] if hasattr(X, "iloc") else X[keep]


def _lookups(fitted):
    """Lookups of ``categories_``: built at fit and on unpickling, never
    stored by a predicting call (which must leave the estimator unchanged)."""
    lookups = fitted.__dict__.get("_category_lookups")
    if lookups is None or len(lookups) != len(fitted.categories_):
        return category_lookups(fitted.categories_)
    return lookups


def _is_clean_array(fitted, X):
    """Whether ``X`` can skip full validation: the lean predict path.

    A plain 2-D float ndarray with the fitted number of columns, finite
    values and a model fitted without feature names is exactly what
    ``validate_data`` would return unchanged; checking that directly costs a
    few microseconds instead of tens, which dominates one-row latency.
    Anything else takes the full path, with its errors and warnings.
    """
    if not (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in FLOAT_DTYPES
        and X.shape[0] > 0
        and X.shape[1] == getattr(fitted, "n_features_in_", -1)
        and not hasattr(fitted, "feature_names_in_")
    ):
        return False
    if get_config()["assume_finite"]:
        return True
    if X.size <= 4096:
        return bool(np.isfinite(X).all())
    # A NaN or infinity anywhere makes the sum non-finite; a finite sum
    # proves all values finite, without a boolean copy of a large X. (Huge
    # finite values may overflow the sum: they take the full path.)
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(X.sum()))


def check_labels_present(y, name="y"):
    """Every row needs a class label: NaN, None and ``pd.NA`` in ``y`` are refused by name.

    sklearn's own check compares object labels with themselves, which
    ``pd.NA`` cannot answer ("boolean value of NA is ambiguous"), and a
    None among strings fails in sorting.
    """
    if y is None:
        return
    values = y if hasattr(y, "dtype") else np.asarray(y, dtype=object)
    if bool(np.asarray(pd.isna(values)).any()):
        raise ValueError(
            f"Input {name} contains missing values (NaN, None or pd.NA); every row "
            "needs a class label."
        )


def _has_number_dtype(y):
    """A NumPy array (or Series) of numbers: sklearn's checks name its NaN themselves."""
    dtype = getattr(y, "dtype", None)
    return isinstance(dtype, np.dtype) and dtype.kind in "biuf"


def check_sample_weight(sample_weight, n_samples, dtype, name="sample_weight",
                        require_positive=True):
    """Validate ``sample_weight``: a finite, non-negative 1-D array or None.

    The checks run in float64, before the cast to the compute ``dtype``, so
    that their messages describe the values given; weights that float32
    cannot hold are refused rather than rounded to 0 or infinity. Returns a
    copy in ``dtype``: training never touches, nor aliases, the caller's
    array. ``require_positive=False`` accepts weights that are all zero: a
    part of the data (a Dask block) may be, when the whole is not.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, Real) or (
        isinstance(sample_weight, np.ndarray) and sample_weight.ndim == 0
    ):
        value = float(sample_weight)
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"A scalar {name} must be finite and positive, got {sample_weight}.")
        sample_weight = np.full(n_samples, value)
    weights = check_array(sample_weight, ensure_2d=False, dtype=np.float64, input_name=name)
    if weights.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {weights.shape}.")
    if weights.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {weights.shape[0]} entries but X has {n_samples} samples; "
            "pass one weight per sample."
        )
    if np.any(weights < 0):
        raise ValueError(f"{name} must be non-negative; found negative weights.")
    if require_positive and not weights.sum() > 0:
        raise ValueError(f"{name} must contain at least one positive value; all are zero.")
    with np.errstate(over="ignore", under="ignore"):  # detected just below
        cast = np.array(weights, dtype=dtype, copy=True)
    if not (np.isfinite(cast).all() and np.array_equal(cast > 0, weights > 0)):
        raise ValueError(
            f"{name} has values ({weights[weights > 0].min():g} to {weights.max():g}) that "
            f"{np.dtype(dtype).name} cannot represent. Only their ratios matter (the loss is "
            "their weighted mean): rescale them, e.g. divide them by their largest value. "
            "MLPClassifier and MLPRegressor can also train in float64 (pass X as float64); "
            "the tabular estimators always train in float32."
        )
    return cast


def as_training_array(X, dtype):
    """Contiguous dense or CSR data in the compute dtype (copied if needed)."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=dtype)
    return np.ascontiguousarray(X, dtype=dtype)
