"""Prediction intervals and learned features on real tables.

For each dataset and seed the rows are split 60 / 20 / 20 into training,
calibration and test rows (the same split for every model). Measured:

* **Conformalized quantile regression (CQR).** A ``TabularMLPRegressor``
  with ``loss="quantile", quantile=[0.05, 0.5, 0.95]`` (one network, three
  non-crossing outputs) is fitted on the training rows; its 5-95 % band is
  widened (or narrowed) by the split-conformal margin computed on the
  calibration rows (Romano et al., 2019), so that it covers 90 % of new
  rows. Reported on the test rows: the coverage and mean width of the raw
  and of the conformalized band. The same is done with three
  ``HistGradientBoostingRegressor(loss="quantile")`` models.
* **Pinball loss** on the test rows of the network's three quantiles
  against the three gradient-boosting models (same training rows).
* **Split conformal with MAPIE** around a squared-error
  ``TabularMLPRegressor`` (``mapie.regression.SplitConformalRegressor``,
  absolute residual score): coverage and width of its 90 % interval.
* **Learned features for gradient boosting.** ``HistGradientBoostingRegressor``
  on the raw columns, against the same model on the raw columns plus the
  last hidden layer of a network (``skdeep.MLPFeatures``) learned (a) on the
  same training rows (the leaky way) and (b) cross-fitted: the network on
  one half of the training rows, the boosting model on the other half,
  then the halves swapped and the two pipelines' predictions averaged;
  (c) as (b) with the hidden features alone. R^2 on the test rows.

Usage::

    python benchmarks/intervals.py      # 5 seeds, all datasets, about 20 minutes
    python benchmarks/intervals.py --seeds 0 --datasets diabetes

Results go to ``benchmarks/results/intervals.md``.
"""

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.tabular import _as_hgb_frame  # noqa: E402
from benchmarks.tabular_datasets import load_dataset  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ("diabetes", "mid_atlantic_wages", "computer_prices", "bikeshare")
LEVELS = (0.05, 0.5, 0.95)
COVERAGE = 0.9


def load(name):
    """``(X, y)`` with text columns as pandas categories (for every model)."""
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True, as_frame=True)
    else:
        X, y = load_dataset(name)
    return _as_hgb_frame(X, X), np.asarray(y, dtype=np.float64)


def split(n_rows, seed):
    """Indices of the training, calibration and test rows (60 / 20 / 20)."""
    order = np.random.RandomState(seed).permutation(n_rows)
    a, b = int(0.6 * n_rows), int(0.8 * n_rows)
    return order[:a], order[a:b], order[b:]


def network(seed, args, **params):
    from skdeep import TabularMLPRegressor

    return TabularMLPRegressor(hidden_layer_sizes=args.hidden, max_iter=args.epochs,
                               random_state=seed, **params)


def boosting(seed, **params):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(categorical_features="from_dtype",
                                         random_state=seed, **params)


def conformal_margin(lower, upper, y, coverage):
    """CQR's margin: the conformal quantile of ``max(lower - y, y - upper)``.

    Adding it to both ends of the band covers a new row with probability
    at least ``coverage`` when the calibration rows are exchangeable with it.
    """
    scores = np.sort(np.maximum(lower - y, y - upper))
    rank = int(np.ceil((len(y) + 1) * coverage))
    return np.inf if rank > len(y) else scores[rank - 1]


def interval_stats(lower, upper, y):
    return {"coverage": float(np.mean((y >= lower) & (y <= upper))),
            "width": float(np.mean(upper - lower))}


def pinball(y, q, level):
    residual = y - q
    return float(np.mean(np.maximum(level * residual, (level - 1) * residual)))


def quantile_runs(X, y, parts, seed, args):
    """CQR and pinball losses of the multi-quantile network and of HGB."""
    train, cal, test = parts
    record = {}
    net = network(seed, args, loss="quantile", quantile=list(LEVELS)).fit(X.iloc[train],
                                                                         y[train])
    models = {
        "network": lambda rows: net.predict(X.iloc[rows]),
    }
    hgbs = [boosting(seed, loss="quantile", quantile=level).fit(X.iloc[train], y[train])
            for level in LEVELS]
    models["hgb"] = lambda rows: np.column_stack([m.predict(X.iloc[rows]) for m in hgbs])
    for name, predict in models.items():
        q_cal, q_test = predict(cal), predict(test)
        margin = conformal_margin(q_cal[:, 0], q_cal[:, 2], y[cal], COVERAGE)
        record[f"{name}_raw"] = interval_stats(q_test[:, 0], q_test[:, 2], y[test])
        record[f"{name}_cqr"] = interval_stats(q_test[:, 0] - margin, q_test[:, 2] + margin,
                                               y[test])
        record[f"{name}_pinball"] = [pinball(y[test], q_test[:, k], level)
                                     for k, level in enumerate(LEVELS)]
    return record


def mapie_run(X, y, parts, seed, args):
    from mapie.regression import SplitConformalRegressor

    train, cal, test = parts
    mapie = SplitConformalRegressor(network(seed, args), confidence_level=COVERAGE,
                                    prefit=False)
    mapie.fit(X.iloc[train], y[train]).conformalize(X.iloc[cal], y[cal])
    _, bounds = mapie.predict_interval(X.iloc[test])
    return {"mapie_split": interval_stats(bounds[:, 0, 0], bounds[:, 1, 0], y[test])}


def feature_runs(X, y, parts, seed, args):
    """R^2 of HGB on raw columns, and with learned features (leaky, cross-fitted)."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import r2_score
    from sklearn.pipeline import FeatureUnion, make_pipeline

    from skdeep import MLPFeatures

    train, _, test = parts
    X_test, y_test = X.iloc[test], y[test]

    def with_raw(features):
        union = FeatureUnion([("raw", "passthrough"), ("mlp", features)])
        return union.set_output(transform="pandas")

    raw = boosting(seed).fit(X.iloc[train], y[train])
    leaky = make_pipeline(with_raw(MLPFeatures(network(seed, args))), boosting(seed))
    leaky.fit(X.iloc[train], y[train])
    halves = np.array_split(train, 2)
    both, alone = [], []
    for learn, fit in (halves, halves[::-1]):
        features = MLPFeatures(network(seed, args)).set_output(transform="pandas")
        features.fit(X.iloc[learn], y[learn])
        frozen = FrozenEstimator(features)
        both.append(make_pipeline(with_raw(frozen), boosting(seed)).fit(X.iloc[fit], y[fit]))
        alone.append(make_pipeline(frozen, boosting(seed)).fit(X.iloc[fit], y[fit]))
    return {
        "hgb_raw_r2": r2_score(y_test, raw.predict(X_test)),
        "hgb_leaky_r2": r2_score(y_test, leaky.predict(X_test)),
        "hgb_crossfit_r2": r2_score(y_test, np.mean([m.predict(X_test) for m in both], axis=0)),
        "hgb_crossfit_hidden_only_r2": r2_score(
            y_test, np.mean([m.predict(X_test) for m in alone], axis=0)),
        "network_r2": r2_score(y_test, leaky[0].transformer_list[1][1].estimator_.predict(
            X_test)),
    }


def run(name, seed, args):
    X, y = load(name)
    parts = split(len(y), seed)
    record = {"dataset": name, "seed": seed, "rows": len(y)}
    start = time.perf_counter()
    record.update(quantile_runs(X, y, parts, seed, args))
    record.update(mapie_run(X, y, parts, seed, args))
    record.update(feature_runs(X, y, parts, seed, args))
    record["seconds"] = time.perf_counter() - start
    return record


def _mean_std(values, digits=3):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def _scaled(values, scale):
    return _mean_std(np.asarray(values) / scale)


def report(records, args, minutes):
    frame = pd.DataFrame(records)
    lines = [
        "# Prediction intervals and learned features",
        "",
        f"Produced by `benchmarks/intervals.py` on {time.strftime('%Y-%m-%d %H:%M')} in "
        f"{minutes:.1f} minutes.",
        "",
        f"* Command: `python benchmarks/intervals.py {' '.join(sys.argv[1:])}`",
        f"* Machine: {platform.processor() or platform.machine()}, "
        f"{platform.system()} {platform.release()}; BLAS limited to 1 thread.",
        f"* Seeds: {sorted(frame.seed.unique().tolist())}; each seed draws the split and "
        "seeds every model. Mean ± std over seeds.",
        "* Split: 60 % training, 20 % calibration, 20 % test rows.",
        f"* Network: `TabularMLPRegressor(hidden_layer_sizes={tuple(args.hidden)}, "
        f"max_iter={args.epochs})`, otherwise defaults; quantile model "
        f"`loss=\"quantile\", quantile={list(LEVELS)}`.",
        "* Gradient boosting: `HistGradientBoostingRegressor(categorical_features="
        "\"from_dtype\")`, defaults; for quantiles, one model per level with "
        "`loss=\"quantile\"`.",
        "",
        "## 90 % intervals on the test rows",
        "",
        "Coverage is the share of test rows inside the interval (target 0.90); width is "
        "the mean interval width divided by the standard deviation of the test target.",
        "",
        "| dataset | rows | network raw coverage | network CQR coverage | network CQR width "
        "| HGB raw coverage | HGB CQR coverage | HGB CQR width | MAPIE split coverage "
        "| MAPIE split width |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, group in frame.groupby("dataset", sort=False):
        scale = np.std(load(name)[1])
        cells = [name, f"{group.rows.iloc[0]:,}"]
        for key in ("network_raw", "network_cqr", "hgb_raw", "hgb_cqr", "mapie_split"):
            coverage = [r["coverage"] for r in group[key]]
            cells.append(_mean_std(coverage))
            if key != "network_raw" and key != "hgb_raw":
                cells.append(_scaled([r["width"] for r in group[key]], scale))
        lines.append("| " + " | ".join(cells) + " |")
    pooled = [r["coverage"] for r in frame["network_cqr"]]
    lines += ["", f"Network CQR coverage pooled over every dataset and seed: "
              f"{np.mean(pooled):.3f} (min {np.min(pooled):.3f}, max {np.max(pooled):.3f}).",
              "", "## Pinball loss on the test rows (lower is better)", "",
              "Divided by the standard deviation of the test target; mean over the three "
              "levels, then each level.", "",
              "| dataset | network | HGB | network / HGB | network 0.05 | HGB 0.05 "
              "| network 0.5 | HGB 0.5 | network 0.95 | HGB 0.95 |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, group in frame.groupby("dataset", sort=False):
        scale = np.std(load(name)[1])
        net = np.array(group["network_pinball"].tolist()) / scale
        hgb = np.array(group["hgb_pinball"].tolist()) / scale
        cells = [name, _mean_std(net.mean(axis=1)), _mean_std(hgb.mean(axis=1)),
                 _mean_std(net.mean(axis=1) / hgb.mean(axis=1))]
        for k in range(len(LEVELS)):
            cells += [_mean_std(net[:, k]), _mean_std(hgb[:, k])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Learned features for gradient boosting (test R², higher is better)", "",
              "| dataset | network alone | HGB raw | HGB raw + hidden, leaky "
              "| HGB raw + hidden, cross-fitted | HGB hidden only, cross-fitted |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, group in frame.groupby("dataset", sort=False):
        cells = [name] + [_mean_std(group[key]) for key in (
            "network_r2", "hgb_raw_r2", "hgb_leaky_r2", "hgb_crossfit_r2",
            "hgb_crossfit_hidden_only_r2")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--epochs", type=int, default=32)
    parser.add_argument("--hidden", default="256,256")
    parser.add_argument("--output", default=str(RESULTS / "intervals.md"))
    parser.add_argument("--jsonl", default=None,
                        help="also append each record to this file as it is measured")
    args = parser.parse_args(argv)
    args.hidden = [int(size) for size in args.hidden.split(",")]
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    records = []
    with threadpool_limits(1):
        for name in args.datasets.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                records.append(run(name, seed, args))
                r = records[-1]
                if args.jsonl:
                    with open(args.jsonl, "a") as stream:
                        stream.write(json.dumps(r) + "\n")
                print(f"{name} seed {seed}: CQR coverage {r['network_cqr']['coverage']:.3f}, "
                      f"features {r['hgb_raw_r2']:.3f} -> {r['hgb_crossfit_r2']:.3f} "
                      f"({r['seconds']:.0f} s)", flush=True)
    text = report(records, args, (time.perf_counter() - start) / 60)
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
