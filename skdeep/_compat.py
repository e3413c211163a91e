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

__all__ = ["_fit_context", "Interval", "InvalidParameterError", "Options", "StrOptions"]
