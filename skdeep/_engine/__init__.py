"""skdeep's backpropagation engine: NumPy and SciPy only, no scikit-learn.

(threadpoolctl, already a scikit-learn dependency, steers SciPy's BLAS pool.)

The engine knows arrays, shapes and dtypes: layers, activations, fused
losses, backpropagation, optimizers and learning-rate schedules. Estimator
conventions (labels, validation, pandas) live in the layer above. Each list
of names is one registry here (``ACTIVATIONS``, ``LOSSES``, ``OPTIMIZERS``,
``SCHEDULES``, ``INITIALIZERS``), from which the estimators build their
parameter constraints.
"""

from ._linalg import scipy_blas_on_one_thread
from .activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, Activation, get_activation
from .embeddings import EmbeddingLayout
from .initializers import INITIALIZERS
from .lbfgs import SklearnOrderObjective
from .layers import Dense, Dropout, Embedding, Layer, ParamSpec
from .losses import (
    LOSSES,
    REGRESSION_LOSSES,
    average_logits,
    check_quantiles,
    inverse_link,
    loss_for_output,
    make_loss,
)
from .network import (
    Network,
    Sequential,
    Workspace,
    forward_hidden,
    forward_logits,
    forward_row_bytes,
    in_row_chunks,
)
from .optimizers import (
    OPTIMIZERS,
    SGD,
    Adam,
    AdamW,
    RMSprop,
    clip_by_global_norm,
    make_optimizer,
)
from .preprocessing import (
    exact_value_gain,
    frequent_values,
    quantile_bins,
    robust_scale,
    robust_scaling_statistics,
    target_standardisation,
    value_codes,
)
from .schedules import SCHEDULES, make_schedule
from .tabular import TabularNetwork

__all__ = [
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "Activation",
    "get_activation",
    "EmbeddingLayout",
    "INITIALIZERS",
    "Layer",
    "ParamSpec",
    "Dense",
    "Dropout",
    "Embedding",
    "LOSSES",
    "REGRESSION_LOSSES",
    "loss_for_output",
    "inverse_link",
    "average_logits",
    "check_quantiles",
    "make_loss",
    "SklearnOrderObjective",
    "Network",
    "Sequential",
    "Workspace",
    "forward_logits",
    "forward_row_bytes",
    "in_row_chunks",
    "forward_hidden",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "clip_by_global_norm",
    "make_optimizer",
    "SCHEDULES",
    "make_schedule",
    "scipy_blas_on_one_thread",
    "robust_scale",
    "robust_scaling_statistics",
    "target_standardisation",
    "quantile_bins",
    "exact_value_gain",
    "frequent_values",
    "value_codes",
    "TabularNetwork",
]
