"""Categorical columns of the input: which they are, their categories, codes.

This is the estimator-side half of entity embeddings. It decides which input
columns are categorical (``categorical_features``), learns each one's
categories, and turns raw inputs into one float array in which a categorical
column holds integer codes: ``1..K`` for the ``K`` known categories, ``0``
for anything else (a category unseen in training, ``NaN``, ``None``,
``pd.NA``). The engine's :class:`~skdeep._engine.EmbeddingLayout` looks the
codes up in its tables.
"""

from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import check_array

#: Most categories one column may have. Codes are stored as floats, exact in
#: float32 up to 2**24; the limit keeps a table and its optimizer state at a
#: size a CPU handles (1,000,000 x 50 float64 values are 400 MB).
MAX_CATEGORIES = 1_000_000

_MAX_DEFAULT_DIM = 50


def default_embedding_dim(n_categories):
    """Embedding width for a column of ``n_categories`` known categories.

    ``round(1.6 * n_categories ** 0.56)``, the rule of thumb popularised by
    fast.ai, capped at 50 and at least 1: 2 categories get 2 dimensions, 10
    get 6, 100 get 21, 1,000 and more get 50.

    Parameters
    ----------
    n_categories : int
        Number of categories known at fit time.

    Returns
    -------
    dim : int
    """
    return int(min(_MAX_DEFAULT_DIM, max(1, round(1.6 * n_categories**0.56))))


def embedding_dims(embedding_dim, n_categories_per_column):
    """One width per categorical column, from ``embedding_dim``."""
    dims = []
    for n_categories in n_categories_per_column:
        if embedding_dim is None:
            dim = default_embedding_dim(n_categories)
        elif callable(embedding_dim):
            dim = embedding_dim(n_categories)
            if not isinstance(dim, Integral) or isinstance(dim, bool) or dim < 1:
                raise ValueError(
                    "embedding_dim must return a positive integer for each "
                    f"cardinality; for {n_categories} categories it returned {dim!r}."
                )
        else:
            dim = embedding_dim
        dims.append(int(dim))
    return dims


def _is_dataframe(X):
    return isinstance(X, pd.DataFrame)


def is_arrow_category(dtype):
    """An Arrow dictionary (categories, as ``read_parquet`` with Arrow dtypes gives) or bytes."""
    if not isinstance(dtype, pd.ArrowDtype):
        return False
    import pyarrow as pa  # an ArrowDtype exists only with pyarrow installed

    arrow_type = dtype.pyarrow_dtype
    return (pa.types.is_dictionary(arrow_type) or pa.types.is_binary(arrow_type)
            or pa.types.is_large_binary(arrow_type))


def _is_categorical_dtype(dtype):
    """Columns ``"from_dtype"`` treats as categorical: category, object, string, Arrow dictionary.

    Arrow bytes too, as NumPy bytes (``object``) are.
    """
    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)
            or is_arrow_category(dtype))


def resolve_categorical_mask(categorical_features, X, feature_names):
    """Boolean mask of the categorical columns, or None if there are none.

    Parameters
    ----------
    categorical_features : None, "from_dtype", or array-like
        The estimator parameter: column names, column indices or a boolean
        mask.
    X : DataFrame or ndarray of shape (n_samples, n_features)
        The training input.
    feature_names : ndarray of str or None
        Column names of ``X`` if it is a DataFrame with string names.

    Returns
    -------
    mask : ndarray of bool of shape (n_features,) or None
    """
    if categorical_features is None:
        return None
    n_features = X.shape[1]
    if isinstance(categorical_features, str):  # "from_dtype"
        if not _is_dataframe(X):
            return None
        mask = np.array([_is_categorical_dtype(dtype) for dtype in X.dtypes], dtype=bool)
    else:
        mask = _mask_from_spec(categorical_features, n_features, feature_names)
    return mask if mask.any() else None


def _mask_from_spec(spec, n_features, feature_names):
    """A mask from explicit column names, indices or booleans."""
    spec = np.asarray(spec)
    if spec.ndim != 1:
        raise ValueError(
            "categorical_features must be 'from_dtype', None, or a 1-D list of column "
            f"names, indices or booleans; got an array of shape {spec.shape}."
        )
    mask = np.zeros(n_features, dtype=bool)
    if spec.size == 0:
        return mask
    if spec.dtype.kind == "b":
        if spec.size != n_features:
            raise ValueError(
                f"categorical_features as a boolean mask has {spec.size} entries but "
                f"X has {n_features} features."
            )
        return spec.copy()
    if spec.dtype.kind in "iu":
        out_of_range = spec[(spec < -n_features) | (spec >= n_features)]
        if out_of_range.size:
            raise ValueError(
                f"categorical_features index {int(out_of_range[0])} is out of range for "
                f"X with {n_features} features."
            )
        mask[spec] = True
        return mask
    if spec.dtype.kind in "OUS":
        if feature_names is None:
            raise ValueError(
                "categorical_features names columns, but X has no feature names; pass "
                "a pandas DataFrame or give column indices."
            )
        positions = {name: i for i, name in enumerate(feature_names)}
        missing = [str(name) for name in spec if name not in positions]
        if missing:
            raise ValueError(
                f"categorical_features has names not found in X's columns: {missing}."
            )
        mask[[positions[name] for name in spec]] = True
        return mask
    raise ValueError(
        "categorical_features must contain column names, integer indices or "
        f"booleans; got values of dtype {spec.dtype}."
    )


def learn_categories(column, name):
    """The known categories of one column, in a stable order.

    A pandas categorical column contributes its declared categories (so every
    chunk of a ``partial_fit`` stream shares one vocabulary); any other column
    its distinct non-missing values, sorted when they are mutually comparable
    and in order of first appearance otherwise.
    """
    if isinstance(getattr(column, "dtype", None), pd.CategoricalDtype):
        categories = np.asarray(column.cat.categories)
    else:
        series = column if isinstance(column, pd.Series) else pd.Series(column)
        try:
            categories = np.asarray(series.dropna().unique())
        except TypeError as exc:
            raise _unhashable_error(exc) from exc
        try:
            categories = np.sort(categories)
        except TypeError:
            pass  # mixed types (say str and int): keep order of appearance
    if len(categories) > MAX_CATEGORIES:
        raise ValueError(
            f"Categorical feature {name} has {len(categories):,} categories; skdeep "
            f"embeds at most {MAX_CATEGORIES:,} per feature. Group rare categories "
            "(e.g. map those seen fewer than k times to one value), hash them into "
            "fewer buckets, or treat the column as numeric."
        )
    return categories


def category_lookups(categories):
    """Hash-table lookups of each column's categories, to reuse across calls."""
    return [pd.Index(known) for known in categories]


def category_codes(column, categories, name=None):
    """Codes ``1..K`` of known categories; 0 for unseen and missing values.

    ``categories`` is an array, or its ``pd.Index`` from
    :func:`category_lookups` (building one costs more than a small lookup).
    With the column's ``name`` (as errors show it), unseen values of
    another kind than every category are an error (see
    :func:`check_value_kind`).
    """
    lookup = categories if isinstance(categories, pd.Index) else pd.Index(categories)
    try:
        codes = lookup.get_indexer(column) + 1
    except TypeError as exc:
        raise _unhashable_error(exc) from exc
    if name is not None:
        check_value_kind(column, codes, lookup, name)
    return codes


#: pandas' inferred types, grouped into the kinds of value a category can be.
_VALUE_KINDS = {
    "boolean": "boolean", "integer": "numeric", "floating": "numeric",
    "mixed-integer-float": "numeric", "decimal": "numeric", "string": "string",
    "bytes": "bytes",
}


def check_value_kind(column, codes, lookup, name):
    """Refuse unseen values that are all of another kind than every known category.

    An unseen category encodes as unknown, as it should; but 0/1 integers
    in a column whose categories were booleans (or numbers where they were
    strings) are the same column passed with another type, and every row
    would silently become "unknown". Only unseen values are looked at, so
    known categories cost nothing.
    """
    unseen = (codes == 0) & np.asarray(pd.notna(column))
    if not unseen.any():
        return
    fitted = _VALUE_KINDS.get(lookup.inferred_type)
    values = np.asarray(column, dtype=object)[unseen]
    found = _VALUE_KINDS.get(pd.api.types.infer_dtype(values, skipna=True))
    if fitted is not None and found is not None and found != fitted:
        raise ValueError(
            f"Categorical feature {name} had {fitted} categories in fit "
            f"({list(lookup[:4])}{', ...' if len(lookup) > 4 else ''}) but now holds "
            f"{found} values none of which is one of them ({list(np.unique(values)[:4])}"
            f"{', ...' if len(np.unique(values)) > 4 else ''}): pass the column with the "
            "type of its values in fit (e.g. .astype(bool) or .astype(str))."
        )


def _unhashable_error(exc):
    return TypeError(
        "Each value of a categorical feature must be hashable: the argument must be "
        f"a string or a number (or missing). {exc}"
    )


def feature_name(feature_names, j):
    """How an error message refers to column ``j``."""
    if feature_names is not None:
        return repr(str(feature_names[j]))
    return f"at index {j}"


def as_dense_2d(X):
    """A DataFrame as it is; anything else as a 2-D ndarray. Sparse is refused."""
    if sp.issparse(X):
        raise TypeError(
            "categorical_features needs dense input (a pandas DataFrame or an array); "
            "got a sparse matrix. Densify it or set categorical_features=None."
        )
    if _is_dataframe(X):
        return X
    if not isinstance(X, np.ndarray):
        # Array-likes keep their dtype; nested lists become object arrays so
        # that numbers and strings in one row keep their own types.
        X = np.asarray(X) if hasattr(X, "__array__") else np.asarray(X, dtype=object)
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D array instead. Reshape your data with "
            "array.reshape(-1, 1) for a single feature or array.reshape(1, -1) for a "
            "single sample."
        )
    return X


def column(X, j):
    """Column ``j`` of a DataFrame (as a Series) or of a 2-D array."""
    if _is_dataframe(X):
        return X.iloc[:, j]
    return X[:, j]


def encode(X, mask, categories, estimator_name, feature_names=None):
    """Numeric columns validated as floats, categorical columns as codes.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        Raw input, already checked for its number of features.
    mask : ndarray of bool of shape (n_features,)
        Which columns are categorical.
    categories : list of ndarray or pd.Index
        Known categories of each categorical column, in column order.
    estimator_name : str
        Named in validation errors.
    feature_names : ndarray of str or None, default=None
        Column names, for the errors of :func:`check_value_kind`.

    Returns
    -------
    X_encoded : ndarray of shape (n_samples, n_features)
        float64, or float32 when every numeric column is float32.
    """
    X = as_dense_2d(X)
    if X.shape[0] == 0:
        # Checked here, where the shape is still the whole input's.
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
            f"required by {estimator_name}."
        )
    numeric_columns = np.flatnonzero(~mask)
    categorical_columns = np.flatnonzero(mask)
    numeric = _validated_numeric(X, numeric_columns, estimator_name)
    encoded = np.empty((numeric.shape[0], mask.size), dtype=numeric.dtype)
    encoded[:, numeric_columns] = numeric
    for j, known in zip(categorical_columns, categories):
        encoded[:, j] = category_codes(column(X, j), known, feature_name(feature_names, j))
    return encoded


def _numpy_columns(frame, columns):
    """The columns as one ndarray when they all have NumPy number dtypes.

    Checking a DataFrame costs far more than checking the same values as an
    array (most of a one-row prediction); other dtypes (nullable integers,
    ...) keep the DataFrame so that sklearn's checks see them as they are.
    """
    series = [frame.iloc[:, j] for j in columns]
    if not series or not all(
        isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiub" for s in series
    ):
        return frame.iloc[:, columns]
    return np.column_stack([s.to_numpy() for s in series])


def _validated_numeric(X, numeric_columns, estimator_name):
    """The numeric columns through sklearn's usual checks (finite, 2-D, >= 1 row)."""
    if _is_dataframe(X):
        part = _numpy_columns(X, numeric_columns)
    else:
        part = X[:, numeric_columns]
    if len(numeric_columns) == 0:
        n_samples = X.shape[0]
        part = np.empty((n_samples, 0))
    return check_array(
        part,
        dtype=(np.float64, np.float32),
        ensure_min_features=0,
        estimator=estimator_name,
        input_name="X",
    )
