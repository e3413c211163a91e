"""Do skdeep's extra features beat sklearn's best MLP on held-out accuracy?

On handwritten digits (shipped with scikit-learn), with a small training set
where regularisation matters, each library picks its best configuration from
a grid of the same size by 3-fold cross-validation on the training rows; the
winner is then scored on held-out rows never used for selection. This repeats
over several random splits and reports the mean and spread.

Both grids have 12 candidates. sklearn's searches what sklearn offers (width,
L2 ``alpha``, learning rate); skdeep's searches its extensions (dropout,
AdamW's decoupled weight decay, with a cosine schedule and warm-up) and the
learning rate, on the wider of sklearn's two networks.

With ``--label-noise 0.2``, a fifth of the training labels (never the test
labels) are replaced by random digits, seeded per split: the setting of
crowd-sourced or weakly supervised labels, where regularisation matters most.

Run: ``python benchmarks/features_vs_sklearn.py [--splits 5] [--train-size 500]
[--label-noise 0.2]``
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skdeep import MLPClassifier

EPOCHS = 150

SKLEARN_GRID = {
    "mlpclassifier__hidden_layer_sizes": [(128,), (256,)],
    "mlpclassifier__alpha": [1e-4, 1e-2, 1.0],
    "mlpclassifier__learning_rate_init": [1e-3, 1e-2],
}

SKDEEP_GRID = {
    "mlpclassifier__hidden_layer_sizes": [(256,)],
    "mlpclassifier__solver": ["adamw"],
    "mlpclassifier__learning_rate": ["cosine"],
    "mlpclassifier__warmup": [5],
    "mlpclassifier__dropout": [0.2, 0.5],
    "mlpclassifier__weight_decay": [0.01, 0.1, 1.0],
    "mlpclassifier__learning_rate_init": [1e-3, 1e-2],
}


def _search(estimator, grid, X, y):
    pipeline = make_pipeline(StandardScaler(), estimator)
    search = GridSearchCV(pipeline, grid, cv=3, n_jobs=1)
    search.fit(X, y)
    return search


def _corrupt(y, fraction, seed):
    """Replace ``fraction`` of the labels by uniformly random classes."""
    rng = np.random.RandomState(seed)
    y = y.copy()
    flip = rng.rand(len(y)) < fraction
    y[flip] = rng.randint(10, size=flip.sum())
    return y


def run(n_splits, train_size, label_noise=0.0):
    X, y = load_digits(return_X_y=True)
    rows = []
    for seed in range(n_splits):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, train_size=train_size, stratify=y, random_state=seed
        )
        if label_noise:
            y_train = _corrupt(y_train, label_noise, seed)
        for name, estimator, grid in [
            ("sklearn", SklearnMLP(max_iter=EPOCHS, random_state=seed), SKLEARN_GRID),
            ("skdeep", MLPClassifier(max_iter=EPOCHS, random_state=seed), SKDEEP_GRID),
        ]:
            start = time.perf_counter()
            search = _search(estimator, grid, X_train, y_train)
            rows.append(
                {
                    "split": seed,
                    "library": name,
                    "n_candidates": len(search.cv_results_["params"]),
                    "cv_accuracy": float(search.best_score_),
                    "test_accuracy": float(search.score(X_test, y_test)),
                    "search_seconds": time.perf_counter() - start,
                    "best_params": {
                        k.split("__", 1)[1]: str(v) for k, v in search.best_params_.items()
                    },
                }
            )
            print(json.dumps(rows[-1]))
    return rows


def summarize(rows):
    lines = [
        "| library | candidates | held-out accuracy (mean ± std) | per split | search time (s) |",
        "|---|---:|---:|---|---:|",
    ]
    for name in ("sklearn", "skdeep"):
        mine = [r for r in rows if r["library"] == name]
        acc = np.array([r["test_accuracy"] for r in mine])
        per_split = ", ".join(f"{a:.4f}" for a in acc)
        seconds = np.mean([r["search_seconds"] for r in mine])
        lines.append(
            f"| {name} | {mine[0]['n_candidates']} | {acc.mean():.4f} ± {acc.std():.4f} "
            f"| {per_split} | {seconds:.0f} |"
        )
    wins = sum(
        s["test_accuracy"] < d["test_accuracy"]
        for s, d in zip(
            [r for r in rows if r["library"] == "sklearn"],
            [r for r in rows if r["library"] == "skdeep"],
        )
    )
    lines.append("")
    lines.append(f"skdeep's best beats sklearn's best on {wins} of {len(rows) // 2} splits.")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--train-size", type=int, default=500)
    parser.add_argument("--label-noise", type=float, default=0.0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    suffix = f"_noise{args.label_noise:g}" if args.label_noise else ""
    out = Path(args.out or Path(__file__).parent / "results" / f"features{suffix}.md")
    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(1):
        rows = run(args.splits, args.train_size, args.label_noise)
    table = summarize(rows)
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    noise = f", {args.label_noise:.0%} of training labels random" if args.label_noise else ""
    out.write_text(
        f"Digits, {args.train_size} training rows{noise}, {EPOCHS} epochs, 3-fold CV "
        f"grid search, {args.splits} random splits, clean test labels.\n\n{table}\n"
    )


if __name__ == "__main__":
    main()
