"""skdeep's MLPs as skl2onnx operators: export whole pipelines.

:func:`skdeep.to_onnx` exports a bare network. To export a pipeline
(``StandardScaler``, ``ColumnTransformer``, ``OneHotEncoder`` ... followed by
a skdeep MLP), skl2onnx needs a shape calculator and a converter for skdeep's
classes, registered with ``skl2onnx.update_registered_converter`` as the
LightGBM and XGBoost converters are. The converter reuses the graph that
:func:`skdeep.to_onnx` builds and inlines it into skl2onnx's graph, so the
two exports compute the same thing. skl2onnx is imported only when
:func:`register_skl2onnx_converters` is called.
"""

import numpy as np

from ._classifier import MLPClassifier
from ._onnx import _MIN_OPSET, skip_examples_without, to_onnx
from ._regressor import MLPRegressor

__all__ = ["register_skl2onnx_converters"]

#: skl2onnx's aliases of skdeep's operators.
_ALIASES = {MLPClassifier: "SkdeepMLPClassifier", MLPRegressor: "SkdeepMLPRegressor"}
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
    """Register skdeep's MLPs with skl2onnx, so that pipelines ending in them convert.

    After this call, ``skl2onnx.to_onnx(pipeline, X[:1])`` (or
    ``skl2onnx.convert_sklearn``) converts pipelines whose steps skl2onnx
    knows and that end in a skdeep :class:`~skdeep.MLPClassifier` or
    :class:`~skdeep.MLPRegressor`, exactly as it converts pipelines that end
    in scikit-learn's MLPs: a classifier has the outputs ``label`` and
    ``probabilities`` (a ZipMap of them unless ``options={"zipmap": False}``),
    a regressor the output ``variable``. Calling it again changes nothing.

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
    and label outputs hold no others); models with ``categorical_features``
    cannot be exported, as with :func:`skdeep.to_onnx`. The network runs in
    the float type of its input in the pipeline (float32, or float64 for a
    ``DoubleTensorType`` input).

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
    skl2onnx.update_registered_converter(
        MLPClassifier, _ALIASES[MLPClassifier], _classifier_shapes, _convert,
        options=_CLASSIFIER_OPTIONS,
    )
    skl2onnx.update_registered_converter(
        MLPRegressor, _ALIASES[MLPRegressor], _regressor_shapes, _convert
    )


skip_examples_without(register_skl2onnx_converters, ("skl2onnx", "onnxruntime"))


def _float_types(operator):
    """(numpy dtype, skl2onnx tensor type) of the network, from its input."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(operator.inputs[0].type, DoubleTensorType):
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
    operator.outputs[1].type = _float_types(operator)[1]([n_rows, n_columns])


def _regressor_shapes(operator):
    """skl2onnx shape calculator: ``variable``, of shape (n, n_outputs_)."""
    n_rows = operator.inputs[0].get_first_dimension()
    tensor_type = _float_types(operator)[1]
    operator.outputs[0].type = tensor_type([n_rows, int(operator.raw_operator.n_outputs_)])


def _convert(scope, operator, container):
    """skl2onnx converter: skdeep.to_onnx's graph, inlined under fresh names."""
    opset = container.target_opset
    if opset is not None and opset < _MIN_OPSET:
        raise ValueError(
            f"skdeep's MLPs need target_opset >= {_MIN_OPSET}; got {opset}."
        )
    dtype = _float_types(operator)[0]
    graph = to_onnx(operator.raw_operator, dtype=dtype, opset=opset).graph
    names = {graph.input[0].name: operator.inputs[0].full_name}
    names.update(
        (output.name, variable.full_name)
        for output, variable in zip(graph.output, operator.outputs, strict=True)
    )

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
            name=scope.get_unique_operator_name(f"{operator.full_name}_{node.op_type}"),
            **_attributes(node),
        )


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
