"""The ideas skdeep teaches, checked on skdeep's own estimators.

* A network with no hidden layer is a linear model: it can learn the
  Celsius -> Fahrenheit rule exactly (weight 1.8, bias 32).
* A neuron is a weighted sum plus a bias passed through an activation.
* The "driving test" network: two hand-set ReLU neurons (parking, road
  driving) feeding a sigmoid output neuron.
* Stacking linear layers stays linear; a non-linear activation is what lets
  a network bend.
* Classifiers are trained by minimising the (softmax) cross-entropy: a model
  that gives the correct class probability 0.78 pays -ln(0.78).
"""

import warnings

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.metrics import log_loss, mean_squared_error, r2_score
from sklearn.preprocessing import StandardScaler

from skdeep import MLPClassifier, MLPRegressor


def relu(z):
    return np.maximum(z, 0.0)


ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": relu,
}


def fit_quietly(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


# --------------------------------------------------------------------------
# Celsius -> Fahrenheit: one weight, one bias
# --------------------------------------------------------------------------

CELSIUS = np.linspace(-40.0, 100.0, 29).reshape(-1, 1)
FAHRENHEIT = 1.8 * CELSIUS.ravel() + 32.0


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_celsius_to_fahrenheit_lbfgs(random_state):
    model = MLPRegressor(
        hidden_layer_sizes=(),
        solver="lbfgs",
        alpha=0.0,
        tol=1e-12,
        max_iter=1000,
        random_state=random_state,
    ).fit(CELSIUS, FAHRENHEIT)
    assert model.n_layers_ == 2
    assert model.coefs_[0].shape == (1, 1)
    assert model.intercepts_[0].shape == (1,)
    assert model.coefs_[0][0, 0] == pytest.approx(1.8, rel=1e-4)
    assert model.intercepts_[0][0] == pytest.approx(32.0, abs=1e-2)
    # the learned rule converts unseen temperatures
    np.testing.assert_allclose(
        model.predict([[37.0], [-40.0], [100.0], [0.0]]),
        [98.6, -40.0, 212.0, 32.0],
        atol=1e-2,
    )


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_celsius_to_fahrenheit_adam(random_state):
    # No input scaling: a large learning rate and enough epochs are needed.
    model = MLPRegressor(
        hidden_layer_sizes=(),
        solver="adam",
        alpha=0.0,
        learning_rate_init=0.5,
        tol=0.0,
        n_iter_no_change=10**6,
        max_iter=1000,
        random_state=random_state,
    )
    fit_quietly(model, CELSIUS, FAHRENHEIT)
    assert model.coefs_[0][0, 0] == pytest.approx(1.8, abs=1e-2)
    assert model.intercepts_[0][0] == pytest.approx(32.0, abs=0.1)
    assert model.loss_curve_[-1] < 1e-3 * model.loss_curve_[0]


def test_celsius_prediction_is_weight_times_input_plus_bias():
    model = MLPRegressor(hidden_layer_sizes=(), solver="lbfgs", alpha=0.0)
    fit_quietly(model, CELSIUS, FAHRENHEIT)
    w, b = model.coefs_[0][0, 0], model.intercepts_[0][0]
    np.testing.assert_allclose(model.predict(CELSIUS), w * CELSIUS.ravel() + b)


# --------------------------------------------------------------------------
# The driving-test network, weights set by hand
# --------------------------------------------------------------------------

# inputs: [hours of parking practice, hours of road practice]
# hidden neuron 0 = "parking" neuron, hidden neuron 1 = "road driving" neuron
W1 = np.array([[1.0, 0.2],
               [0.1, 0.5]])
B1 = np.array([-3.0, -5.0])
W2 = np.array([[1.5],
               [2.0]])
B2 = np.array([-4.0])

STUDENTS = np.array(
    [
        [0.0, 0.0],    # no practice at all: both neurons silent
        [2.0, 4.0],    # a little practice: both neurons still silent
        [6.0, 4.0],    # parks well, little road time: road neuron cut off
        [1.0, 20.0],   # lots of road, little parking: parking neuron cut off
        [6.0, 14.0],   # practised both: both neurons active
        [10.0, 30.0],  # very well prepared
    ]
)


def driving_network():
    # Fit briefly so that the estimator is "fitted", then set the weights.
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 20, size=(20, 2))
    y = np.where(X.sum(axis=1) > 20, "pass", "fail")
    clf = MLPClassifier(
        hidden_layer_sizes=(2,), activation="relu", solver="lbfgs", max_iter=5,
        random_state=0,
    )
    fit_quietly(clf, X, y)
    assert [c.shape for c in clf.coefs_] == [(2, 2), (2, 1)]
    assert [b.shape for b in clf.intercepts_] == [(2,), (1,)]
    clf.coefs_ = [W1.copy(), W2.copy()]
    clf.intercepts_ = [B1.copy(), B2.copy()]
    return clf


def hand_computed_pass_probability(x):
    hidden = relu(x @ W1 + B1)
    return expit(hidden @ W2[:, 0] + B2[0]), hidden


def test_driving_network_matches_hand_computation():
    clf = driving_network()
    np.testing.assert_array_equal(clf.classes_, ["fail", "pass"])
    proba = clf.predict_proba(STUDENTS)
    assert proba.shape == (len(STUDENTS), 2)
    for x, p in zip(STUDENTS, proba):
        expected, _ = hand_computed_pass_probability(x)
        assert p[1] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert p[0] == pytest.approx(1.0 - expected, rel=1e-12, abs=1e-15)


def test_driving_network_worked_examples():
    clf = driving_network()
    p_pass = clf.predict_proba(STUDENTS)[:, 1]
    # 0 h / 0 h: both neurons silent, the output is sigmoid of its bias
    assert p_pass[0] == pytest.approx(expit(-4.0), rel=1e-12)
    # 6 h parking / 4 h road:
    #   parking neuron: 1.0*6 + 0.1*4 - 3 = 3.4  (active)
    #   road neuron:    0.2*6 + 0.5*4 - 5 = -1.8 -> ReLU cuts it to 0
    #   output: sigmoid(1.5*3.4 + 2.0*0 - 4) = sigmoid(1.1)
    assert p_pass[2] == pytest.approx(expit(1.1), rel=1e-12)
    # 6 h parking / 14 h road:
    #   parking neuron: 6 + 1.4 - 3 = 4.4, road neuron: 1.2 + 7 - 5 = 3.2
    #   output: sigmoid(1.5*4.4 + 2.0*3.2 - 4) = sigmoid(9.0)
    assert p_pass[4] == pytest.approx(expit(9.0), rel=1e-12)


def test_driving_network_inactive_neuron_is_cut_off():
    clf = driving_network()
    x = STUDENTS[2:3]  # 6 h parking / 4 h road
    _, hidden = hand_computed_pass_probability(x[0])
    assert hidden[0] > 0 and hidden[1] == 0.0  # road neuron silent
    before = clf.predict_proba(x)
    # whatever the silent neuron would say, it does not reach the output...
    clf.coefs_ = [W1.copy(), np.array([[1.5], [-100.0]])]
    np.testing.assert_array_equal(clf.predict_proba(x), before)
    # ...while a student for whom it fires is affected
    assert clf.predict_proba(STUDENTS[4:5])[0, 1] < 0.5


def test_driving_network_predict_thresholds_at_one_half():
    clf = driving_network()
    p_pass = clf.predict_proba(STUDENTS)[:, 1]
    expected = np.where(p_pass > 0.5, "pass", "fail")
    np.testing.assert_array_equal(clf.predict(STUDENTS), expected)
    # the examples cover both outcomes
    assert set(expected) == {"pass", "fail"}
    np.testing.assert_array_equal(
        clf.predict(STUDENTS), ["fail", "fail", "pass", "pass", "pass", "pass"]
    )


# --------------------------------------------------------------------------
# A neuron: weighted sum plus bias through an activation
# --------------------------------------------------------------------------


def test_single_neuron_is_logistic_regression():
    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    clf = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(), solver="lbfgs", random_state=0), X, y
    )
    z = X @ clf.coefs_[0] + clf.intercepts_[0]
    assert z.shape == (100, 1)
    p1 = expit(z[:, 0])
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], p1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 0], 1 - p1, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(clf.predict(X), (z[:, 0] > 0).astype(int))


def test_single_layer_multiclass_is_softmax_regression():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(), solver="lbfgs", random_state=0), X, y
    )
    assert clf.out_activation_ == "softmax"
    z = X @ clf.coefs_[0] + clf.intercepts_[0]
    assert z.shape == (150, 3)
    np.testing.assert_allclose(
        clf.predict_proba(X), softmax(z, axis=1), rtol=1e-10, atol=1e-14
    )
    np.testing.assert_array_equal(clf.predict(X), z.argmax(axis=1))
    assert clf.score(X, y) > 0.9


def forward(X, coefs, intercepts, activation, output):
    a = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        z = a @ W + b
        a = ACTIVATIONS[activation](z) if i < len(coefs) - 1 else output(z)
    return a


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_network_is_composition_of_neurons(activation):
    X, y = make_classification(
        n_samples=60, n_features=4, n_classes=3, n_informative=3, n_redundant=0,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    clf = fit_quietly(
        MLPClassifier(
            hidden_layer_sizes=(5, 3), activation=activation, solver="lbfgs",
            max_iter=30, random_state=0,
        ),
        X,
        y,
    )
    expected = forward(
        X, clf.coefs_, clf.intercepts_, activation, lambda z: softmax(z, axis=1)
    )
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-9, atol=1e-14)

    reg = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(5, 3), activation=activation, solver="lbfgs",
            max_iter=30, random_state=0,
        ),
        X,
        y.astype(float),
    )
    expected = forward(X, reg.coefs_, reg.intercepts_, activation, lambda z: z)
    np.testing.assert_allclose(reg.predict(X), expected[:, 0], rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------
# Stacked linear layers stay linear
# --------------------------------------------------------------------------


def curve_data():
    x = np.linspace(-3, 3, 200).reshape(-1, 1)
    return x, x.ravel() ** 2


def test_identity_layers_collapse_to_one_matrix():
    X, y = curve_data()
    X = np.hstack([X, np.sin(X)])  # two inputs, to make the matrices non-trivial
    reg = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(8, 6), activation="identity", solver="lbfgs",
            max_iter=200, random_state=0,
        ),
        X,
        y,
    )
    W1, W2, W3 = reg.coefs_
    b1, b2, b3 = reg.intercepts_
    W = W1 @ W2 @ W3
    b = (b1 @ W2 + b2) @ W3 + b3
    assert W.shape == (2, 1)
    np.testing.assert_allclose(reg.predict(X), X @ W[:, 0] + b[0], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("random_state", [0, 1])
def test_linear_network_cannot_bend_relu_network_can(random_state):
    X, y = curve_data()
    params = dict(
        hidden_layer_sizes=(16, 16), solver="lbfgs", max_iter=300,
        random_state=random_state,
    )
    linear = fit_quietly(MLPRegressor(activation="identity", **params), X, y)
    bent = fit_quietly(MLPRegressor(activation="relu", **params), X, y)
    r2_linear = r2_score(y, linear.predict(X))
    r2_relu = r2_score(y, bent.predict(X))
    # no better than the best straight line (which is flat here: R^2 ~ 0)
    best_line = LinearRegression().fit(X, y).score(X, y)
    assert r2_linear <= best_line + 1e-6
    assert r2_linear < 0.1
    assert r2_relu > 0.9


# --------------------------------------------------------------------------
# Cross-entropy
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["binary", "multiclass"])
def test_lbfgs_loss_is_training_log_loss(dataset):
    if dataset == "binary":
        X, y = make_classification(n_samples=120, n_features=5, flip_y=0.2, random_state=0)
    else:
        X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = fit_quietly(
        MLPClassifier(
            hidden_layer_sizes=(4,), solver="lbfgs", alpha=0.0, max_iter=50,
            random_state=0,
        ),
        X,
        y,
    )
    assert clf.loss_ == pytest.approx(log_loss(y, clf.predict_proba(X)), rel=1e-6)


def test_lbfgs_loss_includes_l2_penalty():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 0.5
    clf = fit_quietly(
        MLPClassifier(
            hidden_layer_sizes=(4,), solver="lbfgs", alpha=alpha, max_iter=50,
            random_state=0,
        ),
        X,
        y,
    )
    penalty = 0.5 * alpha * sum((W**2).sum() for W in clf.coefs_) / len(X)
    expected = log_loss(y, clf.predict_proba(X)) + penalty
    assert clf.loss_ == pytest.approx(expected, rel=1e-6)


def test_lbfgs_regression_loss_is_half_mse():
    X, y = curve_data()
    reg = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(6,), solver="lbfgs", alpha=0.0, max_iter=50,
            random_state=0,
        ),
        X,
        y,
    )
    assert reg.loss_ == pytest.approx(0.5 * mean_squared_error(y, reg.predict(X)), rel=1e-6)


def confident_model(probabilities, solver="sgd"):
    """A no-hidden-layer classifier that outputs fixed class probabilities."""
    X, y = make_classification(
        n_samples=30, n_features=2, n_informative=2, n_redundant=0,
        n_classes=len(probabilities), n_clusters_per_class=1, random_state=0,
    )
    clf = MLPClassifier(
        hidden_layer_sizes=(), solver=solver, alpha=0.0, learning_rate_init=0.1,
        momentum=0.0, max_iter=1, random_state=0,
    )
    fit_quietly(clf, X, y)
    clf.coefs_ = [np.zeros_like(clf.coefs_[0])]
    probabilities = np.asarray(probabilities, dtype=float)
    if len(probabilities) == 2:  # a single sigmoid output: bias = logit(p1)
        clf.intercepts_ = [np.array([np.log(probabilities[1] / probabilities[0])])]
    else:  # softmax output: bias = log-probabilities
        clf.intercepts_ = [np.log(probabilities)]
    return clf, X


def test_correct_class_at_078_pays_minus_log_078():
    clf, X = confident_model([0.78, 0.12, 0.10])
    proba = clf.predict_proba(X[:1])
    np.testing.assert_allclose(proba, [[0.78, 0.12, 0.10]], rtol=1e-12)
    cost = log_loss([0], proba, labels=[0, 1, 2])
    assert cost == pytest.approx(-np.log(0.78), rel=1e-12)
    assert cost == pytest.approx(0.2485, abs=1e-4)
    # a wrong answer the model gave 0.10 to costs much more
    assert log_loss([2], proba, labels=[0, 1, 2]) == pytest.approx(-np.log(0.10))


def test_training_step_pays_minus_log_078_and_learns():
    # partial_fit reports the cross-entropy of the batch *before* updating.
    clf, X = confident_model([0.78, 0.12, 0.10])
    x = X[:1]
    clf.partial_fit(x, [0])
    assert clf.loss_ == pytest.approx(-np.log(0.78), rel=1e-10)
    # one gradient step makes the correct class more probable
    assert clf.predict_proba(x)[0, 0] > 0.78


@pytest.mark.parametrize("label, paid", [(1, 0.78), (0, 0.22)])
def test_binary_cross_entropy_at_078(label, paid):
    clf, X = confident_model([0.22, 0.78])
    proba = clf.predict_proba(X[:1])
    np.testing.assert_allclose(proba, [[0.22, 0.78]], rtol=1e-12)
    clf.partial_fit(X[:1], [label])
    assert clf.loss_ == pytest.approx(-np.log(paid), rel=1e-10)
    assert log_loss([label], proba, labels=[0, 1]) == pytest.approx(-np.log(paid))
