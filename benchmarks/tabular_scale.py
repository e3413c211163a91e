"""Tabular fit time, memory and accuracy as the table grows: TabularMLP* against HGB.

A generated mixed table (numeric columns with missing values, a
heavy-tailed column, a low- and a high-cardinality string column, a boolean)
at 20,000, 100,000 and 1,000,000 rows; 80 % train the model, 20 % test it.
Each fit runs in a fresh process at the libraries' default threads, and
reports its wall time, its peak memory above the input (the raw frame
loaded, before ``fit``; ``_memory.PeakRSS``) and its test accuracy::

    python benchmarks/tabular_scale.py                       # 20k, 100k, 1M rows
    python benchmarks/tabular_scale.py --rows 20000 --models tabular

Results go to ``benchmarks/results/tabular-scale.{jsonl,md,rst}`` (or ``--out``).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks._worker import run_script_worker  # noqa: E402  (no NumPy import)

RESULTS = REPO / "benchmarks" / "results"
MARKER = "TABULAR_SCALE "
MODELS = ("hgb", "tabular")


def mixed_table(n_rows, seed=0):
    """A binary classification table of raw mixed columns, and its labels.

    The label depends on every kind of column, nonlinearly and through an
    interaction, plus noise (a perfect model is right about 90 % of the time).

    Returns
    -------
    X : pandas.DataFrame of shape (n_rows, 8)
    y : ndarray of shape (n_rows,)
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n_rows, 3))
    income = rng.lognormal(mean=10.0, sigma=1.2, size=n_rows)  # heavy tail
    region = rng.choice(np.array(["north", "south", "east", "west", "centre"]), n_rows)
    n_codes = 2_000
    code_effect = rng.normal(scale=1.0, size=n_codes)
    code = rng.zipf(1.3, size=n_rows) % n_codes
    member = rng.random(n_rows) < 0.3
    region_effect = {"north": 0.8, "south": -0.5, "east": 0.2, "west": -0.9, "centre": 0.4}
    score = (
        np.sin(2 * numeric[:, 0]) + 0.7 * numeric[:, 1] ** 2 - 0.8 * numeric[:, 2] * member
        + 0.6 * np.log(income / 2e4) + np.vectorize(region_effect.get)(region)
        + code_effect[code] + rng.normal(scale=0.6, size=n_rows)
    )
    y = (score > np.median(score)).astype(int)
    frame = pd.DataFrame({
        "x0": numeric[:, 0], "x1": numeric[:, 1], "x2": numeric[:, 2], "income": income,
        "region": region, "code": pd.Series([f"c{c}" for c in code], dtype="string"),
        "member": member, "noise": rng.normal(size=n_rows),
    })
    for column in ("x0", "x1", "income"):  # values missing at random
        frame.loc[rng.random(n_rows) < 0.05, column] = np.nan
    return frame, y


def _worker(spec):
    """One fit on one table size in this process; prints the record as JSON."""
    from benchmarks._memory import PeakRSS
    from benchmarks.tabular import _as_hgb_frame, _hgb

    X, y = mixed_table(spec["rows"], spec["seed"])
    n_train = int(0.8 * len(y))
    X_train, X_test, y_train, y_test = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    if spec["model"] == "hgb":
        model, prepare = _hgb("binary", X_train), (lambda frame: _as_hgb_frame(frame, X_train))
    else:
        from skdeep import TabularMLPClassifier

        model, prepare = TabularMLPClassifier(random_state=spec["seed"]), (lambda frame: frame)
    X_fit = prepare(X_train)
    with PeakRSS() as peak:
        started = time.perf_counter()
        model.fit(X_fit, y_train)
        fit_s = time.perf_counter() - started
    score = float(np.mean(model.predict(prepare(X_test)) == y_test))
    record = {**spec, "fit_s": fit_s, "peak_mb": peak.peak_mb, "memory_method": peak.method,
              "input_mb": X_fit.memory_usage(deep=True).sum() / 2**20, "score": score}
    print(MARKER + json.dumps(record), flush=True)


def _run(spec, timeout):
    return run_script_worker(Path(__file__).resolve(), spec, MARKER, REPO, timeout)


def report(records, meta):
    """Markdown: per size, each model's fit time, peak memory above the input, accuracy."""
    lines = ["# Tabular fit at scale: TabularMLP* against HistGradientBoosting*", "",
             f"{meta['date']}, {meta['machine']}, default threads; load average before "
             f"{meta['load_before']}, after {meta['load_after']}. A generated mixed table "
             "(see `benchmarks/tabular_scale.py`), 80 % train, 20 % test.", "",
             "| rows | model | fit time | peak memory above the input | input | test accuracy |",
             "|---:|---|---:|---:|---:|---:|"]
    for record in records:
        if "error" in record:
            lines.append(f"| {record['rows']:,} | {record['model']} | {record['error']} | | | |")
            continue
        lines.append(f"| {record['rows']:,} | {record['model']} | {record['fit_s']:.1f} s | "
                     f"{record['peak_mb']:.0f} MiB | {record['input_mb']:.0f} MiB | "
                     f"{record['score']:.4f} |")
    return "\n".join(lines) + "\n"


def report_rst(records):
    """The table for the user guide (reStructuredText list-table), TabularMLP* beside HGB."""
    names = {"tabular": "TabularMLP*", "hgb": "HGB"}
    lines = [".. list-table::", "   :header-rows: 1", "",
             "   * - rows", "     - model", "     - fit time", "     - peak memory above the input",
             "     - test accuracy"]
    for record in records:
        if "error" in record:
            cells = [f"{record['rows']:,}", names.get(record["model"], record["model"]),
                     record["error"], "", ""]
        else:
            cells = [f"{record['rows']:,}", names.get(record["model"], record["model"]),
                     f"{record['fit_s']:.1f} s", f"{record['peak_mb']:.0f} MiB",
                     f"{record['score']:.4f}"]
        lines += [f"   * - {cells[0]}"] + [f"     - {cell}" for cell in cells[1:]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--rows", default="20000,100000,1000000")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(json.loads(args.worker))
        return
    out = Path(args.out) if args.out else RESULTS / "tabular-scale.jsonl"
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{os.cpu_count()} cores",
            "load_before": " ".join(f"{v:.2f}" for v in os.getloadavg())}
    records = []
    with out.open("w") as handle:
        for rows in [int(r) for r in args.rows.split(",")]:
            for model in args.models.split(","):
                record = _run({"rows": rows, "model": model, "seed": args.seed}, args.timeout)
                records.append(record)
                handle.write(json.dumps(record) + "\n")
                handle.flush()
                print(record, flush=True)
    meta["load_after"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    markdown = report(records, meta)
    out.with_suffix(".md").write_text(markdown)
    out.with_suffix(".rst").write_text(report_rst(records))
    print(markdown)


if __name__ == "__main__":
    main()
