"""
Plotting the training history
=============================

Every fitted network records its training loss after each epoch in
``loss_curve_`` and, with ``early_stopping=True``, the score on the held-out
validation set in ``validation_scores_`` and the loss on it in
``validation_loss_curve_``. :class:`~skdeep.TrainingHistoryDisplay` draws
them all: the two losses on the left axis (the validation loss dashed) and
the validation score on a second axis on the right, because losses and
scores live on different scales. Like scikit-learn's displays, it is created
from a fitted estimator with ``from_estimator`` and keeps the matplotlib
objects it drew (``ax_``, ``figure_``, ``lines_``) for further styling.
"""

# %%
# Early stopping on the digits
# ----------------------------
# With early stopping, 10 % of the training data is held out; training stops
# once the validation accuracy has not improved for ``n_iter_no_change``
# epochs, and the weights of the best epoch are kept.
import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeep import MLPClassifier, MLPRegressor, TrainingHistoryDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)

clf = MLPClassifier(
    hidden_layer_sizes=(64,), early_stopping=True, n_iter_no_change=15, random_state=0
)
clf.fit(X_train, y_train)
best_epoch = clf.validation_scores_.index(clf.best_validation_score_) + 1
print(f"stopped after {clf.n_iter_} epochs; best validation accuracy "
      f"{clf.best_validation_score_:.3f} at epoch {best_epoch}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

display = TrainingHistoryDisplay.from_estimator(clf)
display.ax_.axvline(best_epoch, color="gray", linestyle=":")
display.ax_.set_title("MLPClassifier on the digits, early stopping")
plt.show()

# %%
# The training loss keeps falling while the validation accuracy levels off:
# from there on the network improves on the data it sees without getting
# better on new data, which is what early stopping watches for. The dashed
# validation loss follows the training loss closely here; a widening gap
# between the two is the sign of overfitting (see
# :ref:`sphx_glr_auto_examples_plot_regularization.py`), and
# ``from_estimator(clf, validation_loss=False)`` leaves it out.
#
# Several models on one axes
# --------------------------
# Pass ``ax`` to draw into existing axes and matplotlib keyword arguments
# (here ``label`` and ``color``) to style the loss line. Without early
# stopping there is no validation score, so only the loss is drawn; a final
# ``ax.legend()`` collects the labels of all the lines.
fig, ax = plt.subplots(figsize=(7, 4))
solvers = [
    ("sgd", {"learning_rate_init": 0.1}, "tab:green"),
    ("adam", {"learning_rate_init": 0.01}, "tab:blue"),
]
for solver, options, color in solvers:
    model = MLPClassifier(hidden_layer_sizes=(64,), solver=solver, random_state=0, **options)
    model.fit(X_train, y_train)
    TrainingHistoryDisplay.from_estimator(model, ax=ax, label=solver, color=color)
ax.set_yscale("log")
ax.set_title("Training loss of two solvers (log scale)")
ax.legend()
plt.show()

# %%
# A pipeline, and L-BFGS
# ----------------------
# ``from_estimator`` also accepts a pipeline whose last step is a network.
# With the L-BFGS solver, ``loss_curve_`` has one entry per iteration of the
# optimiser rather than per epoch. The diabetes data set ships with
# scikit-learn.
X, y = load_diabetes(return_X_y=True)
regressor = make_pipeline(
    StandardScaler(),
    MLPRegressor(
        hidden_layer_sizes=(16,), solver="lbfgs", alpha=10.0, max_iter=1000, random_state=0
    ),
)
regressor.fit(X, (y - y.mean()) / y.std())
display = TrainingHistoryDisplay.from_estimator(regressor, color="tab:purple")
display.ax_.set_xlabel("L-BFGS iteration")
plt.show()

# %%
# From numbers
# ------------
# The display can also be built from any sequence of losses and scores,
# for example ones saved from an earlier run, then drawn with ``plot``.
saved = TrainingHistoryDisplay(
    loss_curve=clf.loss_curve_,
    validation_scores=clf.validation_scores_,
    estimator_name="saved run",
)
saved.plot(linewidth=3)
print([line.get_label() for line in saved.lines_])
plt.show()
