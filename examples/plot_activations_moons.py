"""
Decision boundaries of different activations
============================================

Two interleaving half-moons cannot be separated by a straight line. The
same network, two hidden layers of 16 neurons trained the same way, is fit
once with each of scikit-learn's hidden activations. With ``"identity"``
the layers collapse into one linear model and the boundary is a straight
line (see the user guide page :doc:`/user_guide/nonlinearity`); the
nonlinear activations bend it around the moons: smoothly with ``"logistic"``
and ``"tanh"``, in straight pieces with ``"relu"``.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split

from skdeep import MLPClassifier

X, y = make_moons(n_samples=400, noise=0.2, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

# %%
# Fit one network per activation and draw the probability of the second
# class over the plane; the dark line is where the prediction switches. A
# moderate L2 penalty (``alpha=0.1``) keeps the boundaries from chasing
# individual noisy points, so that the shapes reflect the activations.
activations = ["identity", "logistic", "tanh", "relu"]
fig, axes = plt.subplots(1, 4, figsize=(15, 4), sharey=True)
for ax, activation in zip(axes, activations):
    clf = MLPClassifier(
        hidden_layer_sizes=(16, 16),
        activation=activation,
        solver="lbfgs",
        alpha=0.1,
        max_iter=2000,
        random_state=0,
    ).fit(X_train, y_train)
    DecisionBoundaryDisplay.from_estimator(
        clf, X, response_method="predict_proba", cmap="RdBu", alpha=0.7, ax=ax, eps=0.3
    )
    DecisionBoundaryDisplay.from_estimator(
        clf,
        X,
        response_method="predict_proba",
        plot_method="contour",
        levels=[0.5],
        colors="k",
        linewidths=1.5,
        ax=ax,
        eps=0.3,
    )
    ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, cmap="RdBu", edgecolors="k", s=18)
    ax.scatter(
        X_test[:, 0], X_test[:, 1], c=y_test, cmap="RdBu", edgecolors="k", marker="^", s=24
    )
    accuracy = clf.score(X_test, y_test)
    ax.set_title(f'activation="{activation}"\ntest accuracy {accuracy:.2f}')
    ax.set_xlabel("")
    ax.set_ylabel("")
    print(f"{activation:>8}: {clf.n_iter_:4d} L-BFGS iterations, test accuracy {accuracy:.3f}")

fig.suptitle("Two moons: circles are training points, triangles test points")
fig.tight_layout()
plt.show()
