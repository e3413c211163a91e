"""Pickling that records the skdeep version and keeps only arrays.

A pickle (or skops file) of a fitted estimator holds plain arrays and
builtins; caches rebuilt from them, such as the categories' hash lookups,
are dropped on saving and rebuilt on loading. Loading a file written by
another skdeep version warns, as scikit-learn does for its own estimators.
"""

import warnings

from ._categorical import category_lookups
from ._version import __version__

__all__ = ["VersionedPickleMixin"]


class VersionedPickleMixin:
    """Mixin: version-tagged ``__getstate__`` / ``__setstate__``."""

    def __getstate__(self):
        # sklearn may hand back the instance's own __dict__: copy before tagging.
        state = dict(super().__getstate__())
        state["_skdeep_version"] = __version__
        state.pop("_category_lookups", None)
        return state

    def __setstate__(self, state):
        saved_version = state.pop("_skdeep_version", None)
        if saved_version is not None and saved_version != __version__:
            warnings.warn(
                f"Trying to unpickle estimator {type(self).__name__} from skdeep "
                f"version {saved_version} when using version {__version__}. This "
                "might lead to breaking code or invalid results. Use at your own risk.",
                UserWarning,
            )
        super().__setstate__(state)
        if getattr(self, "categories_", None) is not None:
            self._category_lookups = category_lookups(self.categories_)
