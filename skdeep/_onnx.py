"""Export of fitted multi-layer perceptrons to ONNX.

The graph is written directly with ``onnx.helper``: one ``MatMul`` and one
``Add`` per layer, the hidden activations of the fitted model, and the output
activation of the task. ``onnx`` is imported only when :func:`to_onnx` is
called, so skdeep itself does not depend on it.

Hidden activations map to ONNX operators as follows: ``Sigmoid``, ``Tanh``,
``Relu``; in float32 ``LeakyRelu`` and ``Softplus`` (in float64 these two are
composed from primitive operators, whose constants keep double precision and
which onnxruntime implements for doubles). ELU and SELU are always composed
from primitives: ONNX's ``Elu`` and ``Selu`` compute ``exp(z) - 1``, which
loses all relative precision near 0 where skdeep uses ``expm1``. GELU (tanh
approximation) is composed from primitives too, so the graph needs no recent
opset.
"""

import importlib.util
from numbers import Integral

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ._engine.activations import GELU_CUBIC, LEAKY_SLOPE, SELU_ALPHA, SELU_SCALE, SQRT_2_OVER_PI
from ._fitted import hidden_activation_names
from ._version import __version__

__all__ = ["to_onnx"]

# Every operator of the graph exists with today's semantics since opset 13
# (Softmax over one axis, Gather/ArgMax/Concat on all tensor types); 17 is
# read by every onnxruntime release of the last years.
_MIN_OPSET = 13
_DEFAULT_OPSET = 17


def _require_onnx():
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_onnx requires the 'onnx' package. Install it with "
            "`python -m pip install onnx onnxruntime` (or skdeep's `onnx` extra)."
        ) from exc
    return onnx


def _check_estimator(estimator):
    """The estimator's kind ('classifier' or 'regressor'); raise if unusable."""
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier
    from sklearn.neural_network import MLPRegressor as SkMLPRegressor

    from ._base import BaseMultilayerPerceptron

    if not isinstance(estimator, (BaseMultilayerPerceptron, SkMLPClassifier, SkMLPRegressor)):
        raise TypeError(
            "to_onnx exports skdeep's MLPClassifier, MLPRegressor, TabularMLPClassifier, "
            "TabularMLPRegressor and MLPFeatures (and scikit-learn's MLPs); got an "
            f"instance of {type(estimator).__name__}. To export a Pipeline, call "
            "skdeep.register_skl2onnx_converters() and then skl2onnx.to_onnx(pipeline, "
            "X[:1])."
        )
    check_is_fitted(
        estimator,
        attributes=["coefs_", "intercepts_"],
        msg=(
            f"This {type(estimator).__name__} instance is not fitted yet: call "
            "'fit' with appropriate arguments before exporting it with to_onnx."
        ),
    )
    if getattr(estimator, "is_categorical_", None) is not None:
        raise ValueError(
            f"to_onnx cannot export a {type(estimator).__name__} with "
            "categorical_features: its graph takes one float tensor, and does not look "
            "categories (strings, ids) up in the learned embedding tables. "
            "TabularMLPClassifier and TabularMLPRegressor embed categories too and "
            "export them (one input per column); or keep this model in Python "
            "(pickle, joblib or skops)."
        )
    return "classifier" if is_classifier(estimator) else "regressor"


def _hidden_activations(estimator):
    names = hidden_activation_names(estimator)
    n_hidden = len(estimator.coefs_) - 1
    if len(names) != n_hidden:
        raise ValueError(
            f"The estimator has {n_hidden} hidden layer(s) but {len(names)} "
            "hidden activation(s); it cannot be exported."
        )
    return names


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype}.")
    return dtype


def _check_opset(opset, onnx):
    if opset is None:
        return _DEFAULT_OPSET
    latest = onnx.defs.onnx_opset_version()
    if not isinstance(opset, Integral) or isinstance(opset, bool) or not (
        _MIN_OPSET <= opset <= latest
    ):
        raise ValueError(
            f"opset must be an integer from {_MIN_OPSET} to {latest} (the newest "
            f"opset of the installed onnx package), got {opset!r}."
        )
    return int(opset)


class _GraphBuilder:
    """Accumulates nodes and initializers; every value gets a fresh name."""

    def __init__(self, onnx, dtype):
        self.onnx = onnx
        self.dtype = dtype
        self.elem_type = onnx.helper.np_dtype_to_tensor_dtype(dtype)
        self.nodes = []
        self.initializers = []
        self._count = 0
        self._scalars = {}
        #: Opset of every operator domain besides the default one the graph uses.
        self.domains = {}

    def _name(self, stem):
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, stem, values, dtype=None, *, name=None):
        """An initializer holding ``values`` (in the graph's float dtype by default).

        Scalars are stored once and shared by every node that uses them;
        ``name`` gives an initializer an exact name instead of a numbered one.
        """
        array = np.asarray(values, dtype=self.dtype if dtype is None else dtype)
        key = (stem, array.dtype.str, array.item()) if array.ndim == 0 else None
        if key in self._scalars:
            return self._scalars[key]
        name = name or self._name(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        if key is not None:
            self._scalars[key] = name
        return name

    def string_constant(self, stem, values):
        """A 1-D STRING initializer (UTF-8 encoded)."""
        name = self._name(stem)
        encoded = [str(value).encode("utf-8") for value in values]
        self.initializers.append(
            self.onnx.helper.make_tensor(
                name, self.onnx.TensorProto.STRING, [len(encoded)], encoded
            )
        )
        return name

    def op(self, op_type, *inputs, output=None, domain="", domain_opset=None, **attributes):
        """Append a node; return the name of its (single) output.

        An operator of another ``domain`` than ONNX's default one (such as
        ``"ai.onnx.ml"``) needs the ``domain_opset`` that defines it.
        """
        output = output or self._name(op_type.lower())
        if domain:
            self.domains[domain] = max(self.domains.get(domain, 0), int(domain_opset))
        self.nodes.append(
            self.onnx.helper.make_node(
                op_type, list(inputs), [output], name=self._name(f"{op_type}_node"),
                domain=domain or None, **attributes,
            )
        )
        return output

    # -- activations -------------------------------------------------------
    def hidden_activation(self, name, z):
        """The nodes computing the hidden activation ``name`` of ``z``."""
        if name not in ONNX_ACTIVATIONS:
            raise ValueError(f"Cannot export the hidden activation {name!r} to ONNX.")
        return ONNX_ACTIVATIONS[name](self, z)

    def _identity(self, z):
        return z

    def _logistic(self, z):
        return self.op("Sigmoid", z)

    def _tanh(self, z):
        return self.op("Tanh", z)

    def _relu(self, z):
        return self.op("Relu", z)

    def _leaky_relu(self, z):
        if self.dtype == np.float32:
            return self.op("LeakyRelu", z, alpha=LEAKY_SLOPE)
        # max(z, slope * z), as the engine computes it.
        return self.op("Max", z, self.op("Mul", z, self.constant("leaky_slope", LEAKY_SLOPE)))

    def _elu(self, z):
        return self._where_negative(z, self._expm1(z))

    def _selu(self, z):
        # Scale each branch rather than the result: onnxruntime would fuse a
        # scalar Mul before the next MatMul into a FusedMatMul whose float32
        # ``alpha`` attribute rounds the scale (and the order of the products
        # would differ from the engine's).
        scale = self.constant("selu_scale", SELU_SCALE)
        negative = self.op("Mul", self.constant("selu_alpha", SELU_ALPHA), self._expm1(z))
        return self._where_negative(
            z, self.op("Mul", negative, scale), positive_branch=self.op("Mul", z, scale)
        )

    def _softplus(self, z):
        if self.dtype == np.float32:
            return self.op("Softplus", z)
        # log(1 + e**z) = max(z, 0) + log(1 + e**-|z|): no overflow.
        tail = self.op("Exp", self.op("Neg", self.op("Abs", z)))
        log_tail = self.op("Log", self.op("Add", self.constant("one", 1.0), tail))
        return self.op("Add", self.op("Relu", z), log_tail)

    def _mish(self, z):
        # z * tanh(softplus(z)), softplus as for the softplus activation.
        return self.op("Mul", z, self.op("Tanh", self._softplus(z)))

    def _gelu(self, z):
        # z / 2 * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 z**3)))
        cube = self.op("Mul", self.op("Mul", z, z), z)
        inner = self.op("Add", z, self.op("Mul", self.constant("gelu_cubic", GELU_CUBIC), cube))
        scaled = self.op("Mul", self.constant("sqrt_2_over_pi", SQRT_2_OVER_PI), inner)
        gate = self.op("Add", self.constant("one", 1.0), self.op("Tanh", scaled))
        half_gate = self.op("Mul", self.constant("half", 0.5), gate)
        return self.op("Mul", z, half_gate)

    def _expm1(self, z):
        """``exp(z) - 1`` to full relative precision near 0 (there is no Expm1 op).

        ``exp(z) - 1`` cancels for small ``|z|``, and the error grows through
        the next layers; ``2 t / (1 - t)`` with ``t = tanh(z / 2)`` is the
        same function without cancellation for the ``z < 0`` where it is used.
        """
        t = self.op("Tanh", self.op("Mul", z, self.constant("half", 0.5)))
        numerator = self.op("Add", t, t)
        return self.op("Div", numerator, self.op("Sub", self.constant("one", 1.0), t))

    def _where_negative(self, z, negative_branch, positive_branch=None):
        is_negative = self.op("Less", z, self.constant("zero", 0.0))
        return self.op("Where", is_negative, negative_branch, positive_branch or z)


#: The ONNX graph of every hidden activation of ``skdeep._engine.ACTIVATIONS``
#: (a test checks that the two registries have the same names).
ONNX_ACTIVATIONS = {
    "identity": _GraphBuilder._identity,
    "logistic": _GraphBuilder._logistic,
    "tanh": _GraphBuilder._tanh,
    "relu": _GraphBuilder._relu,
    "leaky_relu": _GraphBuilder._leaky_relu,
    "elu": _GraphBuilder._elu,
    "selu": _GraphBuilder._selu,
    "softplus": _GraphBuilder._softplus,
    "gelu": _GraphBuilder._gelu,
    "mish": _GraphBuilder._mish,
}


def _class_table(builder, classes):
    """Initializer of the class labels and the ONNX element type of ``label``."""
    onnx = builder.onnx
    classes = np.asarray(classes)
    if len(classes) == 1:
        # A model fitted on one class predicts it whatever the probability.
        classes = np.concatenate([classes, classes])
    kind = classes.dtype.kind
    if kind == "b":
        return builder.constant("classes", classes, np.bool_), onnx.TensorProto.BOOL
    if kind in "iu":
        if kind == "u" and classes.max() > np.iinfo(np.int64).max:
            raise ValueError("Class labels above 2**63 - 1 cannot be exported.")
        return builder.constant("classes", classes, np.int64), onnx.TensorProto.INT64
    if kind == "f":
        float_type = classes.dtype if classes.dtype == np.float32 else np.float64
        return (
            builder.constant("classes", classes, float_type),
            onnx.helper.np_dtype_to_tensor_dtype(np.dtype(float_type)),
        )
    if kind in "US" or (kind == "O" and all(isinstance(c, str) for c in classes)):
        return builder.string_constant("classes", classes), onnx.TensorProto.STRING
    raise TypeError(
        f"Class labels of dtype {classes.dtype} cannot be exported to ONNX; use "
        "integers, floats, booleans or strings."
    )


def _classifier_outputs(builder, estimator, logits):
    """Nodes from the logits to 'label' and 'probabilities'; their value infos."""
    onnx = builder.onnx
    make_info = onnx.helper.make_tensor_value_info
    n_outputs = int(estimator.n_outputs_)
    out_activation = estimator.out_activation_
    if out_activation == "softmax":
        kind = "multiclass"
    elif out_activation == "logistic":
        kind = "binary" if n_outputs == 1 else "multilabel"
    else:
        raise ValueError(f"Unknown classifier output activation {out_activation!r}.")

    if kind == "multilabel":
        builder.op("Sigmoid", logits, output="probabilities")
        exceeds = builder.op("Greater", "probabilities", builder.constant("threshold", 0.5))
        builder.op("Cast", exceeds, output="label", to=onnx.TensorProto.INT64)
        return [
            make_info("label", onnx.TensorProto.INT64, [None, n_outputs]),
            make_info("probabilities", builder.elem_type, [None, n_outputs]),
        ]

    if kind == "binary":
        # [sigmoid(-z), sigmoid(z)]: no cancellation in 1 - sigmoid(z), and
        # class 1 where its probability exceeds 0.5 (sklearn's threshold).
        negative = builder.op("Sigmoid", builder.op("Neg", logits))
        positive = builder.op("Sigmoid", logits)
        builder.op("Concat", negative, positive, output="probabilities", axis=1)
        index = builder.op(
            "Cast",
            builder.op("Greater", positive, builder.constant("threshold", 0.5)),
            to=onnx.TensorProto.INT64,
        )
        index = builder.op("Reshape", index, builder.constant("flat", [-1], np.int64))
        n_classes = 2
    else:
        builder.op("Softmax", logits, output="probabilities", axis=1)
        # The first maximum on ties, like numpy's argmax.
        index = builder.op("ArgMax", "probabilities", axis=1, keepdims=0)
        n_classes = n_outputs

    classes, label_type = _class_table(builder, estimator.classes_)
    builder.op("Gather", classes, index, output="label", axis=0)
    return [
        make_info("label", label_type, [None]),
        make_info("probabilities", builder.elem_type, [None, n_classes]),
    ]


def _regressor_outputs(builder, estimator, logits):
    onnx = builder.onnx
    if estimator.out_activation_ == "exp":
        builder.op("Exp", logits, output="variable")
    elif estimator.out_activation_ == "identity":
        builder.op("Identity", logits, output="variable")
    elif estimator.out_activation_ == "cumulative_softplus":
        _cumulative_softplus(builder, logits, output="variable")
    else:
        raise ValueError(
            f"Unknown regressor output activation {estimator.out_activation_!r}."
        )
    n_outputs = int(estimator.n_outputs_)
    return [onnx.helper.make_tensor_value_info("variable", builder.elem_type, [None, n_outputs])]


def _cumulative_softplus(builder, logits, output):
    """The non-crossing quantiles: the first logit, then running softplus steps."""
    axis = builder.constant("axis", [1], np.int64)
    first = builder.op("Slice", logits, builder.constant("start", [0], np.int64),
                       builder.constant("stop", [1], np.int64), axis)
    rest = builder.op("Slice", logits, builder.constant("start", [1], np.int64),
                      builder.constant("stop", [np.iinfo(np.int64).max], np.int64), axis)
    # The builder's softplus: onnxruntime has no double Softplus kernel.
    steps = builder.op("Concat", first, builder._softplus(rest), axis=1)
    return builder.op("CumSum", steps, builder.constant("axis", 1, np.int64), output=output)


def dense_stack(builder, coefs, intercepts, activations, x, n_layers=None, stem=""):
    """``MatMul``, ``Add`` and activation of the first ``n_layers`` layers (all by default).

    ``activations`` names the activation after each layer but the last of the
    whole network (its output layer has none here); with ``n_layers`` the
    stack stops after that many layers, activation included. ``stem``
    prefixes the initializers' names (``coefficient_<i>``, ``intercept_<i>``).
    """
    last = len(coefs) - 1
    n_layers = len(coefs) if n_layers is None else n_layers
    for i, (W, b) in enumerate(zip(coefs[:n_layers], intercepts[:n_layers])):
        weights = builder.constant("coefficient", W, name=f"{stem}coefficient_{i}")
        bias = builder.constant("intercept", b, name=f"{stem}intercept_{i}")
        z = builder.op("Add", builder.op("MatMul", x, weights), bias)
        x = z if i == last else builder.hidden_activation(activations[i], z)
    return x


def finish_model(builder, estimator, inputs, outputs, opset, properties):
    """The checked ModelProto of the builder's graph, with skdeep's metadata."""
    onnx = builder.onnx
    graph = onnx.helper.make_graph(
        builder.nodes, f"skdeep_{type(estimator).__name__}", inputs, outputs,
        initializer=builder.initializers,
    )
    opset_imports = [onnx.helper.make_opsetid("", opset)]
    opset_imports += [onnx.helper.make_opsetid(domain, version)
                      for domain, version in sorted(builder.domains.items())]
    model = onnx.helper.make_model(
        graph,
        opset_imports=opset_imports,
        # The oldest IR version that can carry this opset: readable by as
        # many runtimes as possible.
        ir_version=onnx.helper.find_min_ir_version_for(opset_imports),
        producer_name="skdeep",
        producer_version=__version__,
        doc_string=f"{type(estimator).__name__} exported by skdeep {__version__}.",
    )
    onnx.helper.set_model_props(
        model,
        {"estimator": f"{type(estimator).__module__}.{type(estimator).__name__}", **properties},
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def to_onnx(estimator, *, dtype=np.float32, opset=None):
    """Export a fitted MLP to an ONNX model.

    The graph computes what ``predict`` (and, for classifiers,
    ``predict_proba``) computes: one ``MatMul`` and ``Add`` per layer, the
    fitted hidden activations, then the output activation. It is built with
    the ``onnx`` package alone and can be run by any ONNX runtime, for
    instance ``onnxruntime``.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor, TabularMLPClassifier, \
            TabularMLPRegressor or MLPFeatures
        A fitted skdeep estimator (scikit-learn's own
        :class:`~sklearn.neural_network.MLPClassifier` and
        :class:`~sklearn.neural_network.MLPRegressor` are accepted too). The
        tabular estimators and ``MLPFeatures`` have their own inputs and
        outputs, described in the Notes.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Element type of the input, the weights and the float outputs. The
        weights are cast to it: a model fitted in float64 and exported in
        float32 agrees with ``predict`` to float32 precision.
    opset : int, default=None
        ONNX opset of the default domain, from 13 to the newest opset of the
        installed ``onnx``. None uses 17, which every recent runtime reads.

    Returns
    -------
    model : onnx.ModelProto
        A checked ONNX model with one input, ``"X"``, of shape
        ``(None, n_features_in_)`` (columns in training order, dense). A
        classifier has two outputs: ``"label"``, of shape ``(None,)``, holding
        the predicted classes with the type of ``classes_`` (int64, float,
        bool or string), or for multilabel targets an int64 indicator matrix
        of shape ``(None, n_outputs_)``; and ``"probabilities"``, of shape
        ``(None, n_classes)``. A regressor has one output, ``"variable"``,
        always 2-D, of shape ``(None, n_outputs_)``: where ``predict``
        returns a 1-D array for a single target, the ONNX output has one
        column. The weights are the initializers ``coefficient_<i>`` and
        ``intercept_<i>`` of layer ``i``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator has not been fitted.
    TypeError
        If ``estimator`` is none of the above (a ``Pipeline`` is exported by
        skl2onnx, see :func:`register_skl2onnx_converters`), or its class
        labels have a type ONNX cannot hold.
    ValueError
        If ``dtype`` is not float32 or float64, or ``opset`` is out of range;
        if an :class:`MLPClassifier` or :class:`MLPRegressor` has
        ``categorical_features``; if a categorical column of a tabular model
        mixes categories of several types (strings and numbers), which no
        ONNX tensor holds.
    ImportError
        If the ``onnx`` package is not installed.

    See Also
    --------
    MLPClassifier.predict_proba : The probabilities the graph reproduces.

    Notes
    -----
    The ONNX input must have the dtype of the export: feed float32 arrays to
    a float32 model. Sparse input is not supported by the graph; densify it.
    Feature names are not part of the graph: pass columns in the order of
    ``feature_names_in_``.

    **Tabular estimators.** The graph holds the fitted input encoding (robust
    scaling and smooth clipping, missing-value indicators, one-hot and
    embedded categories with their unknown category, value embeddings),
    every network of the ensemble with its piecewise-linear and periodic
    encodings, and their average, as ``predict`` computes it. A model
    fitted on numeric columns only takes one input ``"X"`` of shape
    ``(None, n_features_in_)``, NaN for missing values. A model with
    categorical (or date-time) columns takes one input per column, named
    after the column (``x0``, ``x1``, ... without feature names), of shape
    ``(None, 1)``: strings for a column of string categories (missing as
    any string that is no category, such as ``""``), int64, float64 or
    bool for numeric categories, float64 seconds since 1970-01-01 UTC (or
    seconds, for durations) for a time column, and ``dtype`` for the
    numeric columns. The encoding runs in float64 whatever ``dtype``, so
    that a value near a bin edge lands in the bin it lands in with
    ``predict``; the networks run in ``dtype``. Infinite values, which
    ``predict`` refuses, act like the largest values in the graph. The
    outputs are those of the MLPs (the regressor's ``variable`` has one
    column per quantile level with several levels).

    **MLPFeatures.** One output, ``"features"``, of shape ``(None,
    n_features_out)``: what ``transform`` returns, for the inputs of the
    wrapped estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skdeep import MLPClassifier, to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs",
    ...                     max_iter=300, random_state=0).fit(X, y)
    >>> model = to_onnx(clf)
    >>> [output.name for output in model.graph.output]
    ['label', 'probabilities']

    Run it with onnxruntime:

    >>> import onnxruntime as ort
    >>> session = ort.InferenceSession(model.SerializeToString(),
    ...                                providers=["CPUExecutionProvider"])
    >>> label, probabilities = session.run(None, {"X": X[:5]})
    >>> bool(np.array_equal(label, clf.predict(X[:5])))
    True
    >>> bool(np.allclose(probabilities, clf.predict_proba(X[:5]), atol=1e-6))
    True

    Save it with ``onnx.save(model, "model.onnx")``.
    """
    onnx = _require_onnx()
    dtype = _check_dtype(dtype)
    opset = _check_opset(opset, onnx)
    from ._onnx_tabular import exports_separately, tabular_model

    if exports_separately(estimator):
        return tabular_model(estimator, dtype, opset)
    kind = _check_estimator(estimator)
    hidden_activations = _hidden_activations(estimator)

    builder = _GraphBuilder(onnx, dtype)
    n_features = int(estimator.coefs_[0].shape[0])
    logits = dense_stack(builder, estimator.coefs_, estimator.intercepts_, hidden_activations, "X")
    if kind == "classifier":
        outputs = _classifier_outputs(builder, estimator, logits)
    else:
        outputs = _regressor_outputs(builder, estimator, logits)
    inputs = [onnx.helper.make_tensor_value_info("X", builder.elem_type, [None, n_features])]
    return finish_model(builder, estimator, inputs, outputs, opset, {
        "out_activation": str(estimator.out_activation_),
        "hidden_activations": ",".join(hidden_activations),
    })


def _examples_runnable(modules=("onnx", "onnxruntime")):
    """Whether ``modules`` are importable (without importing them)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in modules)
    except (ImportError, ValueError):
        return False


def skip_examples_without(function, modules):
    """Mark the examples of ``function``'s docstring ``+SKIP`` if ``modules`` are
    missing: they run under doctest only where they can."""
    if not _examples_runnable(modules) and function.__doc__:  # pragma: no cover
        function.__doc__ = "\n".join(
            line + "  # doctest: +SKIP" if line.lstrip().startswith(">>>") else line
            for line in function.__doc__.splitlines()
        )


skip_examples_without(to_onnx, ("onnx", "onnxruntime"))
