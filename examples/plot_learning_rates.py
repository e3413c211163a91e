"""
Learning rate: too small, about right, too large
================================================

Gradient descent moves every weight a step against its gradient, and the
learning rate sets the length of that step (see the user guide page
:doc:`/user_guide/gradient_descent`). We train the same network on the
digits with plain stochastic gradient descent (no momentum, so that the
learning rate alone sets the step) and three learning rates, for the same
number of epochs, and compare the loss curves.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skdeep import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)


def train(learning_rate, n_epochs=40):
    """The same network and seed, trained for exactly ``n_epochs`` epochs."""
    clf = MLPClassifier(
        hidden_layer_sizes=(32,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=learning_rate,
        max_iter=n_epochs,
        tol=0.0,
        n_iter_no_change=n_epochs,  # never stop early: compare whole curves
        random_state=0,
    )
    # Running out of epochs is the point here, not a problem to report.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X_train, y_train)


# %%
# Three learning rates, side by side
# ----------------------------------
# * **Too small** (0.001): every step is tiny; after 40 epochs the loss has
#   barely moved from where it started.
# * **About right** (0.5): the loss falls fast, then keeps improving.
# * **Too large** (3.0): the first steps overshoot so far that most ReLU
#   neurons end up switched off for every image; the loss jumps around and
#   settles at the level of guessing (:math:`\ln 10 \approx 2.3`).
settings = [(0.001, "too small"), (0.5, "about right"), (3.0, "too large")]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
for ax, (learning_rate, verdict) in zip(axes, settings):
    clf = train(learning_rate)
    ax.plot(np.arange(1, clf.n_iter_ + 1), clf.loss_curve_, marker=".")
    ax.axhline(np.log(10), color="gray", linestyle=":", label="guessing (ln 10)")
    accuracy = clf.score(X_test, y_test)
    ax.set_title(f"learning rate {learning_rate}: {verdict}\ntest accuracy {accuracy:.2f}")
    ax.set_xlabel("epoch")
    print(
        f"learning rate {learning_rate:>5}: final loss {clf.loss_:.3f}, "
        f"test accuracy {accuracy:.3f}"
    )
axes[0].set_ylabel("training loss (cross-entropy)")
axes[0].legend()
fig.tight_layout()
plt.show()

# %%
# A sweep over learning rates
# ---------------------------
# The final training loss after 40 epochs, for learning rates spread evenly
# on a log scale, shows the typical U shape: too small and training is
# slow, too large and it is unstable. Trying a few values a factor of 3 to
# 10 apart, as here, is the usual way to find the good region.
learning_rates = np.logspace(-3, 0.5, 12)
final_losses = [train(rate).loss_ for rate in learning_rates]
fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogx(learning_rates, final_losses, marker="o")
ax.set_xlabel("learning rate (log scale)")
ax.set_ylabel("training loss after 40 epochs")
ax.set_title("Plain SGD on the digits")
fig.tight_layout()
plt.show()
