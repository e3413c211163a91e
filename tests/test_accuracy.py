"""Held-out accuracy of skdeep beside scikit-learn's own MLP.

Every dataset x solver pair is fitted twice -- once with
``skdeep.MLPClassifier`` / ``skdeep.MLPRegressor`` and once with
``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` -- with the very
same hyper-parameters, the same ``random_state`` values and the same fixed
train/test split.  Features are standardised with a ``StandardScaler`` inside a
``Pipeline``; for the diabetes regression the target is standardised too (via
``TransformedTargetRegressor``).  Scores are averaged over a few seeds so that a
single unlucky initialisation cannot decide the outcome.

skdeep must not be worse than scikit-learn by more than one accuracy point
(classification) or 0.05 R^2 (regression).

Run this file as a script to print a Markdown table of the scores::

    python tests/test_accuracy.py
"""

import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeep import MLPClassifier, MLPRegressor

SEEDS = (0, 1, 2)
SOLVERS = ("adam", "sgd", "lbfgs")

# name -> (loader, is_classification, test_size, absolute sanity floor)
DATASETS = {
    "digits": (load_digits, True, 0.3, 0.93),
    "breast_cancer": (load_breast_cancer, True, 0.3, 0.92),
    "iris": (load_iris, True, 0.5, 0.90),
    "diabetes": (load_diabetes, False, 0.3, 0.30),
}

# Solver-specific settings shared by both libraries.  The defaults of "sgd"
# (learning_rate_init=1e-3) converge too slowly for a 100-epoch budget.
SOLVER_PARAMS = {
    "adam": dict(learning_rate_init=0.01),
    "sgd": dict(learning_rate_init=0.05),
    "lbfgs": dict(),
}

# Task-specific architecture / regularisation, shared by both libraries.
TASK_PARAMS = {
    True: dict(hidden_layer_sizes=(32,), alpha=1e-4, max_iter=100),
    # A small, strongly regularised network: diabetes is small and noisy.
    False: dict(hidden_layer_sizes=(8,), alpha=10.0, max_iter=100),
}

CLASSIFICATION_TOLERANCE = 0.01
REGRESSION_TOLERANCE = 0.05

_SPLITS = {}


def _split(dataset):
    if dataset not in _SPLITS:
        loader, is_clf, test_size, _ = DATASETS[dataset]
        X, y = loader(return_X_y=True)
        _SPLITS[dataset] = train_test_split(
            X,
            y,
            test_size=test_size,
            random_state=0,
            stratify=y if is_clf else None,
        )
    return _SPLITS[dataset]


def _make_estimator(library, dataset, solver, seed):
    _, is_clf, _, _ = DATASETS[dataset]
    params = dict(solver=solver, random_state=seed)
    params.update(TASK_PARAMS[is_clf])
    params.update(SOLVER_PARAMS[solver])
    if is_clf:
        cls = MLPClassifier if library == "skdeep" else SkMLPClassifier
        return make_pipeline(StandardScaler(), cls(**params))
    cls = MLPRegressor if library == "skdeep" else SkMLPRegressor
    return TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), cls(**params)),
        transformer=StandardScaler(),
    )


def held_out_score(library, dataset, solver, seeds=SEEDS):
    """Mean held-out accuracy (classification) or R^2 (regression)."""
    X_train, X_test, y_train, y_test = _split(dataset)
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in seeds:
            est = _make_estimator(library, dataset, solver, seed)
            est.fit(X_train, y_train)
            scores.append(est.score(X_test, y_test))
    return float(np.mean(scores))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_held_out_score_not_worse_than_sklearn(dataset, solver):
    _, is_clf, _, floor = DATASETS[dataset]
    ours = held_out_score("skdeep", dataset, solver)
    theirs = held_out_score("sklearn", dataset, solver)
    tolerance = CLASSIFICATION_TOLERANCE if is_clf else REGRESSION_TOLERANCE
    metric = "accuracy" if is_clf else "R^2"
    assert ours >= theirs - tolerance, (
        f"{dataset}/{solver}: skdeep {metric} {ours:.4f} < "
        f"sklearn {metric} {theirs:.4f} - {tolerance}"
    )
    # Guard against both libraries being equally broken by the settings.
    assert ours >= floor, f"{dataset}/{solver}: skdeep {metric} {ours:.4f} < {floor}"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dataset", ["iris", "diabetes"])
def test_estimator_in_pipeline_is_skdeep(dataset):
    # Make sure the comparison above really exercises skdeep's estimators.
    est = _make_estimator("skdeep", dataset, "lbfgs", 0)
    X_train, _, y_train, _ = _split(dataset)
    est.fit(X_train, y_train)
    pipe = est if DATASETS[dataset][1] else est.regressor_
    final = pipe[-1]
    assert type(final).__module__.split(".")[0] == "skdeep"
    assert hasattr(final, "coefs_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "task, solver, max_iter",
    [
        (task, solver, max_iter)
        for task in ("classification", "regression")
        for solver in SOLVERS
        for max_iter in (1, 10)
    ],
)
def test_same_trajectory_as_sklearn_without_shuffling(task, solver, max_iter):
    # Same initial RandomState draws and the same update rules: with the
    # mini-batch order fixed (shuffle=False) skdeep follows sklearn's fit.
    # max_iter=1 pins down the weight initialisation plus a single step.
    dataset = "iris" if task == "classification" else "diabetes"
    X_train, _, y_train, _ = _split(dataset)
    X_train = StandardScaler().fit_transform(X_train)
    if task == "regression":
        y_train = (y_train - y_train.mean()) / y_train.std()
    params = dict(
        hidden_layer_sizes=(6, 4),
        solver=solver,
        max_iter=max_iter,
        batch_size=32,
        shuffle=False,
        learning_rate_init=0.01,
        random_state=0,
    )
    if task == "classification":
        ours, theirs = MLPClassifier(**params), SkMLPClassifier(**params)
    else:
        ours, theirs = MLPRegressor(**params), SkMLPRegressor(**params)
    ours.fit(X_train, y_train)
    theirs.fit(X_train, y_train)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-7)


def markdown_table(seeds=SEEDS):
    """Return a Markdown table of skdeep vs sklearn held-out scores."""
    lines = [
        f"Held-out score, mean over random_state in {list(seeds)} "
        "(accuracy for classification, R^2 for diabetes)",
        "",
        "| dataset | metric | solver | skdeep | sklearn | difference |",
        "|---|---|---|---:|---:|---:|",
    ]
    for dataset, (_, is_clf, _, _) in DATASETS.items():
        metric = "accuracy" if is_clf else "R^2"
        for solver in SOLVERS:
            ours = held_out_score("skdeep", dataset, solver, seeds)
            theirs = held_out_score("sklearn", dataset, solver, seeds)
            lines.append(
                f"| {dataset} | {metric} | {solver} | {ours:.4f} | {theirs:.4f} "
                f"| {ours - theirs:+.4f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
