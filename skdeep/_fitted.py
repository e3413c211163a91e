"""Fitted attributes: which they are, and how training results become them.

Every fitted attribute an estimator publishes is produced here, from one of
three sources: the input and target descriptions (``_inputs.py`` and the
task's hooks), the trained network's weights (:func:`network_attributes`),
and the training progress (:func:`progress_attributes`, read back by
:func:`training_state` when training continues). A :class:`Draft` collects
them during a fit; the estimator commits the draft in one step when the fit
succeeds.
"""

import numpy as np

from ._training import TrainingState

__all__ = [
    "PRIVATE_FITTED",
    "is_fitted_attribute",
    "training_state",
    "progress_attributes",
    "network_attributes",
    "hidden_activation_names",
    "Draft",
    "PER_NETWORK",
    "shared_attributes",
    "member_attributes",
    "TABULAR_ARRAYS",
]

#: Fitted attributes that do not end with an underscore.
PRIVATE_FITTED = frozenset(
    {
        "_label_binarizer",
        "_optimizer_state",
        "_no_improvement_count",
        "_hidden_activations",
        "_category_lookups",
    }
)


#: Fitted attributes that describe one trained network: its learned arrays
#: (:func:`network_attributes`) and its training run
#: (:func:`progress_attributes`). An ensemble keeps them per member; the
#: rest (the input and target descriptions, the layer layout) once.
PER_NETWORK = frozenset(
    {
        "coefs_", "intercepts_", "embeddings_", "input_scale_", "periodic_embedding_",
        "piecewise_embedding_",
        "activation_strength_", "n_iter_", "t_", "loss_curve_", "loss_", "best_loss_",
        "validation_scores_", "best_validation_score_", "history_",
        "validation_loss_curve_", "_no_improvement_count", "_optimizer_state",
    }
)


def shared_attributes(fitted):
    """The fitted attributes of ``fitted`` (a dict) that are not :data:`PER_NETWORK`."""
    return {k: v for k, v in fitted.items()
            if is_fitted_attribute(k) and k not in PER_NETWORK}


def is_fitted_attribute(name):
    """Whether attribute ``name`` belongs to the fitted model (not a parameter)."""
    return name in PRIVATE_FITTED or (name.endswith("_") and not name.startswith("__"))


def training_state(fitted, early_stopping):
    """The :class:`TrainingState` stored in a fitted estimator's attributes."""
    best_loss = fitted.get("best_loss_")
    best_score = fitted.get("best_validation_score_")
    return TrainingState(
        t=fitted.get("t_", 0),
        loss_curve=list(fitted.get("loss_curve_") or []),
        best_loss=np.inf if best_loss is None else best_loss,
        validation_scores=list(fitted.get("validation_scores_") or []) if early_stopping else None,
        best_validation_score=-np.inf if best_score is None else best_score,
        no_improvement_count=fitted.get("_no_improvement_count", 0),
        history=list(fitted.get("history_") or []),
        optimizer_state=fitted.get("_optimizer_state"),
    )


def progress_attributes(state, solver, early_stopping):
    """sklearn's fitted attributes (and skdeep's) for a training state."""
    attributes = {"n_iter_": state.n_iter, "t_": state.t, "loss_curve_": state.loss_curve}
    if state.loss is not None:
        attributes["loss_"] = np.float64(state.loss)
    if solver == "lbfgs":
        return attributes
    validation_losses = [r["validation_loss"] for r in state.history if "validation_loss" in r]
    scores = None
    if early_stopping:
        scores = state.validation_scores
    elif validation_losses:
        scores = [r.get("validation_score", np.nan) for r in state.history]
    attributes.update(
        best_loss_=None if early_stopping else state.best_loss,
        validation_scores_=scores,
        best_validation_score_=state.best_validation_score if early_stopping else None,
        history_=state.history,
        validation_loss_curve_=validation_losses or None,
        _no_improvement_count=state.no_improvement_count,
        _optimizer_state={"solver": solver, **state.optimizer_state},
    )
    return attributes


def network_attributes(network, copy):
    """The weights as sklearn's fitted attributes (views, or copies)."""
    take = (lambda a: a.copy()) if copy else (lambda a: a)
    attributes = {
        "coefs_": [take(W) for W in network.coefs],
        "intercepts_": [take(b) for b in network.intercepts],
        "n_layers_": network.n_layers,
        "n_outputs_": network.layer_units[-1],
        "out_activation_": network.output_activation,
        "_hidden_activations": list(network.hidden_activations),
    }
    if network.embeddings is not None:
        attributes["embeddings_"] = [take(table) for table in network.tables]
    return attributes


#: The fitted attribute of each of a tabular network's learned arrays (see
#: ``TabularNetwork.fitted_arrays``).
TABULAR_ARRAYS = {
    "coefs": "coefs_", "intercepts": "intercepts_", "scale": "input_scale_",
    "tables": "embeddings_", "periodic": "periodic_embedding_",
    "activation_strength": "activation_strength_", "piecewise": "piecewise_embedding_",
}


def member_attributes(network, member, copy):
    """One member of a tabular network as fitted attributes (views, or copies)."""
    take = (lambda a: a.copy()) if copy else (lambda a: a)
    attributes = {
        "n_layers_": network.n_layers,
        "n_outputs_": network.layer_units[-1],
        "out_activation_": network.output_activation,
        "_hidden_activations": list(network.hidden_activations),
    }
    for name, arrays in network.fitted_arrays(member).items():
        attributes[TABULAR_ARRAYS[name]] = (
            [take(a) for a in arrays] if isinstance(arrays, list) else take(arrays))
    return attributes


def hidden_activation_names(estimator):
    """The activation of each hidden layer of a fitted MLP.

    Read from the fitted ``_hidden_activations`` (skdeep), or from the
    ``activation`` parameter of a model that lacks it (scikit-learn's MLPs,
    models assembled by hand).
    """
    names = estimator.__dict__.get("_hidden_activations")
    if names is None:
        n_hidden = len(estimator.coefs_) - 1
        activation = estimator.activation
        names = [activation] * n_hidden if isinstance(activation, str) else list(activation)
    return list(names)


class Draft:
    """The model a fit is building: fitted attributes not yet committed.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted (never modified by the draft).
    previous : dict
        The fitted attributes training continues from (warm start,
        ``partial_fit``); empty for a fresh fit.

    Attributes
    ----------
    fitted : dict
        New fitted attributes, filled in as the fit proceeds.
    """

    def __init__(self, estimator, previous):
        self.estimator = estimator
        self.previous = previous
        self.fitted = {}

    @property
    def fresh(self):
        """Whether the fit starts from scratch (earlier fitted state is dropped)."""
        return not self.previous

    def state(self, extra=None):
        """The estimator's attribute dict once this draft (and ``extra``) is committed.

        A fresh fit drops every earlier fitted attribute, so that nothing of
        an earlier model (its history, its tables) survives a refit.
        """
        state = {
            k: v for k, v in self.estimator.__dict__.items()
            if not (self.fresh and is_fitted_attribute(k))
        }
        state.update(self.fitted)
        state.update(extra or {})
        return state

    def as_estimator(self, extra=None):
        """A separate estimator object holding :meth:`state`."""
        scratch = object.__new__(type(self.estimator))
        scratch.__dict__ = self.state(extra)
        return scratch

    def fitted_attributes(self, network):
        """Every fitted attribute of the draft with ``network``'s weights, copied."""
        state = {**self.previous, **self.fitted, **network_attributes(network, copy=True)}
        return {k: v for k, v in state.items() if is_fitted_attribute(k)}
