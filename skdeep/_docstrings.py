"""Docstring fragments shared by the estimators, so that they cannot drift.

Each parameter and fitted attribute is described once here, in numpydoc
form; a class docstring is assembled from the entries of its own parameters
(:func:`parameters`) and attributes (:func:`attributes`). Lists of names
(solvers, activations, schedules, initialisations, losses) are read from the
engine's registries. Task-specific words are ``{placeholders}`` filled by
each estimator (see ``CLASSIFIER_WORDS`` and ``REGRESSOR_WORDS``).
"""

import inspect
import textwrap

from ._engine import HIDDEN_ACTIVATIONS, INITIALIZERS, OPTIMIZERS, REGRESSION_LOSSES, SCHEDULES
from ._training import LBFGS_OBJECTIVES

__all__ = [
    "PARAMETERS",
    "ATTRIBUTES",
    "CLASSIFIER_WORDS",
    "REGRESSOR_WORDS",
    "parameters",
    "attributes",
    "choices",
    "fill_docstring",
]


def choices(names):
    """``{'a', 'b'}``, a numpydoc set of string options, escaped for the
    ``str.format`` the entries go through."""
    return "{{" + ", ".join(repr(name) for name in names) + "}}"


_SKLEARN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
_EXTRA_ACTIVATIONS = ", ".join(
    f"``'{name}'``" for name in HIDDEN_ACTIVATIONS if name not in _SKLEARN_ACTIVATIONS
)

#: Words that differ between the classifier and the regressor.
CLASSIFIER_WORDS = dict(
    score="accuracy",
    monitored_score="accuracy",
    no_hidden_layer="a (multinomial) logistic regression, one neuron per output",
    split=" (stratified)",
    loss_value="the mean cross-entropy plus the penalty",
    outputs="output neurons",
    out_activation="``'softmax'`` (multiclass) or ``'logistic'`` (binary and multilabel)",
    lbfgs_loss="the log-loss of the probabilities clipped to ``[eps, 1 - eps]``",
    exact_lbfgs_loss="the log-loss computed exactly from the logits, which keeps "
    "decreasing where probabilities round to 0 or 1",
)
REGRESSOR_WORDS = dict(
    score="R^2",
    monitored_score="R^2 (minus the validation loss, for ``loss='quantile'``)",
    no_hidden_layer="a linear model",
    split="",
    loss_value="the mean loss plus the penalty",
    outputs="outputs (one per quantile level, with several levels)",
    out_activation="``'identity'`` (most losses), ``'exp'`` (``loss='poisson'``) or "
    "``'cumulative_softplus'`` (``loss='quantile'`` with several levels: the first "
    "output plus the running sum of the softplus of the others)",
    lbfgs_loss="with several targets, the squared error averaged over them, with the "
    "gradient of their sum",
    exact_lbfgs_loss="with several targets, the loss and the gradient of the same "
    "function, their sum (``loss_`` is then ``n_outputs`` times larger)",
)

PARAMETERS = {
    "loss": f"""\
loss : {choices(REGRESSION_LOSSES)}, \
        default='squared_error'
    ``'squared_error'`` minimises ``(y - f(x))**2 / 2`` with an identity
    output; ``'poisson'`` minimises half the Poisson deviance with an
    exponential output (predictions are positive; ``y`` must be
    non-negative). skdeep extensions: ``'huber'`` (quadratic up to
    ``huber_delta``, linear beyond: robust to outliers),
    ``'absolute_error'`` (the conditional median) and ``'quantile'``
    (the pinball loss of the level(s) in ``quantile``: conditional
    quantiles, as in ``HistGradientBoostingRegressor``).""",
    "hidden_layer_sizes": """\
hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
    The ith element is the number of neurons in the ith hidden layer.
    ``()`` gives a network with no hidden layer: {no_hidden_layer}.""",
    "activation": f"""\
activation : str or sequence of str, default='relu'
    One of ``'identity'``, ``'logistic'``, ``'tanh'``, ``'relu'`` (as in
    sklearn) or, as skdeep extensions, {_EXTRA_ACTIVATIONS}; or a sequence
    with one name per hidden layer.""",
    "solver": f"""\
solver : {choices(['lbfgs', *OPTIMIZERS])}, default='adam'
    Weight optimisation: quasi-Newton L-BFGS (good for small data), plain
    stochastic gradient descent with momentum, or Adam. ``'adamw'`` (Adam
    with decoupled ``weight_decay``) and ``'rmsprop'`` (decay rate
    ``beta_2``) are skdeep extensions.""",
    "alpha": """\
alpha : float, default=0.0001
    Strength of the L2 penalty ``alpha / 2 * ||W||**2``, divided by the
    (weighted) number of samples in the batch, as in sklearn.""",
    "batch_size": """\
batch_size : int or "auto", default="auto"
    Mini-batch size for the stochastic solvers; "auto" is
    ``min(200, n_samples)``. Ignored by L-BFGS.""",
    "learning_rate": f"""\
learning_rate : {choices(SCHEDULES)}, \
        default='constant'
    Learning-rate schedule. As in sklearn, ``'adam'`` ignores
    ``'invscaling'`` and ``'adaptive'``; every other stochastic solver
    follows every schedule. ``'invscaling'`` uses
    ``learning_rate_init / pow(t, power_t)`` with ``t`` the number of
    samples seen; ``'adaptive'`` divides the rate by 5 each time
    ``n_iter_no_change`` epochs fail to improve by ``tol``. ``'cosine'``
    anneals to 0 over ``max_iter`` epochs and ``'step'`` multiplies by
    ``lr_gamma`` every ``lr_step_size`` epochs, both after ``warmup``
    epochs (skdeep extensions).""",
    "learning_rate_init": """\
learning_rate_init : float, default=0.001
    Initial step size of the stochastic solvers.""",
    "power_t": """\
power_t : float, default=0.5
    Exponent of the ``'invscaling'`` schedule.""",
    "max_iter": """\
max_iter : int, default=200
    Maximum number of epochs (stochastic solvers) or iterations (L-BFGS).""",
    "shuffle": """\
shuffle : bool, default=True
    Whether to shuffle the samples at every epoch.""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
    Seeds weight initialisation, shuffling, dropout and the early-stopping
    split. Pass an int for reproducible (bit-identical) results.""",
    "tol": """\
tol : float, default=1e-4
    Tolerance: training stops when the loss (or validation score) does
    not improve by at least ``tol`` for ``n_iter_no_change`` epochs.""",
    "verbose": """\
verbose : bool or int, default=False
    Whether to print progress: True (or 1) prints scikit-learn's lines
    exactly; 2 prints one richer line per epoch (and per L-BFGS
    iteration), with the validation score and the time.""",
    "warm_start": """\
warm_start : bool, default=False
    Reuse the previous solution as initialisation when ``fit`` is called.""",
    "momentum": """\
momentum : float, default=0.9
    Momentum of the ``'sgd'`` solver, in ``[0, 1]``.""",
    "nesterovs_momentum": """\
nesterovs_momentum : bool, default=True
    Whether the ``'sgd'`` solver uses Nesterov's momentum.""",
    "early_stopping": """\
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the training data{split} and stop
    when its {monitored_score} stops improving; the best weights are kept.""",
    "validation_fraction": """\
validation_fraction : float, default=0.1
    Fraction of the training data held out for early stopping.""",
    "beta_1": """\
beta_1 : float, default=0.9
    Decay rate of Adam's first-moment estimate, in ``[0, 1)``.""",
    "beta_2": """\
beta_2 : float, default=0.999
    Decay rate of Adam's second-moment estimate (and of RMSprop's
    running mean of squared gradients), in ``[0, 1)``.""",
    "epsilon": """\
epsilon : float, default=1e-8
    Adam's (and RMSprop's) numerical-stability constant.""",
    "n_iter_no_change": """\
n_iter_no_change : int, default=10
    Number of epochs without ``tol`` improvement before stopping.""",
    "max_fun": """\
max_fun : int, default=15000
    Maximum number of loss evaluations of the L-BFGS solver.""",
    "lbfgs_objective": f"""\
lbfgs_objective : {choices(LBFGS_OBJECTIVES)}, default='sklearn'
    What the L-BFGS solver minimises (skdeep extension; ignored by the
    stochastic solvers). ``'sklearn'`` computes the loss and its gradient
    as scikit-learn's MLP does, operation for operation, so that
    ``solver='lbfgs'`` reaches scikit-learn's weights, ``loss_`` and
    ``n_iter_`` bit for bit (at one BLAS thread): {{lbfgs_loss}}.
    ``'exact'`` minimises the engine's own objective:
    {{exact_lbfgs_loss}}; a float32 fit then computes its loss value in
    float64. See "Differences from scikit-learn" in the user guide.""",
    "dropout": """\
dropout : float or sequence of float, default=0.0
    Dropout rate of the hidden layers, one value for all or one per
    hidden layer (skdeep extension). Inverted dropout: during training
    each hidden unit is zeroed with this probability and the others are
    scaled by ``1 / (1 - rate)``; prediction is unaffected. Reproducible
    under ``random_state``. Ignored by L-BFGS.""",
    "init": f"""\
init : {choices(INITIALIZERS)}, default='glorot'
    Weight initialisation (skdeep extension): sklearn's uniform Glorot
    rule, He (``sqrt(6 / fan_in)``, for the ReLU family) or LeCun
    (``sqrt(3 / fan_in)``, for SELU).""",
    "weight_decay": """\
weight_decay : float, default=0.01
    Decoupled weight decay of the ``'adamw'`` solver (skdeep extension).""",
    "warmup": """\
warmup : int, default=0
    Epochs of linear learning-rate warm-up for the ``'cosine'`` and
    ``'step'`` schedules (skdeep extension).""",
    "lr_step_size": """\
lr_step_size : int, default=10
    Epochs between decays of the ``'step'`` schedule.""",
    "lr_gamma": """\
lr_gamma : float, default=0.5
    Factor applied at each decay of the ``'step'`` schedule.""",
    "max_grad_norm": """\
max_grad_norm : float or None, default=None
    Clip the gradient's global Euclidean norm to this value before each
    stochastic update (skdeep extension); None disables clipping.""",
    "scoring": """\
scoring : str, callable or None, default=None
    What early stopping monitors on the validation data (skdeep
    extension, as in ``HistGradientBoosting*``): None is sklearn's
    choice: {monitored_score},
    ``'loss'`` the validation loss, and any other value
    a scorer name or callable accepted by
    :func:`sklearn.metrics.check_scoring`.""",
    "class_weight": """\
class_weight : dict, 'balanced' or None, default=None
    Weights of the classes (skdeep extension), multiplied into
    ``sample_weight`` as sklearn's linear models do. ``'balanced'`` uses
    ``n_samples / (n_classes * np.bincount(y))``.""",
    "huber_delta": """\
huber_delta : float, default=1.0
    Residual size at which ``loss='huber'`` turns from quadratic to
    linear, in the units of ``y``.""",
    "quantile": """\
quantile : float, list of float or None, default=None
    The quantile level(s) that ``loss='quantile'`` learns (skdeep
    extension, spelled as in ``HistGradientBoostingRegressor``), each in
    (0, 1); required by that loss and refused by the others. A strictly
    increasing list such as ``[0.05, 0.5, 0.95]`` trains one output per
    level in one network (``y`` must then be one column), and the
    predicted quantiles never cross: the network predicts the lowest
    level and adds a positive (softplus) step for each next one.""",
    "categorical_features": """\
categorical_features : {{"from_dtype"}}, array-like of str, int or bool, \
        or None, default=None
    Columns to learn an embedding for (skdeep extension; the convention
    of sklearn's ``HistGradientBoosting*``). None: every column is
    numeric, as in sklearn. ``"from_dtype"``: the pandas ``category``,
    ``object`` and ``string`` columns of a DataFrame (an array or sparse
    matrix has none). Or the categorical columns by name, by index, or as
    a boolean mask. Each categorical column's categories (the declared
    categories of a ``category`` column, else the distinct non-missing
    values) are fixed at the first ``fit`` or ``partial_fit``; each
    becomes a learned vector, and categories unseen then, ``NaN``,
    ``None`` and ``pd.NA`` share a reserved "unknown" vector. At most
    1,000,000 categories per column. See the user guide's
    "Categorical columns" page.""",
    "embedding_dim": """\
embedding_dim : int, callable or None, default=None
    Length of each category's vector: one int for every categorical
    column, a callable mapping a column's number of categories to its
    length, or None for ``min(50, round(1.6 * n_categories ** 0.56))``
    (2 categories: 2; 10: 6; 100: 21; 1,000 and more: 50).""",
}

ATTRIBUTES = {
    "classes_": """\
classes_ : ndarray or list of ndarray of shape (n_classes,)
    Class labels.""",
    "loss_": """\
loss_ : float
    Loss at the end of training: {loss_value}.""",
    "best_loss_": """\
best_loss_ : float or None
    Lowest training loss reached by the stochastic solvers; None with
    ``early_stopping=True``.""",
    "loss_curve_": """\
loss_curve_ : list of float
    Training loss after each epoch (each iteration for L-BFGS).""",
    "validation_scores_": """\
validation_scores_ : list of float or None
    {monitored_score} on the held-out set after each epoch, with early stopping
    (or with ``X_val``; NaN for epochs that had no validation data).""",
    "best_validation_score_": """\
best_validation_score_ : float or None
    Best validation {monitored_score}, with early stopping.""",
    "validation_loss_curve_": """\
validation_loss_curve_ : list of float or None
    Loss on the validation data after each epoch, when there is
    validation data (skdeep extension).""",
    "history_": """\
history_ : list of dict
    One record per epoch of the stochastic solvers (skdeep extension):
    ``epoch``, ``loss``, ``learning_rate``, ``time`` (seconds) and, with
    validation data, ``validation_score`` and ``validation_loss``.
    ``loss_curve_`` and ``validation_scores_`` are its columns.""",
    "t_": """\
t_ : int
    Number of training samples seen by the stochastic solvers.""",
    "coefs_": """\
coefs_ : list of ndarray
    The ith element is the weight matrix between layer i and i + 1.
    Assigning new matrices changes the model's predictions. With
    categorical columns, the rows of ``coefs_[0]`` are the numeric
    columns in order, then each embedding's components.""",
    "intercepts_": """\
intercepts_ : list of ndarray
    The ith element is the bias vector of layer i + 1; assignable.""",
    "n_features_in_": """\
n_features_in_ : int
    Number of features seen during fit.""",
    "is_categorical_": """\
is_categorical_ : ndarray of bool of shape (n_features_in_,) or None
    Which input columns were embedded; None when none were.""",
    "categories_": """\
categories_ : list of ndarray
    Known categories of each categorical column, in column order. Only
    with categorical columns.""",
    "embeddings_": """\
embeddings_ : list of ndarray of shape (n_categories + 1, dim)
    The learned embedding table of each categorical column (row ``k``
    for ``categories_[j][k - 1]``, row 0 for unknown and missing
    values), trained with the weights and penalised by ``alpha`` (and
    ``weight_decay``) like them. Only with categorical columns.""",
    "feature_names_in_": """\
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during fit, when X has string column names.""",
    "n_iter_": """\
n_iter_ : int
    Number of epochs (iterations for L-BFGS) run by the last call.""",
    "n_layers_": """\
n_layers_ : int
    Number of layers, input and output included.""",
    "n_outputs_": """\
n_outputs_ : int
    Number of {outputs}.""",
    "out_activation_": """\
out_activation_ : str
    Output activation: {out_activation}.""",
}


def _entry(template, words):
    """One entry, its description re-wrapped after the words are filled in."""
    heading, _, description = template.format(**words).partition("\n")
    heading = " ".join(heading.split())
    paragraph = " ".join(line.strip() for line in description.splitlines())
    body = textwrap.fill(paragraph, width=78, initial_indent="    ", subsequent_indent="    ",
                         break_on_hyphens=False, break_long_words=False)
    return f"{heading}\n{body}"


def _section(entries, names, words):
    text = "\n".join(_entry(entries[name], words) for name in names)
    return "\n".join("    " + line for line in text.splitlines())


def parameters(names, **words):
    """The entries of parameters ``names``, indented for a class docstring."""
    return _section(PARAMETERS, names, words)


def attributes(names, **words):
    """The entries of fitted attributes ``names``, indented likewise."""
    return _section(ATTRIBUTES, names, words)


def fill_docstring(attribute_names, words):
    """Class decorator: fill ``{parameters}`` and ``{attributes}`` in ``__doc__``.

    The parameters are those of the class's ``__init__``, in order, so the
    documentation always matches the signature.

    Parameters
    ----------
    attribute_names : list of str
        Fitted attributes to document, in order.
    words : dict
        Task-specific words, such as ``CLASSIFIER_WORDS``.
    """

    def decorate(cls):
        names = [name for name in inspect.signature(cls.__init__).parameters if name != "self"]
        doc = cls.__doc__.replace("{parameters}", parameters(names, **words).strip())
        cls.__doc__ = doc.replace("{attributes}", attributes(attribute_names, **words).strip())
        return cls

    return decorate
