"""The one place where skdeep imports private scikit-learn helpers.

sklearn's parameter-validation machinery (``_fit_context`` and the constraint
classes used in ``_parameter_constraints``) is the documented way for
third-party estimators to validate parameters, but it lives in private
modules. Importing it only here means a future move in sklearn is fixed in a
single file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import _check_feature_names_in

try:  # sklearn's callback API, new in scikit-learn 1.9
    from sklearn.callback import CallbackSupportMixin, with_callbacks

    SKLEARN_HAS_CALLBACKS = True
except ImportError:  # older scikit-learn: estimators work, callbacks are refused
    SKLEARN_HAS_CALLBACKS = False

    class CallbackSupportMixin:
        """Stand-in for ``sklearn.callback.CallbackSupportMixin``."""

        def set_callbacks(self, *callbacks):
            raise RuntimeError(
                "set_callbacks needs scikit-learn >= 1.9 (sklearn.callback); "
                "upgrade scikit-learn or use verbose=True and history_ instead."
            )

    def with_callbacks(method):
        """Stand-in for ``sklearn.callback.with_callbacks``: no callbacks to manage."""
        return method


__all__ = [
    "_fit_context",
    "_check_feature_names_in",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "CallbackSupportMixin",
    "with_callbacks",
    "SKLEARN_HAS_CALLBACKS",
]
