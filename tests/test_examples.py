"""The documentation's code runs: gallery scripts, user-guide doctests, the display.

* every script in ``examples/`` runs to completion (matplotlib's Agg backend,
  in a temporary working directory), the README's quickstart included;
* every ``>>>`` example in the ``.rst`` pages of ``docs/`` gives the output
  written on the page;
* :class:`skdeep.TrainingHistoryDisplay` draws what it promises.
"""

import contextlib
import doctest
import io
import re
import runpy
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skdeep import MLPClassifier, MLPRegressor, TrainingHistoryDisplay

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"

# Scripts too slow for the default run would be listed here and marked slow.
# None is: the slowest, quickstart.py, takes 12 s alone and 24 s beside
# another worker, well within the suite's budget.
SLOW_SCRIPTS = set()


def _script_params():
    params = []
    for path in sorted(EXAMPLES.glob("*.py")):
        marks = [pytest.mark.slow] if path.name in SLOW_SCRIPTS else []
        params.append(pytest.param(path, marks=marks, id=path.name))
    return params


# Pages whose examples need a module that skdeep's minimum requirements do
# not guarantee: the page is skipped without it.
PAGE_REQUIRES = {
    # The callback examples use sklearn.callback (scikit-learn >= 1.9).
    "user_guide/beyond_sklearn.rst": "sklearn.callback",
    # MAPIE's conformal regressors (the test extra installs it).
    "user_guide/intervals.rst": "mapie",
    # The landing page's raw-table example (the test extra installs it).
    "index.rst": "palmerpenguins",
}


def _rst_pages():
    pages = sorted(DOCS.glob("*.rst")) + sorted((DOCS / "user_guide").glob("*.rst"))
    return [pytest.param(page, id=str(page.relative_to(DOCS))) for page in pages]


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the Agg backend; every figure closed afterwards."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    yield plt
    plt.close("all")


@pytest.mark.parametrize("script", _script_params())
def test_gallery_script_runs(script, pyplot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)])
    # One BLAS thread: under `pytest -n 2` two workers share the two cores,
    # and small matrix products on oversubscribed BLAS threads crawl.
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*non-interactive.*", category=UserWarning)
        if script.name.startswith("plot_"):
            # Gallery pages should not show convergence warnings.
            warnings.simplefilter("error", ConvergenceWarning)
        runpy.run_path(str(script), run_name="__main__")
    if script.name.startswith("plot_"):
        assert pyplot.get_fignums(), f"{script.name} drew no figure for the gallery"


@pytest.mark.parametrize("page", _rst_pages())
def test_rst_page_doctests(page):
    required = PAGE_REQUIRES.get(page.relative_to(DOCS).as_posix())
    if required is not None:
        pytest.importorskip(required)
    output = io.StringIO()
    with threadpool_limits(limits=1, user_api="blas"), contextlib.redirect_stdout(output):
        failed, attempted = doctest.testfile(
            str(page),
            module_relative=False,
            globs={},
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            report=True,
        )
    assert failed == 0, output.getvalue()


README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_python_blocks():
    text = README.read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_python_blocks_run():
    """Every Python block of the README runs as printed, in a fresh namespace each."""
    blocks = _readme_python_blocks()
    assert len(blocks) >= 2
    pytest.importorskip("palmerpenguins")
    for block in blocks:
        output = io.StringIO()
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings(), \
                contextlib.redirect_stdout(output):
            warnings.simplefilter("ignore", ConvergenceWarning)
            exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})
        score = float(output.getvalue().split()[-1])
        assert 0.9 < score <= 1.0, block


# ---------------------------------------------------------------------------
# TrainingHistoryDisplay
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def test_display_from_numbers_loss_only(pyplot):
    display = TrainingHistoryDisplay([3.0, 2.0, 1.5])
    assert display.plot() is display
    assert len(display.lines_) == 1
    (line,) = display.lines_
    assert line.get_label() == "Training loss"
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.5])
    assert display.ax_validation_ is None
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_xlabel() == "Epoch"
    assert display.ax_.get_ylabel() == "Training loss"
    assert display.ax_.get_title() == ""


def test_display_from_numbers_with_validation(pyplot):
    _, ax = pyplot.subplots()
    display = TrainingHistoryDisplay(
        [1.0, 0.5, 0.25, 0.2], validation_scores=[0.6, 0.7, 0.8, 0.8], estimator_name="net"
    ).plot(ax=ax, color="black", label="my loss")
    assert display.ax_ is ax
    assert len(display.lines_) == 2
    loss_line, score_line = display.lines_
    assert loss_line.get_label() == "my loss"
    assert loss_line.get_color() == "black"
    assert score_line.get_label() == "Validation score"
    assert loss_line.axes is ax
    # The score is on a twin axes: same x-axis, its own y-axis on the right.
    assert score_line.axes is display.ax_validation_
    assert display.ax_validation_ is not ax
    assert display.ax_validation_.get_ylabel() == "Validation score"
    np.testing.assert_array_equal(score_line.get_ydata(), [0.6, 0.7, 0.8, 0.8])
    assert ax.get_title() == "net"
    legend = display.ax_validation_.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["my loss", "Validation score"]


def test_display_from_estimator_with_early_stopping(pyplot, digits):
    X, y = digits
    clf = MLPClassifier(
        hidden_layer_sizes=(16,), early_stopping=True, max_iter=30, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    display = TrainingHistoryDisplay.from_estimator(clf)
    assert isinstance(display, TrainingHistoryDisplay)
    assert [line.get_label() for line in display.lines_] == [
        "Training loss",
        "Validation score",
    ]
    np.testing.assert_allclose(display.lines_[0].get_ydata(), clf.loss_curve_)
    np.testing.assert_allclose(display.lines_[1].get_ydata(), clf.validation_scores_)
    assert display.ax_.get_title() == "MLPClassifier"


def test_display_draws_validation_loss_dashed_on_the_loss_axis(pyplot, digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    assert len(clf.validation_loss_curve_) == clf.n_iter_ == 5

    display = TrainingHistoryDisplay.from_estimator(clf, color="black")
    line = display.validation_loss_line_
    # On the loss axes (not the twin score axes), dashed, in the loss color.
    assert line.axes is display.ax_
    assert line.get_linestyle() == "--"
    assert line.get_color() == "black"
    assert line.get_label() == "Validation loss"
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_allclose(line.get_ydata(), clf.validation_loss_curve_)
    assert display.ax_.get_ylabel() == "Loss"
    # lines_ keeps its meaning (loss, then score); the legend shows all three.
    labels = [drawn.get_label() for drawn in display.lines_]
    assert labels == ["Training loss", "Validation score"]
    legend = display.ax_validation_.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == [
        "Training loss",
        "Validation loss",
        "Validation score",
    ]

    # Turned off: the display of before, no validation-loss line.
    off = TrainingHistoryDisplay.from_estimator(clf, validation_loss=False)
    assert off.validation_loss_line_ is None
    assert len(off.ax_.get_lines()) == 1
    assert off.ax_.get_ylabel() == "Training loss"


def test_display_validation_loss_from_numbers_takes_the_label(pyplot):
    display = TrainingHistoryDisplay([1.0, 0.5, 0.4], validation_loss_curve=[1.1, 0.7, 0.8])
    display.plot(label="adam")
    assert display.ax_validation_ is None
    assert display.validation_loss_line_.get_label() == "adam (validation)"
    legend = display.ax_.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["adam", "adam (validation)"]
    with pytest.raises(ValueError, match="validation_loss_curve must be a 1-D"):
        TrainingHistoryDisplay([1.0], validation_loss_curve=[[1.0]]).plot()


def test_display_without_validation_data_draws_no_validation_loss(pyplot, digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.validation_loss_curve_ is None
    display = TrainingHistoryDisplay.from_estimator(clf)
    assert display.validation_loss_line_ is None
    assert len(display.ax_.get_lines()) == 1


def test_display_from_estimator_without_validation(pyplot):
    X = np.linspace(0, 1, 40).reshape(-1, 1)
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
    reg.fit(X, X.ravel() ** 2)
    display = TrainingHistoryDisplay.from_estimator(reg, label="lbfgs")
    assert len(display.lines_) == 1
    assert display.ax_validation_ is None
    assert display.lines_[0].get_label() == "lbfgs"
    assert len(display.lines_[0].get_xdata()) == len(reg.loss_curve_)


def test_display_from_pipeline(pyplot, digits):
    X, y = digits
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    display = TrainingHistoryDisplay.from_estimator(pipe)
    np.testing.assert_allclose(display.lines_[0].get_ydata(), pipe[-1].loss_curve_)


def test_display_from_unfitted_estimator_raises(pyplot):
    with pytest.raises(NotFittedError, match="not fitted"):
        TrainingHistoryDisplay.from_estimator(MLPClassifier())
    with pytest.raises(NotFittedError, match="not fitted"):
        TrainingHistoryDisplay.from_estimator(make_pipeline(StandardScaler(), MLPRegressor()))


def test_display_from_estimator_without_loss_curve_raises(pyplot, digits):
    X, y = digits
    model = LogisticRegression(max_iter=1000).fit(X, y)
    with pytest.raises(ValueError, match="no loss_curve_"):
        TrainingHistoryDisplay.from_estimator(model)


def test_display_rejects_non_1d_curves(pyplot):
    with pytest.raises(ValueError, match="1-D"):
        TrainingHistoryDisplay([[1.0, 2.0], [3.0, 4.0]]).plot()


def test_display_without_matplotlib_raises_clear_import_error(monkeypatch):
    # A None entry in sys.modules makes `import matplotlib.pyplot` fail.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        TrainingHistoryDisplay([1.0, 0.5]).plot()
