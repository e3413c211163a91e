"""Plot of a fitted network's training history, in scikit-learn's Display style.

scikit-learn's plotting helpers (``RocCurveDisplay``, ``LearningCurveDisplay``
...) share one convention: the constructor stores the numbers to draw,
``plot`` draws them and keeps the matplotlib objects as attributes ending in
``_``, and ``from_estimator`` builds the display from a fitted estimator.
:class:`TrainingHistoryDisplay` follows it for ``loss_curve_``,
``validation_loss_curve_`` and ``validation_scores_``.

matplotlib is an optional dependency; it is imported only when plotting.
"""

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

__all__ = ["TrainingHistoryDisplay"]


def _import_pyplot():
    """``matplotlib.pyplot``, or an ImportError that says how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "TrainingHistoryDisplay needs matplotlib to plot, and it is not "
            "installed. Install it with `pip install matplotlib` (it is part of "
            "skdeep's 'docs' and 'test' extras)."
        ) from exc
    return plt


def _as_curve(values, name):
    """A 1-D float array from a list of numbers; a clear error otherwise."""
    curve = np.asarray(values, dtype=float)
    if curve.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got shape {curve.shape}.")
    return curve


class TrainingHistoryDisplay:
    """Training loss, validation loss and validation score, epoch by epoch.

    The training loss is drawn on the left axis, with the loss on the
    validation data (held out by ``early_stopping=True`` or passed to ``fit``
    as ``X_val, y_val``), when there is one, as a dashed line on the same
    axis: both are the same quantity, so the gap between them shows
    overfitting directly. The validation score, when there is one, goes on a
    twin axis on the right, because its scale is different. Build it with
    :meth:`from_estimator` from a fitted :class:`~skdeep.MLPClassifier` or
    :class:`~skdeep.MLPRegressor` (scikit-learn's MLPs work too), or directly
    from the numbers, then call :meth:`plot`.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss after each epoch (each iteration for L-BFGS), as in an
        estimator's ``loss_curve_``.
    validation_scores : array-like of shape (n_epochs,), default=None
        Score on the validation set after each epoch, as in
        ``validation_scores_``. ``None`` draws the loss only.
    estimator_name : str, default=None
        Name shown as the title of the plot. ``None`` shows no title.
    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Loss on the validation data after each epoch, as in
        ``validation_loss_curve_``, drawn dashed on the loss axis. ``None``
        draws no validation loss.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes of the training loss (left y-axis).
    ax_validation_ : matplotlib Axes or None
        Twin axes of the validation score (right y-axis), or ``None`` when
        there are no validation scores.
    figure_ : matplotlib Figure
        Figure containing the axes.
    lines_ : list of matplotlib Line2D
        The loss line, followed by the validation-score line if there is one.
    validation_loss_line_ : matplotlib Line2D or None
        The dashed validation-loss line, or ``None`` when there is no
        validation loss. It is in the legend but not in ``lines_``.

    See Also
    --------
    MLPClassifier : Multi-layer perceptron classifier.
    MLPRegressor : Multi-layer perceptron regressor.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from skdeep import MLPClassifier, TrainingHistoryDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True,
    ...                     random_state=0).fit(X / 16, y)
    >>> display = TrainingHistoryDisplay.from_estimator(clf)
    >>> [line.get_label() for line in display.lines_]
    ['Training loss', 'Validation score']
    >>> display.validation_loss_line_.get_label()
    'Validation loss'
    >>> display.ax_.get_xlabel()
    'Epoch'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(display.figure_)
    """

    def __init__(
        self, loss_curve, validation_scores=None, estimator_name=None, validation_loss_curve=None
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.validation_loss_curve = validation_loss_curve

    def plot(self, ax=None, **kwargs):
        """Draw the training history.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw the loss on. ``None`` creates a new figure and axes.
            The validation score, if any, goes on a twin of these axes.
        **kwargs : dict
            Keyword arguments passed to matplotlib's ``plot`` for the loss
            line (for example ``color`` or ``label``). The validation-loss
            line takes the same color, dashed, and the label
            ``"<label> (validation)"`` when a ``label`` is given.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, with ``ax_``, ``ax_validation_``, ``figure_``,
            ``lines_`` and ``validation_loss_line_`` set.
        """
        plt = _import_pyplot()
        loss = _as_curve(self.loss_curve, "loss_curve")
        if ax is None:
            _, ax = plt.subplots()

        loss_kwargs = {"label": "Training loss", "color": "tab:blue", **kwargs}
        epochs = np.arange(1, loss.size + 1)
        (loss_line,) = ax.plot(epochs, loss, **loss_kwargs)
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Training loss")
        lines = [loss_line]

        validation_loss_line = None
        if self.validation_loss_curve is not None:
            validation_loss = _as_curve(self.validation_loss_curve, "validation_loss_curve")
            label = f"{kwargs['label']} (validation)" if "label" in kwargs else "Validation loss"
            (validation_loss_line,) = ax.plot(
                np.arange(1, validation_loss.size + 1),
                validation_loss,
                label=label,
                color=loss_line.get_color(),
                linestyle="--",
            )
            ax.set_ylabel("Loss")

        ax_validation = None
        if self.validation_scores is not None:
            scores = _as_curve(self.validation_scores, "validation_scores")
            ax_validation = ax.twinx()
            (score_line,) = ax_validation.plot(
                np.arange(1, scores.size + 1),
                scores,
                label="Validation score",
                color="tab:orange",
            )
            ax_validation.set_ylabel("Validation score")
            lines.append(score_line)

        # One legend for both axes, on the axes drawn last so it stays on top.
        legend_lines = list(lines)
        if validation_loss_line is not None:
            legend_lines.insert(1, validation_loss_line)
        legend_ax = ax if ax_validation is None else ax_validation
        legend_ax.legend(legend_lines, [line.get_label() for line in legend_lines], loc="best")
        if self.estimator_name is not None:
            ax.set_title(self.estimator_name)

        self.ax_ = ax
        self.ax_validation_ = ax_validation
        self.figure_ = ax.figure
        self.lines_ = lines
        self.validation_loss_line_ = validation_loss_line
        return self

    @classmethod
    def from_estimator(cls, estimator, ax=None, *, validation_loss=True, **kwargs):
        """Plot the training history of a fitted network.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skdeep.MLPClassifier` or
            :class:`~skdeep.MLPRegressor` (or any fitted estimator with a
            ``loss_curve_``), or a :class:`~sklearn.pipeline.Pipeline` whose
            last step is one.
        ax : matplotlib Axes, default=None
            Axes to draw on. ``None`` creates a new figure and axes.
        validation_loss : bool, default=True
            Whether to draw the estimator's ``validation_loss_curve_`` (a
            skdeep attribute, set when the network was trained with
            validation data) dashed on the loss axis. ``False`` draws the
            training loss and the validation score only.
        **kwargs : dict
            Keyword arguments passed to matplotlib's ``plot`` for the loss
            line.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, already plotted.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        ValueError
            If the estimator has no ``loss_curve_``.
        """
        network = estimator
        if hasattr(estimator, "steps"):
            network = estimator.steps[-1][1]
        name = type(network).__name__
        try:
            check_is_fitted(network)
        except NotFittedError as exc:
            raise NotFittedError(
                f"This {name} instance is not fitted yet, so it has no training "
                "history to plot. Call 'fit' before "
                "TrainingHistoryDisplay.from_estimator."
            ) from exc
        loss_curve = getattr(network, "loss_curve_", None)
        if loss_curve is None:
            raise ValueError(
                f"{name} has no loss_curve_ attribute: TrainingHistoryDisplay needs "
                "a fitted neural network such as skdeep.MLPClassifier or "
                "skdeep.MLPRegressor."
            )
        validation_loss_curve = None
        if validation_loss:
            curve = getattr(network, "validation_loss_curve_", None)
            # None or empty (no validation data, or sklearn's MLP): nothing to draw.
            if curve is not None and len(curve) > 0:
                validation_loss_curve = curve
        display = cls(
            loss_curve=loss_curve,
            validation_scores=getattr(network, "validation_scores_", None),
            estimator_name=name,
            validation_loss_curve=validation_loss_curve,
        )
        return display.plot(ax=ax, **kwargs)
