"""skdeep's backpropagation engine: NumPy and SciPy only, no scikit-learn.

(threadpoolctl, already a scikit-learn dependency, steers SciPy's BLAS pool.)

The engine knows arrays, shapes and dtypes: layers, activations, fused
losses, backpropagation, optimizers and learning-rate schedules. Estimator
conventions (labels, validation, pandas) live in the layer above.
"""

from ._linalg import scipy_blas_on_one_thread
from .activations import ACTIVATIONS, DERIVATIVES, HIDDEN_ACTIVATIONS
from .embeddings import EmbeddingLayout
from .losses import LOSSES, loss_for_output
from .network import Network, Workspace, forward_logits
from .optimizers import SGD, Adam, AdamW, RMSprop, clip_by_global_norm, make_optimizer
from .schedules import make_schedule

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "HIDDEN_ACTIVATIONS",
    "EmbeddingLayout",
    "LOSSES",
    "loss_for_output",
    "Network",
    "Workspace",
    "forward_logits",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "clip_by_global_norm",
    "make_optimizer",
    "make_schedule",
    "scipy_blas_on_one_thread",
]
