"""skdeep: scikit-learn-native neural networks on a fast NumPy engine.

Public names: :class:`MLPClassifier` and :class:`MLPRegressor` (drop-ins
for scikit-learn's), :class:`TabularMLPClassifier` and
:class:`TabularMLPRegressor` (raw tables in, defaults tuned for tabular
data), :class:`MLPFeatures` (a fitted network's hidden layer as features
for another model), :class:`TrainingHistoryDisplay` (plots a fitted
network's training curves), :func:`to_onnx` (exports a fitted network) and
:func:`register_skl2onnx_converters` (lets skl2onnx export whole pipelines
that end in skdeep's MLPs).
"""

from ._classifier import MLPClassifier
from ._display import TrainingHistoryDisplay
from ._features import MLPFeatures
from ._onnx import to_onnx
from ._regressor import MLPRegressor
from ._skl2onnx import register_skl2onnx_converters
from ._tabular import TabularMLPClassifier, TabularMLPRegressor
from ._version import __version__

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
    "MLPFeatures",
    "TrainingHistoryDisplay",
    "register_skl2onnx_converters",
    "to_onnx",
    "__version__",
]
