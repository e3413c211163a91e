"""skdeep's estimators as skl2onnx operators: export whole pipelines.

:func:`skdeep.to_onnx` exports a bare model. To export a pipeline
(``StandardScaler``, ``ColumnTransformer``, ``OneHotEncoder`` ... followed by
a skdeep estimator), or a tabular estimator straight from a DataFrame,
skl2onnx needs a shape calculator and a converter for skdeep's classes,
registered with ``skl2onnx.update_registered_converter`` as the LightGBM
and XGBoost converters are. The converter builds the graph that
:func:`skdeep.to_onnx` builds (for the inputs skl2onnx gives: one per
DataFrame column, typed from its first row) and inlines it into skl2onnx's
graph, so the two exports compute the same thing. skl2onnx is imported
only when :func:`register_skl2onnx_converters` is called.
"""

import numpy as np

from ._classifier import MLPClassifier
from ._features import MLPFeatures
from ._onnx import _DEFAULT_OPSET, _MIN_OPSET, skip_examples_without, to_onnx
from ._onnx_tabular import tabular_model
from ._regressor import MLPRegressor
from ._tabular import TabularMLPClassifier, TabularMLPRegressor

__all__ = ["register_skl2onnx_converters"]

#: skl2onnx's aliases of skdeep's operators.
_ALIASES = {
    MLPClassifier: "SkdeepMLPClassifier",
    MLPRegressor: "SkdeepMLPRegressor",
    TabularMLPClassifier: "SkdeepTabularMLPClassifier",
    TabularMLPRegressor: "SkdeepTabularMLPRegressor",
    MLPFeatures: "SkdeepMLPFeatures",
}
#: The options skl2onnx's classifier parser reads (as for its own classifiers);
#: the graph always outputs the class labels themselves (``nocl=False``).
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"], "output_class_labels": [False, True], "nocl": [False],
}


def _require_skl2onnx():
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError(
            "Exporting pipelines needs the 'skl2onnx' package. Install it with "
            "`python -m pip install skl2onnx onnxruntime` (or skdeep's `onnx` extra); "
            "skdeep.to_onnx exports a bare network without it."
        ) from exc
    return skl2onnx


def register_skl2onnx_converters():
    """Register skdeep's estimators with skl2onnx, so that pipelines holding them convert.

    After this call, ``skl2onnx.to_onnx(pipeline, X[:1])`` (or
    ``skl2onnx.convert_sklearn``) converts pipelines whose steps skl2onnx
    knows and that end in a skdeep :class:`~skdeep.MLPClassifier`,
    :class:`~skdeep.MLPRegressor`, :class:`~skdeep.TabularMLPClassifier` or
    :class:`~skdeep.TabularMLPRegressor`, exactly as it converts pipelines
    that end in scikit-learn's MLPs: a classifier has the outputs ``label``
    and ``probabilities`` (a ZipMap of them unless ``options={"zipmap":
    False}``), a regressor the output ``variable``. :class:`~skdeep.MLPFeatures`
    converts as a transformer (one output, its features). A tabular
    estimator also converts on its own from a raw DataFrame:
    ``skl2onnx.to_onnx(model, frame[:1])`` gives the graph one input per
    column, as skl2onnx does for every DataFrame. Calling it again changes
    nothing.

    Raises
    ------
    ImportError
        If skl2onnx is not installed.

    See Also
    --------
    skdeep.to_onnx : Export a bare network, without skl2onnx.

    Notes
    -----
    Classifiers must have integer or string class labels (skl2onnx's ZipMap
    and label outputs hold no others); MLPs with ``categorical_features``
    cannot be exported, as with :func:`skdeep.to_onnx`. The network runs in
    the float type of its input in the pipeline: float64 if an input is a
    ``DoubleTensorType`` (the float64 columns of a DataFrame are), float32
    otherwise. A tabular model's fitted encoding always runs in float64.

    skl2onnx types each DataFrame column from its first row in ``X[:1]``:
    float64 columns are ``DoubleTensorType``, integers ``Int64TensorType``,
    booleans ``BooleanTensorType``, strings ``StringTensorType``; a
    ``category`` column is a string input when its first value is a string
    (and int64 otherwise: pass a row where it holds a string, or
    ``initial_types``). At run time each input is an array of shape
    ``(n, 1)``; a missing string is any string that is no category (``""``).
    Nullable pandas dtypes (``Int64``, ``string``) and date-time columns are
    not typed by skl2onnx: convert them, or pass ``initial_types``
    (date-times as float64 seconds since 1970-01-01 UTC).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdeep import MLPClassifier, register_skl2onnx_converters
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> pipeline = make_pipeline(
    ...     StandardScaler(), MLPClassifier(solver="lbfgs", random_state=0)
    ... ).fit(X, y)
    >>> register_skl2onnx_converters()
    >>> import skl2onnx
    >>> model = skl2onnx.to_onnx(pipeline, X[:1], options={"zipmap": False})
    >>> import onnxruntime as ort
    >>> session = ort.InferenceSession(model.SerializeToString(),
    ...                                providers=["CPUExecutionProvider"])
    >>> label, probabilities = session.run(None, {"X": X})
    >>> bool(np.array_equal(label, pipeline.predict(X)))
    True
    """
    skl2onnx = _require_skl2onnx()
    for classifier in (MLPClassifier, TabularMLPClassifier):
        skl2onnx.update_registered_converter(
            classifier, _ALIASES[classifier], _classifier_shapes, _convert,
            options=_CLASSIFIER_OPTIONS,
        )
    for regressor in (MLPRegressor, TabularMLPRegressor):
        skl2onnx.update_registered_converter(
            regressor, _ALIASES[regressor], _regressor_shapes, _convert
        )
    skl2onnx.update_registered_converter(
        MLPFeatures, _ALIASES[MLPFeatures], _features_shapes, _convert
    )


skip_examples_without(register_skl2onnx_converters, ("skl2onnx", "onnxruntime"))


def _float_types(operator):
    """(numpy dtype, skl2onnx tensor type) of the network, from its inputs.

    float64 if one of them is float64, float32 otherwise (float32 inputs,
    and inputs of strings, integers or booleans only).
    """
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if any(isinstance(variable.type, DoubleTensorType) for variable in operator.inputs):
        return np.float64, DoubleTensorType
    return np.float32, FloatTensorType


def _classifier_shapes(operator):
    """skl2onnx shape calculator: ``label`` and ``probabilities``."""
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    estimator = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    kind = np.asarray(estimator.classes_).dtype.kind
    multilabel = estimator.out_activation_ == "logistic" and estimator.n_outputs_ > 1
    if kind in "iu" or multilabel:
        label_type = Int64TensorType
    elif kind in "USO":
        label_type = StringTensorType
    else:
        raise TypeError(
            f"skl2onnx holds integer or string class labels; this {type(estimator).__name__} "
            f"has labels of dtype {np.asarray(estimator.classes_).dtype}. Encode them "
            "as integers (e.g. with LabelEncoder), or export the bare network with "
            "skdeep.to_onnx."
        )
    n_columns = max(len(estimator.classes_), 2)
    operator.outputs[0].type = label_type([n_rows, n_columns] if multilabel else [n_rows])
    operator.outputs[1].type = _probability_type(operator)([n_rows, n_columns])


def _probability_type(operator):
    """The probabilities' tensor type: the network's, float32 in front of a ZipMap.

    ONNX's ZipMap takes float32 only: a float64 network's probabilities are
    cast to float32 for it.
    """
    from skl2onnx.common.data_types import FloatTensorType

    options = operator.scope_inst.get_options(operator.raw_operator, {"zipmap": True})
    return FloatTensorType if options["zipmap"] is not False else _float_types(operator)[1]


def _regressor_shapes(operator):
    """skl2onnx shape calculator: ``variable``, of shape (n, n_outputs_)."""
    n_rows = operator.inputs[0].get_first_dimension()
    tensor_type = _float_types(operator)[1]
    operator.outputs[0].type = tensor_type([n_rows, int(operator.raw_operator.n_outputs_)])


def _features_shapes(operator):
    """skl2onnx shape calculator: MLPFeatures' ``features``, (n, n_features_out)."""
    n_rows = operator.inputs[0].get_first_dimension()
    width = len(operator.raw_operator.get_feature_names_out())
    operator.outputs[0].type = _float_types(operator)[1]([n_rows, width])


def _model_inputs(operator):
    """skl2onnx's input variables of a tabular model, in the order of its columns.

    One per column of a DataFrame, named after it (matched by name when
    the model has feature names), or one matrix of every column.
    """
    estimator = operator.raw_operator
    model = estimator.estimator_ if isinstance(estimator, MLPFeatures) else estimator
    variables = list(operator.inputs)
    names = model.__dict__.get("feature_names_in_")
    by_name = {variable.raw_name: variable for variable in variables}
    if names is not None and len(variables) > 1 and set(by_name) == {str(n) for n in names}:
        variables = [by_name[str(name)] for name in names]
    return [(variable.full_name, variable.type.to_onnx_type().tensor_type.elem_type,
             variable.type.shape) for variable in variables]


def _convert(scope, operator, container):
    """skl2onnx converter: skdeep.to_onnx's graph, inlined under fresh names."""
    opset = container.target_opset
    if opset is not None and opset < _MIN_OPSET:
        raise ValueError(
            f"skdeep's estimators need target_opset >= {_MIN_OPSET}; got {opset}."
        )
    dtype = _float_types(operator)[0]
    estimator = operator.raw_operator
    if isinstance(estimator, (TabularMLPClassifier, TabularMLPRegressor, MLPFeatures)):
        model = tabular_model(estimator, dtype, _DEFAULT_OPSET if opset is None else opset,
                             inputs=_model_inputs(operator))
        names = {name: name for name in (i.full_name for i in operator.inputs)}
    else:
        model = to_onnx(estimator, dtype=dtype, opset=opset)
        names = {model.graph.input[0].name: operator.inputs[0].full_name}
    graph = model.graph
    domains = {entry.domain: entry.version for entry in model.opset_import}
    names.update(
        (output.name, variable.full_name)
        for output, variable in zip(graph.output, operator.outputs, strict=True)
    )
    cast_probabilities = (len(operator.outputs) == 2 and dtype == np.float64
                          and _probability_type(operator) is not _float_types(operator)[1])
    if cast_probabilities:
        names["probabilities"] = scope.get_unique_variable_name(
            f"{operator.full_name}_float64_probabilities")

    def rename(name):
        if name not in names:
            names[name] = scope.get_unique_variable_name(f"{operator.full_name}_{name}")
        return names[name]

    for tensor in graph.initializer:
        _add_initializer(container, rename(tensor.name), tensor)
    for node in graph.node:
        container.add_node(
            node.op_type,
            [rename(name) for name in node.input],
            [rename(name) for name in node.output],
            op_domain=node.domain,
            op_version=domains[node.domain] if node.domain else None,
            name=scope.get_unique_operator_name(f"{operator.full_name}_{node.op_type}"),
            **_attributes(node),
        )
    if cast_probabilities:
        import onnx

        container.add_node("Cast", [names["probabilities"]], [operator.outputs[1].full_name],
                           name=scope.get_unique_operator_name(f"{operator.full_name}_Cast"),
                           to=onnx.TensorProto.FLOAT)


def _add_initializer(container, name, tensor):
    import onnx

    dims = list(tensor.dims)
    if tensor.data_type == onnx.TensorProto.STRING:
        container.add_initializer(name, tensor.data_type, dims, list(tensor.string_data))
    else:
        container.add_initializer(name, tensor.data_type, dims, tensor)


def _attributes(node):
    import onnx

    return {attribute.name: onnx.helper.get_attribute_value(attribute)
            for attribute in node.attribute}
