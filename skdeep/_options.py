"""Estimator parameters turned into engine objects.

The estimators store their parameters untouched (sklearn's convention); this
module reads them and builds what the engine and the training loop take: the
layer sizes, per-layer activations and dropout rates, the update rule, the
learning-rate schedule, the loss and the loop's settings. The parameter
constraints of the estimators are built here from the engine's own
registries, so every list of names exists once.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn import get_config

from ._compat import Interval, Options, StrOptions
from ._engine import (
    HIDDEN_ACTIVATIONS,
    INITIALIZERS,
    OPTIMIZERS,
    REGRESSION_LOSSES,
    SCHEDULES,
    check_quantiles,
    loss_for_output,
    make_loss,
    make_optimizer,
    make_schedule,
)
from ._training import LBFGS_OBJECTIVES, LbfgsConfig, StochasticConfig

__all__ = [
    "MLP_CONSTRAINTS",
    "REGRESSION_LOSS_CONSTRAINT",
    "QUANTILE_CONSTRAINT",
    "quantile_levels",
    "STOCHASTIC_SOLVERS",
    "hidden_layer_sizes",
    "hidden_settings",
    "first_activation",
    "engine_loss",
    "fitted_engine_loss",
    "optimizer_for",
    "schedule_for",
    "stochastic_config",
    "lbfgs_config",
    "max_predict_rows",
]

#: Solvers that train by mini-batches (and so support ``partial_fit``).
STOCHASTIC_SOLVERS = tuple(OPTIMIZERS)

#: Constraints shared by MLPClassifier and MLPRegressor (sklearn's names).
MLP_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
    "solver": [StrOptions({"lbfgs", *OPTIMIZERS})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions(set(SCHEDULES))],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
    "init": [StrOptions(set(INITIALIZERS))],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "warmup": [Interval(Integral, 0, None, closed="left")],
    "lr_step_size": [Interval(Integral, 1, None, closed="left")],
    "lr_gamma": [Interval(Real, 0, 1, closed="right")],
    "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
    "scoring": [None, str, callable],
    "categorical_features": [None, StrOptions({"from_dtype"}), "array-like"],
    "embedding_dim": [None, Interval(Integral, 1, None, closed="left"), callable],
    "lbfgs_objective": [StrOptions(set(LBFGS_OBJECTIVES))],
}

#: The regressor's ``loss``: every regression loss of the engine.
REGRESSION_LOSS_CONSTRAINT = [StrOptions(set(REGRESSION_LOSSES))]

#: ``quantile``: one level, or a list of them (checked by ``quantile_levels``).
QUANTILE_CONSTRAINT = [None, Interval(Real, 0, 1, closed="neither"), "array-like"]

# Engine option -> estimator parameter, for each update rule. A new
# hyperparameter of an optimizer is one entry here (and its parameter).
_OPTIMIZER_OPTIONS = {
    "sgd": {"momentum": "momentum", "nesterov": "nesterovs_momentum"},
    "adam": {"beta_1": "beta_1", "beta_2": "beta_2", "epsilon": "epsilon"},
    "adamw": {
        "beta_1": "beta_1",
        "beta_2": "beta_2",
        "epsilon": "epsilon",
        "weight_decay": "weight_decay",
    },
    "rmsprop": {"rho": "beta_2", "epsilon": "epsilon"},
}

# Engine option -> estimator parameter, for the losses that take options.
_LOSS_OPTIONS = {"huber": {"delta": "huber_delta"}, "quantile": {"quantile": "quantile"}}


def _options(estimator, names):
    """``{engine option: value of the estimator parameter}`` for ``names``."""
    return {option: getattr(estimator, param) for option, param in names.items()}


def hidden_layer_sizes(estimator):
    """``hidden_layer_sizes`` as a list of positive ints, or a clear error."""
    sizes = estimator.hidden_layer_sizes
    # A 0-d array (np.array(3)) is one layer, as the int it holds.
    sizes = [sizes] if np.ndim(sizes) == 0 else list(sizes)
    sizes = [s.item() if isinstance(s, np.ndarray) and s.ndim == 0 else s for s in sizes]
    if any(not isinstance(s, Integral) or isinstance(s, bool) or s <= 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must contain positive integers, got {sizes}.")
    return [int(s) for s in sizes]


def _per_layer(name, value, n_hidden, valid):
    """Expand a scalar setting to one entry per hidden layer, and check it."""
    values = [value] * n_hidden if isinstance(value, (str, Real)) else list(value)
    if len(values) != n_hidden:
        raise ValueError(
            f"{name} has {len(values)} entries but there are {n_hidden} hidden "
            f"layers; pass one value, or one per hidden layer."
        )
    for entry in values:
        if not valid(entry):
            raise ValueError(f"Invalid {name} entry {entry!r}.")
    return values


def hidden_settings(estimator, n_hidden):
    """Per-hidden-layer activation names and dropout rates."""
    activations = _per_layer(
        "activation", estimator.activation, n_hidden, lambda a: a in HIDDEN_ACTIVATIONS
    )
    dropout = _per_layer(
        "dropout",
        estimator.dropout,
        n_hidden,
        lambda r: isinstance(r, Real) and not isinstance(r, bool) and 0 <= r < 1,
    )
    return activations, dropout


def first_activation(estimator, activations):
    """The activation whose Glorot factor sklearn uses for every layer."""
    if activations:
        return activations[0]
    activation = estimator.activation
    return activation if isinstance(activation, str) else "relu"


def quantile_levels(estimator):
    """The levels of ``loss='quantile'`` as an array; None for the other losses.

    ``quantile`` belongs to ``loss='quantile'`` alone, and that loss needs
    it: either mismatch is an error rather than a silently ignored setting.
    """
    quantile = getattr(estimator, "quantile", None)
    if estimator.loss != "quantile":
        if quantile is not None:
            raise ValueError(
                f"quantile={quantile!r} is only used by loss='quantile', but "
                f"loss={estimator.loss!r}; set loss='quantile', or leave quantile=None."
            )
        return None
    if quantile is None:
        raise ValueError(
            "loss='quantile' needs the level(s) to learn: pass quantile=0.9, say, or "
            "quantile=[0.05, 0.5, 0.95] for several at once."
        )
    return check_quantiles(quantile)


def engine_loss(estimator, name):
    """The engine's loss object ``name``, with its options from ``estimator``."""
    quantile_levels(estimator)  # a misplaced or missing quantile fails here, clearly
    return make_loss(name, **_options(estimator, _LOSS_OPTIONS.get(name, {})))


def fitted_engine_loss(estimator):
    """The loss a fitted model's network is rebuilt with to predict, from its fitted state.

    Prediction reads only the loss's output activation (``out_activation_``);
    several quantile levels build it from the levels of the fit
    (``quantile_levels_``), not from the ``loss`` and ``quantile`` the
    parameters may hold since.
    """
    fitted = estimator.__dict__
    levels = fitted.get("quantile_levels_")
    if levels is not None and np.size(levels) > 1:
        return make_loss("quantile", quantile=levels)
    if fitted["out_activation_"] == "cumulative_softplus":  # fitted before levels were kept
        return engine_loss(estimator, estimator.loss)
    return loss_for_output(fitted["out_activation_"])


def optimizer_for(estimator, network, state=None):
    """The update rule of ``estimator.solver`` for ``network``.

    ``state`` (an earlier ``state_dict()``) is loaded when it was saved by
    the same solver, so that ``partial_fit`` continues where it stopped.
    """
    solver = estimator.solver
    options = _options(estimator, _OPTIMIZER_OPTIONS[solver])
    if "weight_decay" in options:
        options["n_decayed"] = network.n_penalized_params
    if getattr(network, "lr_scales", None):
        if solver not in ("adam", "adamw"):
            raise ValueError(f"solver={solver!r} does not support per-layer learning rates.")
        options["lr_scales"] = network.lr_scales
    optimizer = make_optimizer(
        solver, network.params.size, network.dtype,
        learning_rate=estimator.learning_rate_init, **options,
    )
    if state is not None and state.get("solver") == solver:
        optimizer.load_state_dict(state)
    return optimizer


def schedule_name(estimator):
    """The schedule applied: sklearn's Adam ignores ``invscaling`` / ``adaptive``.

    skdeep keeps that for sklearn's schedules, so swapping the import
    changes nothing, and applies its own schedules ("cosine", "step") and
    every schedule to the solvers sklearn lacks.
    """
    if estimator.solver == "adam" and estimator.learning_rate in ("invscaling", "adaptive"):
        return "constant"
    return estimator.learning_rate


def schedule_for(estimator):
    """The learning-rate schedule of ``estimator``."""
    return make_schedule(
        schedule_name(estimator),
        estimator.learning_rate_init,
        power_t=estimator.power_t,
        n_epochs=estimator.max_iter,
        warmup=estimator.warmup,
        step_size=estimator.lr_step_size,
        gamma=estimator.lr_gamma,
    )


def batch_size(estimator, n_samples):
    """sklearn's rule: "auto" is min(200, n); a larger value is clipped.

    An estimator with its own rule defines ``_batch_size(n_samples)``.
    """
    if hasattr(estimator, "_batch_size"):
        return estimator._batch_size(n_samples)
    if estimator.batch_size == "auto":
        return min(200, n_samples)
    if estimator.batch_size > n_samples and estimator._warn_at_max_iter:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going "
            "to be clipped"
        )
    return int(np.clip(estimator.batch_size, 1, n_samples))


def stochastic_config(estimator, n_samples, incremental):
    """Settings of the mini-batch loop for ``n_samples`` training rows."""
    return StochasticConfig(
        batch_size=batch_size(estimator, n_samples),
        max_iter=estimator.max_iter,
        alpha=estimator.alpha,
        shuffle=estimator.shuffle,
        tol=estimator.tol,
        n_iter_no_change=estimator.n_iter_no_change,
        incremental=incremental,
        max_grad_norm=estimator.max_grad_norm,
        early_stopping=uses_early_stopping(estimator, incremental),
    )


def uses_early_stopping(estimator, incremental):
    """Early stopping applies to ``fit``; ``partial_fit`` uses all its data."""
    return bool(estimator.early_stopping) and not incremental


def lbfgs_config(estimator):
    """Settings of an L-BFGS run (SciPy's verbosity as sklearn sets it)."""
    return LbfgsConfig(
        alpha=estimator.alpha,
        max_iter=estimator.max_iter,
        max_fun=estimator.max_fun,
        tol=estimator.tol,
        objective=estimator.lbfgs_objective,
        iprint=1 if estimator.verbose is True or estimator.verbose >= 1 else -1,
    )


#: The row count of an unlimited ``working_memory``: every prediction in one pass.
_NO_LIMIT = np.iinfo(np.int64).max

#: A prediction needing at most this many bytes runs in one pass without
#: reading sklearn's configuration, which costs a tenth of a one-row predict.
_SMALL_PREDICTION_BYTES = 2**20


def max_predict_rows(row_bytes, n_rows=None):
    """Rows one prediction pass may hold at once within sklearn's ``working_memory``.

    As sklearn's pairwise functions do, the budget is
    ``sklearn.get_config()["working_memory"]`` MiB. A chunk's activations
    take at most half of it: the other half is left for what grows with
    the rows predicted so far (the returned predictions or probabilities),
    so that a whole prediction stays near the budget. A row costing more
    than that is still predicted, one row at a time. Given ``n_rows``, a
    prediction of at most 1 MiB in all runs in one pass. An infinite
    ``working_memory`` is no limit.
    """
    if n_rows is not None and n_rows * row_bytes <= _SMALL_PREDICTION_BYTES:
        return max(1, int(n_rows))
    working_memory = get_config()["working_memory"]
    if np.isnan(working_memory):
        raise ValueError(
            "sklearn's working_memory is NaN; set it to a number of MiB (e.g. "
            "sklearn.set_config(working_memory=1024)), or to float('inf') for no limit."
        )
    if working_memory == np.inf:
        return _NO_LIMIT
    budget = working_memory * 2**20 / 2
    return max(1, int(budget // max(int(row_bytes), 1)))

