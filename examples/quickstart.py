"""
Quickstart: skdeep in a scikit-learn workflow
=============================================

Handwritten digits (shipped with scikit-learn) go through a ``Pipeline`` with
a ``StandardScaler`` and a skdeep ``MLPClassifier``; a small ``GridSearchCV``
picks the hidden-layer size and the L2 penalty. The best settings are then
refitted with skdeep and with scikit-learn's own ``MLPClassifier`` so their
test accuracy and fit time can be compared side by side.
"""

# %%
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeep import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# Search a small grid of skdeep hyperparameters with 3-fold cross-validation.
pipeline = make_pipeline(StandardScaler(), MLPClassifier(max_iter=300, random_state=0))
grid = GridSearchCV(
    pipeline,
    param_grid={
        "mlpclassifier__hidden_layer_sizes": [(64,), (128,)],
        "mlpclassifier__alpha": [1e-4, 1e-2],
    },
    cv=3,
    n_jobs=1,
)
grid.fit(X_train, y_train)
print("best parameters:", grid.best_params_)
print(f"best cross-validated accuracy: {grid.best_score_:.4f}")

# %%
# Refit the best settings with skdeep and with scikit-learn, same seed.
best = {
    key.split("__", 1)[1]: value for key, value in grid.best_params_.items()
}
rows = []
for name, Estimator in [("skdeep", MLPClassifier), ("sklearn", SklearnMLPClassifier)]:
    model = make_pipeline(StandardScaler(), Estimator(max_iter=300, random_state=0, **best))
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    rows.append((name, model.score(X_test, y_test), seconds))

print(f"\n{'library':<10}{'test accuracy':>15}{'fit time (s)':>15}")
for name, accuracy, seconds in rows:
    print(f"{name:<10}{accuracy:>15.4f}{seconds:>15.3f}")
print(f"\nskdeep fit time / sklearn fit time: {rows[0][2] / rows[1][2]:.2f}")
