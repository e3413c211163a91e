"""The training loops on bare arrays: no estimator, no sklearn conventions.

``fit_stochastic`` and ``fit_lbfgs`` take a network, encoded arrays and
settings, and return one ``TrainingResult``; observers see every epoch.
These tests pin the loop's decisions (divergence, plateaus, interrupts,
observers asking to stop, early stopping's best weights) directly.
"""

import numpy as np
import pytest

from skdeep._engine import Network, make_optimizer, make_schedule
from skdeep._training import (
    LbfgsConfig,
    Observer,
    StochasticConfig,
    TrainingState,
    VerboseLog,
    fit_lbfgs,
    fit_stochastic,
)


def regression_problem(n_samples=64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3))
    Y = (X @ np.array([[1.0], [-2.0], [0.5]])) + 0.01 * rng.normal(size=(n_samples, 1))
    network = Network([3, 8, 1], ["tanh"], "identity")
    network.initialize(np.random.RandomState(seed), "tanh")
    return network, (X, Y, None)


def run(network, data, learning_rate=0.01, state=None, evaluate=None, observers=(), **config):
    optimizer = make_optimizer("adam", network.params.size, network.dtype,
                               learning_rate=learning_rate)
    settings = dict(batch_size=16, max_iter=20, alpha=0.0, tol=1e-4, n_iter_no_change=10)
    settings.update(config)
    return fit_stochastic(
        network,
        optimizer,
        make_schedule("constant", learning_rate),
        data,
        StochasticConfig(**settings),
        TrainingState() if state is None else state,
        np.random.RandomState(0),
        evaluate=evaluate,
        observers=observers,
    )


class Recorder(Observer):
    """Remembers every notification; optionally stops after some epochs."""

    def __init__(self, stop_after=None):
        self.events, self.records, self.messages = [], [], []
        self.stop_after = stop_after

    def on_train_begin(self, network):
        self.events.append("train_begin")

    def on_epoch_begin(self, network):
        self.events.append("epoch_begin")

    def on_epoch_end(self, network, record):
        self.events.append("epoch_end")
        self.records.append(record)
        return self.stop_after is not None and len(self.records) >= self.stop_after

    def on_message(self, message):
        self.messages.append(message)

    def on_train_end(self, network, result):
        self.events.append(f"train_end:{result.status}")


def test_training_reduces_the_loss_and_fills_the_state():
    network, data = regression_problem()
    result = run(network, data, max_iter=30)
    state = result.state
    assert result.status == "max_iter"
    assert state.n_iter == len(state.loss_curve) == len(state.history) == 30
    assert state.t == 30 * 64
    assert state.loss == state.loss_curve[-1] < state.loss_curve[0] / 2
    assert [r["epoch"] for r in state.history] == list(range(1, 31))
    assert state.optimizer_state["t"] == 30 * 4  # Adam steps: 4 batches per epoch


def test_divergence_restores_the_last_finite_epoch():
    network, data = regression_problem()
    X, Y, _ = data
    reference_network, _ = regression_problem()
    run(reference_network, data, max_iter=2)
    Y = Y.copy()

    class BlowUpInThirdEpoch(Observer):
        epochs = 0

        def on_epoch_begin(self, network):
            self.epochs += 1
            if self.epochs == 3:
                Y[:] = 1e200  # squared residuals overflow to inf

    result = run(network, (X, Y, None), max_iter=5, observers=[BlowUpInThirdEpoch()])
    assert result.status == "diverged" and "inf" in result.message
    assert result.state.n_iter == 2
    np.testing.assert_array_equal(network.params, reference_network.params)


def test_plateau_stops_with_sklearns_message():
    network, data = regression_problem()
    recorder = Recorder()
    result = run(network, data, learning_rate=1e-9, max_iter=100, tol=1.0, n_iter_no_change=2,
                 observers=[recorder])
    assert result.status == "converged"
    # The first epoch sets the best loss; stop once more than 2 epochs after
    # it failed to improve by tol (sklearn's rule).
    assert result.state.n_iter == 4
    assert recorder.messages == [
        "Training loss did not improve more than tol=1.000000 for 2 consecutive "
        "epochs. Stopping."
    ]


def test_keyboard_interrupt_keeps_the_last_completed_epoch():
    network, data = regression_problem()

    class Interrupt(Observer):
        def on_epoch_begin(self, network):
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls == 3:
                raise KeyboardInterrupt

    reference_network, _ = regression_problem()
    reference = run(reference_network, data, max_iter=2)
    result = run(network, data, max_iter=10, observers=[Interrupt()])
    assert result.status == "interrupted"
    assert result.state.n_iter == 2
    np.testing.assert_array_equal(network.params, reference_network.params)
    assert result.state.optimizer_state["t"] == reference.state.optimizer_state["t"]


def test_observers_see_every_epoch_and_can_stop_training():
    network, data = regression_problem()
    recorder = Recorder(stop_after=4)
    result = run(network, data, max_iter=50, observers=[recorder])
    assert result.status == "converged" and result.message == "Stopped by a callback."
    assert result.state.n_iter == 4
    assert recorder.events == (
        ["train_begin"] + ["epoch_begin", "epoch_end"] * 4 + ["train_end:converged"]
    )
    assert [r["loss"] for r in recorder.records] == result.state.loss_curve


def test_early_stopping_restores_the_best_validation_weights():
    network, data = regression_problem()
    scores = iter([0.1, 0.5, 0.2, 0.3, 0.2, 0.1, 0.0, 0.0])
    snapshots = []

    def evaluate(network):
        snapshots.append(network.params.copy())
        return next(scores), 0.0

    state = TrainingState(validation_scores=[], best_validation_score=-np.inf)
    result = run(network, data, evaluate=evaluate, state=state, max_iter=8, early_stopping=True,
                 n_iter_no_change=3, tol=0.0)
    assert result.status == "converged"
    # Stops when more than 3 epochs in a row fail to beat the best score.
    assert result.state.validation_scores == [0.1, 0.5, 0.2, 0.3, 0.2, 0.1]
    assert result.state.best_validation_score == 0.5
    np.testing.assert_array_equal(network.params, snapshots[1])


def test_incremental_run_is_one_epoch():
    network, data = regression_problem()
    result = run(network, data, incremental=True)
    assert result.status == "incremental"
    assert result.state.n_iter == 1


def test_verbose_log_writes_one_line_per_epoch():
    network, data = regression_problem()
    lines = []
    run(network, data, max_iter=3, observers=[VerboseLog(lines.append)])
    assert len(lines) == 3
    assert lines[0].startswith("Iteration 1, loss = ")


def test_lbfgs_returns_the_same_result_shape():
    network, data = regression_problem()
    recorder = Recorder()
    result = fit_lbfgs(network, data, LbfgsConfig(alpha=0.0, max_iter=15, max_fun=15000,
                                                  tol=1e-12), observers=[recorder])
    assert result.status in ("max_iter", "converged")
    assert result.state.n_iter == len(result.state.loss_curve) <= 15
    assert result.state.loss == pytest.approx(result.state.loss_curve[-1])
    assert result.state.loss < 0.01
    assert recorder.events[0] == "train_begin" and recorder.events[-1].startswith("train_end")


def test_lbfgs_observer_can_stop_after_an_iteration():
    network, data = regression_problem()
    result = fit_lbfgs(network, data, LbfgsConfig(alpha=0.0, max_iter=100, max_fun=15000,
                                                  tol=0.0), observers=[Recorder(stop_after=2)])
    assert len(result.state.loss_curve) == 2


def _lbfgs_config(**settings):
    return LbfgsConfig(**{"alpha": 1e-3, "max_iter": 10, "max_fun": 15000, "tol": 0.0,
                          **settings})


def test_lbfgs_objectives_minimise_the_same_function_of_one_target():
    """sklearn's operation order and the engine's: one function, other rounding."""
    curves = {}
    for objective in ("sklearn", "exact"):
        network, data = regression_problem()
        result = fit_lbfgs(network, data, _lbfgs_config(objective=objective))
        curves[objective] = result.state.loss_curve
    assert len(curves["sklearn"]) == len(curves["exact"]) == 10
    np.testing.assert_allclose(curves["sklearn"], curves["exact"], rtol=1e-9)


@pytest.mark.parametrize("scipy_version, passes_iprint", [((1, 14), True), ((1, 15), False)])
def test_lbfgs_hands_scipy_sklearns_arguments(monkeypatch, scipy_version, passes_iprint):
    """The options sklearn passes (iprint only where SciPy still reads it), and
    a starting point in the network's dtype."""
    import scipy.optimize

    import skdeep._training

    calls = []
    real_minimize = scipy.optimize.minimize

    def minimize(fun, x0, **kwargs):
        calls.append((x0.dtype, dict(kwargs["options"])))
        kwargs["options"].pop("iprint", None)  # the installed SciPy may warn about it
        return real_minimize(fun, x0, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", minimize)
    monkeypatch.setattr(skdeep._training, "_SCIPY_VERSION", scipy_version)
    network = Network([3, 8, 1], ["tanh"], "identity", dtype=np.float32)
    network.initialize(np.random.RandomState(0), "tanh")
    X, Y, _ = regression_problem()[1]
    data = (X.astype(np.float32), Y.astype(np.float32), None)
    fit_lbfgs(network, data, _lbfgs_config(max_iter=3, iprint=1))
    (dtype, options), = calls
    assert dtype == np.float32
    expected = {"maxfun": 15000, "maxiter": 3, "gtol": 0.0}
    assert options == ({**expected, "iprint": 1} if passes_iprint else expected)
