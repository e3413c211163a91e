"""ONNX graphs of the tabular estimators and of MLPFeatures.

A tabular model's graph does what ``predict`` does, in three parts:

1. **Columns in.** Each raw column comes from an input: one matrix ``"X"``
   for a model fitted on numeric columns only, else one ``(None, 1)``
   input per column (strings for string categories). Numeric columns are
   cast to float64.
2. **The fitted encoding, in float64** (``_tabular_inputs.py``,
   ``_engine/preprocessing.py``): robust scaling (exact where ``x - median``
   would overflow, as :func:`~skdeep._engine.robust_scale` is), smooth
   clipping, missing values as 0 and their indicators, categories as codes
   (a ``LabelEncoder`` of ONNX-ML for strings, a binary search of the
   sorted categories for numbers; 0 is the unknown category), one-hot
   columns, value codes of the frequent numeric values, and the
   piecewise-linear encodings of the scaled values. Float64 keeps a value
   near a bin edge (the tails of a smoothly clipped column have bins a few
   float32 steps wide) in the bin where ``predict`` puts it.
3. **The networks, in the export's dtype**, one chain of nodes per member
   (``_engine/tabular.py``): embeddings, learned piecewise-linear and
   periodic features, the input scale, dense layers; then the members'
   average as :func:`~skdeep._engine.average_logits` takes it (class
   probabilities, quantiles after their link, or the outputs themselves).

:func:`tabular_model` builds the whole model, for :func:`skdeep.to_onnx`
with its default inputs, and for ``_skl2onnx.py`` with the inputs skl2onnx
gives (then inlined into skl2onnx's graph).
"""

import numpy as np

from ._engine.preprocessing import UNCLIPPED_BOUND
from ._onnx import (
    _check_estimator,
    _class_table,
    _cumulative_softplus,
    _GraphBuilder,
    _hidden_activations,
    _require_onnx,
    check_is_fitted,
    dense_stack,
    finish_model,
)

__all__ = ["exports_separately", "tabular_model"]

#: Version of the ONNX-ML domain whose LabelEncoder maps strings to int64.
_ML_OPSET = 2


def _is_tabular(estimator):
    from ._tabular import _BaseTabularMLP

    return isinstance(estimator, _BaseTabularMLP)


def _is_features(estimator):
    from ._features import MLPFeatures

    return isinstance(estimator, MLPFeatures)


def exports_separately(estimator):
    """Whether :func:`skdeep.to_onnx` exports ``estimator`` here (tabular, MLPFeatures)."""
    return _is_tabular(estimator) or _is_features(estimator)


def _check_fitted(estimator):
    name = type(estimator).__name__
    attributes = "estimator_" if _is_features(estimator) else "n_features_in_"
    check_is_fitted(estimator, attributes=[attributes], msg=(
        f"This {name} instance is not fitted yet: call 'fit' with appropriate "
        "arguments before exporting it with to_onnx."))


# ----------------------------------------------------------------------
# The raw columns and the inputs that carry them
# ----------------------------------------------------------------------
class _Column:
    """One raw input column of a tabular model: its name, kind and categories.

    ``kind`` is ``"numeric"``, ``"time"`` (seconds) or ``"categorical"``;
    a categorical column's ``key_kind`` is ``"string"`` or ``"number"``.
    """

    def __init__(self, index, name, kind, categories=None):
        self.index, self.name, self.kind = index, name, kind
        self.categories = categories
        self.key_kind = _key_kind(categories, repr(name)) if kind == "categorical" else None


def _key_kind(categories, name):
    """How a column's categories are matched: as strings or as float64 numbers."""
    values = np.asarray(categories)
    if values.dtype.kind in "US" or (values.dtype.kind == "O"
                                     and all(isinstance(v, str) for v in values)):
        return "string"
    if values.dtype.kind in "biuf" or (values.dtype.kind == "O" and all(
            isinstance(v, (bool, np.bool_, int, np.integer, float, np.floating))
            for v in values)):
        as_float = values.astype(np.float64)
        if len(np.unique(as_float)) != len(values):
            raise ValueError(
                f"Column {name} has integer categories that float64 cannot tell apart "
                "(beyond 2**53); the ONNX graph matches numeric categories as float64. "
                "Pass them as strings (e.g. .astype(str)) to export the model."
            )
        return "number"
    kinds = sorted({type(v).__name__ for v in values})
    raise ValueError(
        f"Column {name} has categories of several types ({', '.join(kinds)}), which no "
        "ONNX tensor holds at once: an input is all strings or all numbers. Convert "
        "the column (e.g. .astype(str)) and refit to export the model."
    )


def _columns(model):
    """The raw columns of a fitted tabular model, in input order."""
    names = model.__dict__.get("feature_names_in_")
    time_kinds = model.__dict__.get("time_kinds_", np.full(model.n_features_in_, ""))
    categories = iter(model.categories_)
    columns = []
    for j, categorical in enumerate(model.is_categorical_):
        name = str(names[j]) if names is not None else f"x{j}"
        if categorical:
            columns.append(_Column(j, name, "categorical", next(categories)))
        else:
            columns.append(_Column(j, name, "time" if time_kinds[j] else "numeric"))
    return columns


def default_inputs(model, dtype):
    """``[(name, ONNX element type, shape)]`` of :func:`skdeep.to_onnx`'s inputs.

    One matrix ``"X"`` when every column is numeric, else one input per
    column: strings for string categories, float64 for numeric categories
    (bools and integers as numbers) and time columns (seconds), ``dtype``
    for the numeric columns.
    """
    onnx = _require_onnx()
    float_type = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    columns = _columns(model)
    if all(column.kind == "numeric" for column in columns):
        return [("X", float_type, [None, len(columns)])]
    types = {"numeric": float_type, "time": onnx.TensorProto.DOUBLE}
    inputs = []
    for column in columns:
        if column.kind == "categorical":
            elem_type = (onnx.TensorProto.STRING if column.key_kind == "string"
                         else onnx.TensorProto.DOUBLE)
        else:
            elem_type = types[column.kind]
        inputs.append((column.name, elem_type, [None, 1]))
    return inputs


def _column_sources(model, inputs):
    """For each raw column: (input name, its element type, the column's index in it or None).

    ``inputs`` is one matrix holding every column, or one input per column,
    matched by name when the names are the model's feature names and by
    position otherwise.
    """
    onnx = _require_onnx()
    columns = _columns(model)
    n_features = len(columns)
    if len(inputs) == 1 and n_features > 1:
        name, elem_type, shape = inputs[0]
        width = shape[-1] if len(shape) == 2 else None
        if width is not None and width != n_features:
            raise ValueError(
                f"The model has {n_features} input columns but its ONNX input {name!r} "
                f"has {width}."
            )
        if elem_type == onnx.TensorProto.STRING:
            raise ValueError(
                f"A single string input cannot carry this model's {n_features} columns; "
                "give each column its own input (skl2onnx does for a DataFrame)."
            )
        return [(name, elem_type, j) for j in range(n_features)]
    if len(inputs) != n_features:
        raise ValueError(
            f"The model has {n_features} input columns; the ONNX graph takes either one "
            f"numeric matrix of them all or one input per column, got {len(inputs)} inputs."
        )
    by_name = {name: (name, elem_type, None) for name, elem_type, _ in inputs}
    if set(by_name) == {column.name for column in columns}:
        return [by_name[column.name] for column in columns]
    return [(name, elem_type, None) for name, elem_type, _ in inputs]


_NUMERIC_INPUTS = ("FLOAT", "DOUBLE", "INT64", "INT32", "INT16", "INT8", "UINT8", "UINT16",
                   "UINT32", "UINT64", "BOOL", "FLOAT16")


def _raw_column(builder, column, source):
    """The column as a ``(None, 1)`` value: float64 (numbers), or the strings themselves."""
    onnx = builder.onnx
    name, elem_type, position = source
    value = name
    if position is not None:
        value = builder.op("Gather", name, builder.constant("position", [position], np.int64),
                           axis=1)
    type_name = onnx.TensorProto.DataType.Name(elem_type)
    if column.kind == "categorical" and column.key_kind == "string":
        if elem_type != onnx.TensorProto.STRING:
            raise ValueError(
                f"Column {column.name!r} holds string categories, but its ONNX input has "
                f"type {type_name.lower()}. skl2onnx types a DataFrame's column from its "
                "first row of X[:1] (a category column whose first value is missing "
                "becomes int64): pass a sample row where the column holds a string, or "
                f"initial_types with StringTensorType([None, 1]) for {column.name!r}."
            )
        return value
    if type_name not in _NUMERIC_INPUTS:
        what = "categorical with numeric categories" if column.kind == "categorical" else (
            "a date-time column (seconds)" if column.kind == "time" else "numeric")
        raise ValueError(
            f"Column {column.name!r} is {what}, but its ONNX input has type "
            f"{type_name.lower()}; give it a numeric input."
        )
    return builder.op("Cast", value, to=onnx.TensorProto.DOUBLE)


# ----------------------------------------------------------------------
# The fitted encoding, in float64
# ----------------------------------------------------------------------
def _robust_scale(builder, numeric, center, factor, limit):
    """:func:`~skdeep._engine.robust_scale` of ``numeric`` (float64), operation for operation."""
    def constant(stem, values):
        return builder.constant(stem, values, np.float64)

    difference = builder.op("Sub", numeric, constant("center", center))
    scaled = builder.op("Mul", difference, constant("factor", factor))
    # Where x - median overflows, the same value at a quarter of the size.
    quarter = builder.op("Sub", builder.op("Mul", numeric, constant("quarter", 0.25)),
                         constant("center_quarter", center * 0.25))
    exact = builder.op("Mul", quarter, constant("factor_times_4", factor * 4.0))
    scaled = builder.op("Where", builder.op("IsInf", difference), exact, scaled)
    # Missing values become 0 (the median); 0 stays 0 through either clip.
    scaled = builder.op("Where", builder.op("IsNaN", scaled), constant("zero", 0.0), scaled)
    if limit is None:
        return builder.op("Clip", scaled, constant("lower", -UNCLIPPED_BOUND),
                          constant("upper", UNCLIPPED_BOUND))
    ratio = builder.op("Div", scaled, constant("limit", limit))
    root = builder.op("Sqrt", builder.op("Add", builder.op("Mul", ratio, ratio),
                                         constant("one", 1.0)))
    # Where the square overflows the result is the bound, with the value's sign.
    bound = builder.op("Mul", builder.op("Sign", scaled), constant("limit", limit))
    return builder.op("Where", builder.op("IsInf", root), bound,
                      builder.op("Div", scaled, root))


def _search_codes(builder, value, keys, codes):
    """``codes[i]`` where ``value`` equals ``sorted(keys)[i]``, 0 where it equals none.

    A binary search over the sorted float64 ``keys`` (``log2`` steps of one
    ``Gather`` and one comparison each: memory linear in the rows), then
    an exact comparison; NaN matches nothing. ``codes`` gives each key's
    code, in the order of the sorted keys. ``value`` is ``(None, 1)`` float64.
    """
    order = np.argsort(keys, kind="stable")
    keys = np.asarray(keys, dtype=np.float64)[order]
    n_steps = int(np.ceil(np.log2(len(keys) + 1)))
    # NaN padding compares False: the search never moves into it.
    padded = np.full(2**n_steps - 1, np.nan)
    padded[: len(keys)] = keys
    table = builder.constant("sorted_keys", padded, np.float64)
    found = builder.constant("none", np.zeros((1, 1)), np.int64)
    for step in 2 ** np.arange(n_steps - 1, -1, -1):
        candidate = builder.op("Add", found, builder.constant("step", step, np.int64))
        probe = builder.op("Gather", table, builder.op(
            "Sub", candidate, builder.constant("one_index", 1, np.int64)), axis=0)
        found = builder.op("Where", builder.op("LessOrEqual", probe, value), candidate, found)
    # found = how many keys are <= value; a match is the last of them.
    last = builder.op("Gather", builder.constant("keys_after_nan", np.concatenate([[np.nan], keys]),
                                                 np.float64), found, axis=0)
    matched = builder.op("Equal", last, value)
    code_table = builder.constant("codes", np.concatenate([[0], np.asarray(codes)[order]]),
                                  np.int64)
    code = builder.op("Gather", code_table, found, axis=0)
    return builder.op("Where", matched, code, builder.constant("none", np.zeros((1, 1)),
                                                               np.int64))


def _category_codes(builder, column, raw):
    """Codes ``1..K`` of a categorical column's known categories, 0 otherwise, ``(None, 1)``."""
    n = len(column.categories)
    if column.key_kind == "string":
        return builder.op(
            "LabelEncoder", raw, domain="ai.onnx.ml", domain_opset=_ML_OPSET,
            keys_strings=[str(c) for c in column.categories],
            values_int64s=list(range(1, n + 1)), default_int64=0,
        )
    keys = np.asarray(column.categories).astype(np.float64)
    return _search_codes(builder, raw, keys, np.arange(1, n + 1))


class _Encoding:
    """The graph values of an encoded input: dense float64 block and embedding codes."""

    def __init__(self, dense, codes, scaled, n_scaled):
        self.dense = dense          # (None, n_dense) float64, or None
        self.codes = codes          # one (None,) int64 code per embedded column
        self.scaled = scaled        # (None, n_scaled) float64 scaled numeric columns, or None
        self.n_scaled = n_scaled


def _concat(builder, parts):
    parts = [part for part in parts if part is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else builder.op("Concat", *parts, axis=1)


def _encode(builder, model, inputs):
    """The fitted encoding of the raw columns (see the module notes)."""
    columns = _columns(model)
    sources = _column_sources(model, inputs)
    numeric_columns = [c for c in columns if c.kind != "categorical"]
    numeric = _numeric_block(builder, numeric_columns, sources)
    scaled = indicators = None
    if numeric is not None:
        center = np.asarray(model.numeric_center_, dtype=np.float64)
        factor = np.asarray(model.numeric_scale_, dtype=np.float64)
        limit = model.__dict__["clip_"] if "clip_" in model.__dict__ else model.clip
        scaled = _robust_scale(builder, numeric, center, factor, limit)
        missing = np.flatnonzero(model.missing_indicator_)
        if len(missing):
            indicators = builder.op("Cast", builder.op("IsNaN", builder.op(
                "Gather", numeric, builder.constant("missing", missing, np.int64), axis=1)),
                to=builder.onnx.TensorProto.DOUBLE)
    one_hot, codes = [], []
    for column, is_one_hot in zip([c for c in columns if c.kind == "categorical"],
                                  model.one_hot_):
        code = _category_codes(builder, column, _raw_column(builder, column,
                                                            sources[column.index]))
        if is_one_hot:
            if len(column.categories):
                levels = builder.constant("levels", np.arange(1, len(column.categories) + 1)[None],
                                          np.int64)
                one_hot.append(builder.op("Cast", builder.op("Equal", code, levels),
                                          to=builder.onnx.TensorProto.DOUBLE))
        else:
            codes.append(code)
    for position, values in enumerate(model.__dict__.get("frequent_values_", ())):
        if len(values):
            value = builder.op("Gather", numeric, builder.constant(
                "position", [position], np.int64), axis=1)
            codes.append(_search_codes(builder, value, np.asarray(values, dtype=np.float64),
                                       np.arange(1, len(values) + 1)))
    if codes:
        flat = builder.constant("flat", [-1], np.int64)
        codes = [builder.op("Reshape", code, flat) for code in codes]
    dense = _concat(builder, [scaled, indicators, *one_hot])
    return _Encoding(dense, codes, scaled, len(numeric_columns))


def _numeric_block(builder, numeric_columns, sources):
    """The numeric (and time) columns as one float64 ``(None, n)`` value, or None."""
    if not numeric_columns:
        return None
    first = sources[numeric_columns[0].index]
    matrix = [sources[c.index] for c in numeric_columns]
    if (first[2] is not None and all(s[0] == first[0] for s in matrix)
            and [s[2] for s in matrix] == list(range(len(matrix)))
            and len(matrix) == len(sources)):
        # One matrix of numbers holding every column, in order: cast it at once.
        return builder.op("Cast", first[0], to=builder.onnx.TensorProto.DOUBLE)
    return _concat(builder, [_raw_column(builder, c, sources[c.index]) for c in numeric_columns])


def _piecewise_codes(builder, model, scaled, n_scaled):
    """Piecewise-linear encodings of the scaled columns, ``(None, n_scaled, n_bins)`` float64."""
    lower = np.asarray(model.bin_lower_, dtype=np.float64)
    inverse_width = np.asarray(model.bin_inverse_width_, dtype=np.float64)
    x = builder.op("Unsqueeze", scaled, builder.constant("last_axis", [2], np.int64))
    codes = builder.op("Mul", builder.op("Sub", x, builder.constant("bin_lower", lower, np.float64)),
                       builder.constant("bin_inverse_width", inverse_width, np.float64))
    codes = builder.op("Max", codes, builder.constant("zero", 0.0, np.float64))
    return builder.op("Min", codes, builder.constant("one", 1.0, np.float64))


# ----------------------------------------------------------------------
# The networks, in the export's dtype
# ----------------------------------------------------------------------
def _per_column_features(builder, values, coef, intercept, stem):
    """``values[:, j] @ coef[j] + intercept[j]`` for each column ``j``, side by side.

    ``values`` is ``(None, n_columns, width)``; the result ``(None, n_columns *
    n_features)``, column 0's features first, as the engine lays them out.
    """
    by_column = builder.op("Transpose", values, perm=[1, 0, 2])
    features = builder.op("MatMul", by_column, builder.constant(f"{stem}_coef", coef))
    features = builder.op("Add", features, builder.constant(
        f"{stem}_intercept", np.asarray(intercept)[:, None, :]))
    by_row = builder.op("Transpose", features, perm=[1, 0, 2])
    return builder.op("Reshape", by_row, builder.constant("rows", [0, -1], np.int64))


def _network_inputs(builder, model, member, encoding, dense, pieces):
    """One member's input to its first dense layer (after the input scale)."""
    parts = [dense]
    for code, table in zip(encoding.codes, member.get("embeddings_", ())):
        parts.append(builder.op("Gather", builder.constant("embedding", table), code, axis=0))
    A = _concat(builder, parts)
    if pieces is not None:
        if "piecewise_embedding_" in member:
            coef, intercept = member["piecewise_embedding_"]
            features = _per_column_features(builder, pieces, coef, intercept, "piecewise")
        else:
            features = builder.op("Reshape", pieces, builder.constant("rows", [0, -1], np.int64))
        A = _concat(builder, [A, features])
    if "periodic_embedding_" in member:
        frequency, phase, coef, intercept = member["periodic_embedding_"]
        x = builder.op("Cast", encoding.scaled, to=builder.elem_type)
        x = builder.op("Unsqueeze", x, builder.constant("last_axis", [2], np.int64))
        angle = builder.op("Mul", x, builder.constant("frequency", frequency))
        angle = builder.op("Mul", angle, builder.constant("two_pi", 2 * np.pi))
        angle = builder.op("Add", angle, builder.constant("phase", phase))
        features = _per_column_features(builder, builder.op("Cos", angle), coef, intercept,
                                        "periodic")
        A = _concat(builder, [features, A])
    return builder.op("Mul", A, builder.constant("input_scale", member["input_scale_"]))


def _hidden_layers(builder, member, A, n_layers, stem):
    """The first ``n_layers`` dense layers of one member (all: its logits)."""
    activations = _hidden_activations(_AsEstimator(member))
    strengths = list(member.get("activation_strength_", ()))
    if not strengths:
        return dense_stack(builder, member["coefs_"], member["intercepts_"], activations, A,
                           n_layers, stem=stem)
    # Parametric units: z + a (f(z) - z), as MemberDense.predict computes them.
    coefs, intercepts = member["coefs_"], member["intercepts_"]
    last = len(coefs) - 1
    n_layers = len(coefs) if n_layers is None else n_layers
    for i in range(n_layers):
        z = builder.op("Add", builder.op("MatMul", A, builder.constant("coefficient", coefs[i])),
                       builder.constant("intercept", intercepts[i]))
        if i == last:
            return z
        gap = builder.op("Sub", builder.hidden_activation(activations[i], z), z)
        A = builder.op("Add", z, builder.op("Mul", gap, builder.constant("strength",
                                                                          strengths[i])))
    return A


class _AsEstimator:
    """A member's attribute dict seen as an estimator (for ``_hidden_activations``)."""

    def __init__(self, attributes):
        self.__dict__.update(attributes)


def _members(model):
    """Every fitted network's attribute dict (the members, or the model itself)."""
    if "estimators_" in model.__dict__:
        return [member.__dict__ for member in model.estimators_]
    return [model.__dict__]


def _trunks(builder, model, inputs, n_layers=None):
    """Per member, the output of its first ``n_layers`` dense layers; and the encoding."""
    encoding = _encode(builder, model, inputs)
    dense = (None if encoding.dense is None
             else builder.op("Cast", encoding.dense, to=builder.elem_type))
    pieces = None
    if "bin_lower_" in model.__dict__ and len(model.bin_lower_) and encoding.scaled is not None:
        pieces = builder.op("Cast", _piecewise_codes(builder, model, encoding.scaled,
                                                     encoding.n_scaled), to=builder.elem_type)
    outputs = []
    for m, member in enumerate(_members(model)):
        A = _network_inputs(builder, model, member, encoding, dense, pieces)
        outputs.append(_hidden_layers(builder, member, A, n_layers, stem=f"network{m}_"))
    return outputs, encoding


def _mean(builder, values):
    if len(values) == 1:
        return values[0]
    return builder.op("Div", builder.op("Sum", *values),
                      builder.constant("n_networks", float(len(values))))


def _tabular_outputs(builder, model, logits):
    """The members' logits to the model's outputs (their value infos)."""
    onnx = builder.onnx
    from ._tabular import TabularMLPClassifier

    if isinstance(model, TabularMLPClassifier):
        probabilities = _mean(builder, [builder.op("Softmax", z, axis=1) for z in logits])
        builder.op("Identity", probabilities, output="probabilities")
        index = builder.op("ArgMax", "probabilities", axis=1, keepdims=0)
        classes, label_type = _class_table(builder, model.classes_)
        builder.op("Gather", classes, index, output="label", axis=0)
        return [onnx.helper.make_tensor_value_info("label", label_type, [None]),
                onnx.helper.make_tensor_value_info("probabilities", builder.elem_type,
                                                   [None, len(model.classes_)])]
    if model.out_activation_ == "cumulative_softplus":
        standardised = _mean(builder, [_cumulative_softplus(builder, z, output=None)
                                       for z in logits])
    else:
        standardised = _mean(builder, logits)
    y = builder.op("Add", builder.op("Mul", standardised,
                                     builder.constant("target_scale", model.target_scale_)),
                   builder.constant("target_mean", model.target_mean_))
    y = builder.op("Max", y, builder.constant("target_min", model.target_min_))
    builder.op("Min", y, builder.constant("target_max", model.target_max_), output="variable")
    return [onnx.helper.make_tensor_value_info("variable", builder.elem_type,
                                               [None, int(model.n_outputs_)])]


def _features_outputs(builder, features, inputs):
    """MLPFeatures' graph: the hidden layer (and embeddings) of every network, side by side."""
    onnx = builder.onnx
    model = features.estimator_
    n_layers = features.layer_ + 1
    if _is_tabular(model):
        hidden, encoding = _trunks(builder, model, inputs, n_layers)
        parts = list(hidden)
        if features.include_embeddings:
            for member in _members(model):
                parts += [builder.op("Gather", builder.constant("embedding", table), code, axis=0)
                          for code, table in zip(encoding.codes, member["embeddings_"])]
    else:
        _check_estimator(model)
        parts = [dense_stack(builder, model.coefs_, model.intercepts_,
                             _hidden_activations(model), inputs[0][0], n_layers)]
    builder.op("Identity", _concat(builder, parts), output="features")
    width = len(features.get_feature_names_out())
    return [onnx.helper.make_tensor_value_info("features", builder.elem_type, [None, width])]


def tabular_model(estimator, dtype, opset, inputs=None):
    """The ONNX model of a fitted tabular estimator or MLPFeatures.

    ``inputs`` (``[(name, ONNX element type, shape)]``) are the graph's
    inputs: skl2onnx's, or by default those of :func:`default_inputs`.
    """
    onnx = _require_onnx()
    dtype = np.dtype(dtype)
    _check_fitted(estimator)
    model = estimator.estimator_ if _is_features(estimator) else estimator
    if inputs is None:
        if _is_tabular(model):
            inputs = default_inputs(model, dtype)
        else:
            _check_estimator(model)
            float_type = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
            inputs = [("X", float_type, [None, int(model.coefs_[0].shape[0])])]
    builder = _GraphBuilder(onnx, dtype)
    if _is_features(estimator):
        outputs = _features_outputs(builder, estimator, inputs)
    else:
        logits, _ = _trunks(builder, model, inputs)
        outputs = _tabular_outputs(builder, model, logits)
    infos = [onnx.helper.make_tensor_value_info(name, elem_type, shape)
             for name, elem_type, shape in inputs]
    return finish_model(builder, estimator, infos, outputs, opset, {
        "out_activation": str(model.out_activation_),
        "hidden_activations": ",".join(_hidden_activations(_AsEstimator(_members(model)[0]))
                                       if _is_tabular(model) else _hidden_activations(model)),
        "n_networks": str(len(_members(model)) if _is_tabular(model) else 1),
    })
