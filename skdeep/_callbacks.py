"""Bridge between skdeep's training loops and sklearn's callback API.

sklearn 1.9 introduced ``sklearn.callback``: an estimator opens a callback
context for its fit, and a sub-context for each iteration, around which it
calls the callbacks' ``on_fit_task_begin`` / ``on_fit_task_end`` hooks. The
training loops of skdeep know nothing of sklearn; they call the two methods
of an ``EpochHooks`` object, which this module implements on top of sklearn's
contexts. A hook that returns True asks training to stop: a flag, never an
exception.
"""

from ._compat import SKLEARN_HAS_CALLBACKS

__all__ = ["EpochHooks", "callback_hooks"]


class EpochHooks:
    """Per-epoch (or per-iteration) hooks for the training loops.

    Parameters
    ----------
    root_context : sklearn.callback.CallbackContext
        Context of the estimator's fit.
    estimator : estimator instance
        The estimator being fitted.
    X, y : array-like
        The data given to fit, passed to the callbacks (e.g. for scoring).
    metadata : dict or None
        Training metadata such as ``sample_weight``.
    task_name : str
        Name of one sub-task ("epoch" or "lbfgs-iter").
    """

    def __init__(self, root_context, estimator, X, y, metadata, task_name):
        self._root = root_context
        self._estimator = estimator
        self._X, self._y, self._metadata = X, y, metadata
        self._task_name = task_name
        self._context = None

    def _call(self, context, hook, network):
        method = getattr(context, hook)
        return method(
            estimator=self._estimator,
            X=self._X,
            y=self._y,
            metadata=self._metadata,
            reconstruction_attributes=lambda: {
                "coefs_": [W.copy() for W in network.coefs],
                "intercepts_": [b.copy() for b in network.intercepts],
            },
        )

    def fit_begin(self, network):
        """Before training: the root task begins."""
        self._call(self._root, "call_on_fit_task_begin", network)

    def epoch_begin(self, network):
        """A sub-task (epoch or iteration) begins."""
        self._context = self._root.subcontext(task_name=self._task_name)
        self._call(self._context, "call_on_fit_task_begin", network)

    def epoch_end(self, network):
        """A sub-task ends; returns True when a callback asks to stop."""
        context, self._context = self._context, None
        return bool(self._call(context, "call_on_fit_task_end", network))

    def fit_end(self, network):
        """After training: close a sub-task left open, then the root task."""
        if self._context is not None:
            self._context.call_on_fit_task_end(estimator=self._estimator)
            self._context = None
        self._call(self._root, "call_on_fit_task_end", network)


def callback_hooks(estimator, X, y, sample_weight, max_subtasks, task_name):
    """``EpochHooks`` for ``estimator``'s callbacks, or None without callbacks."""
    if not SKLEARN_HAS_CALLBACKS or not getattr(estimator, "_skl_callbacks", None):
        return None
    root = estimator._init_callback_context(max_subtasks=max_subtasks)
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    return EpochHooks(root, estimator, X, y, metadata, task_name)
