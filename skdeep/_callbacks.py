"""Bridge between skdeep's training loops and sklearn's callback API.

sklearn 1.9 introduced ``sklearn.callback``: an estimator opens a callback
context for its fit, and a sub-context for each iteration, around which it
calls the callbacks' ``on_fit_task_begin`` / ``on_fit_task_end`` hooks. The
training loops know nothing of sklearn; they notify observers, and
:class:`CallbackObserver` turns those notifications into sklearn's hooks. A
callback that returns True asks training to stop: a flag, never an exception.
"""

from ._compat import SKLEARN_HAS_CALLBACKS
from ._training import Observer

__all__ = ["CallbackObserver", "callback_observer"]


class CallbackObserver(Observer):
    """sklearn callbacks around every epoch (or L-BFGS iteration).

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
    reconstruct : callable
        ``reconstruct(network) -> dict``: every fitted attribute of a model
        with the network's current weights, as independent copies, from
        which sklearn builds the ``fitted_estimator`` a callback receives.
    """

    def __init__(self, root_context, estimator, X, y, metadata, task_name, reconstruct):
        self._root = root_context
        self._estimator = estimator
        self._X, self._y, self._metadata = X, y, metadata
        self._task_name = task_name
        self._reconstruct = reconstruct
        self._context = None

    def _call(self, context, hook, network):
        method = getattr(context, hook)
        return method(
            estimator=self._estimator,
            X=self._X,
            y=self._y,
            metadata=self._metadata,
            reconstruction_attributes=lambda: self._reconstruct(network),
        )

    def on_train_begin(self, network):
        self._call(self._root, "call_on_fit_task_begin", network)

    def on_epoch_begin(self, network):
        self._context = self._root.subcontext(task_name=self._task_name)
        self._call(self._context, "call_on_fit_task_begin", network)

    def on_epoch_end(self, network, record):
        context, self._context = self._context, None
        return bool(self._call(context, "call_on_fit_task_end", network))

    def on_train_end(self, network, result):
        # L-BFGS opens a sub-task before each iteration; close one left open,
        # with the final weights (a callback may read fitted_estimator).
        if self._context is not None:
            self._call(self._context, "call_on_fit_task_end", network)
            self._context = None
        self._call(self._root, "call_on_fit_task_end", network)


def callback_observer(estimator, fit_args, max_subtasks, task_name, reconstruct):
    """A :class:`CallbackObserver` for ``estimator``'s callbacks, or None.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted (its ``set_callbacks`` callbacks).
    fit_args : tuple of (X, y, sample_weight)
        The arguments of the fit call, as the user gave them.
    max_subtasks : int
        Epochs (or iterations) the fit may run.
    task_name : str
        Name of one sub-task.
    reconstruct : callable
        See :class:`CallbackObserver`.
    """
    if not SKLEARN_HAS_CALLBACKS or not getattr(estimator, "_skl_callbacks", None):
        return None
    X, y, sample_weight = fit_args
    root = estimator._init_callback_context(max_subtasks=max_subtasks)
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    return CallbackObserver(root, estimator, X, y, metadata, task_name, reconstruct)
