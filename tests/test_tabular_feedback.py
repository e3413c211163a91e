"""What a long tabular fit tells its user: verbose lines and sklearn's callbacks."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from _callbacks import Recorder

from skdeep import TabularMLPClassifier, TabularMLPRegressor


@pytest.fixture
def table():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y", "z"], 300)})
    y = (X["a"] + (X["b"] == "x") > 0.5).astype(int).to_numpy()
    return X, y


def _small(Estimator, **params):
    return Estimator(**{"hidden_layer_sizes": (16,), "max_iter": 4, "n_networks": 3,
                        "random_state": 0, **params})


def test_verbose_prints_one_line_per_epoch_with_every_network_time_and_eta(table, capsys):
    X, y = table
    _small(TabularMLPClassifier, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    for epoch, line in enumerate(lines, start=1):
        assert line.startswith(f"Epoch {epoch}/4 |")
        for network in (1, 2, 3):
            assert re.search(rf"network {network}: loss \d+\.\d+, validation \d\.\d+", line)
        assert re.search(r"\| \d+\.\d s elapsed, ETA \d+\.\d s$", line)
    # The ETA counts down to zero at the last epoch.
    assert lines[-1].endswith("ETA 0.0 s")


def test_verbose_without_validation_data_prints_losses(table, capsys):
    X, y = table
    _small(TabularMLPRegressor, verbose=True, early_stopping=False, n_networks=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all("validation" not in line for line in lines)
    assert all(re.search(r"network 1: loss \d+\.\d+ \|", line) for line in lines)


def test_callbacks_see_every_epoch_of_the_ensemble_and_can_stop_it(table):
    pytest.importorskip("sklearn.callback")
    X, y = table
    recorder = Recorder()
    model = _small(TabularMLPClassifier).set_callbacks(recorder).fit(X, y)
    assert recorder.events[0] == ("setup", "fit") and recorder.events[-1] == ("teardown", "fit")
    assert recorder.events.count(("end", "epoch")) == 4
    # fitted_estimator predicts with every member's weights of that epoch.
    assert len(recorder.scores) == 4 and all(0.5 < score <= 1 for score in recorder.scores)
    assert list(model.n_iter_) == [4, 4, 4]
    stopper = Recorder(stop_after=2)
    model = _small(TabularMLPClassifier).set_callbacks(stopper).fit(X, y)
    assert list(model.n_iter_) == [2, 2, 2]


def test_progress_bar_on_a_tabular_fit(table):
    callback = pytest.importorskip("sklearn.callback")
    pytest.importorskip("rich")
    X, y = table
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = _small(TabularMLPClassifier).set_callbacks(callback.ProgressBar()).fit(X, y)
    assert list(model.n_iter_) == [4, 4, 4]
