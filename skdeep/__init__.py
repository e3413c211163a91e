"""skdeep: scikit-learn-native neural networks on a fast NumPy engine.

Public names: :class:`MLPClassifier`, :class:`MLPRegressor`.
"""

from ._classifier import MLPClassifier
from ._display import TrainingHistoryDisplay
from ._onnx import to_onnx
from ._regressor import MLPRegressor

from ._version import __version__

__all__ = ["MLPClassifier", "MLPRegressor", "TrainingHistoryDisplay", "to_onnx", "__version__"]
