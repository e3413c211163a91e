"""Output activations fused with their losses.

Every loss here is paired with the output activation ("inverse link") that
makes it canonical:

====================  =====================  ==============================
loss                  output activation      per-sample loss ``l(z, y)``
====================  =====================  ==============================
squared error         identity               ``sum_k (z_k - y_k)**2 / 2``
Poisson deviance      exp                    ``sum_k y log y - y z + e**z - y``
binary cross-entropy  logistic (sigmoid)     ``sum_k log(1 + e**z) - y z``
cross-entropy         softmax                ``log sum_k e**z_k - sum_k y z``
====================  =====================  ==============================

The regression losses beyond sklearn's (Huber, absolute error, pinball)
keep an identity output, except the pinball loss of several quantiles,
whose "cumulative softplus" output keeps the quantiles in order (see
:class:`PinballLoss`); their gradient is not ``prediction - y``.

For each pair the gradient of the loss with respect to the output layer's
pre-activation ``z`` is simply ``prediction - y``. Computing the loss from
``z`` (with ``logaddexp`` and a shifted log-sum-exp) rather than from the
probabilities keeps it finite for any logit: there is no ``log(0)`` and no
overflow.

The classification losses also give the probabilities that estimators
report (``probabilities``) and their logarithms (``log_probabilities``).
Both stay inside the open interval a finite logit maps to, as far as floats
can represent it: a probability is at least the smallest *normal* number of
its dtype (about 2.2e-308 in float64, 1.2e-38 in float32), its logarithm at
least the log of that (about -708.4 and -87.3), and an independent
sigmoid's probability at most the largest float below 1. Below the smallest
normal number floats are subnormal and lose precision, and below about
5e-324 they are 0, whose logarithm is -inf; flooring both at the same place
keeps ``log(probabilities) == log_probabilities`` to rounding everywhere,
with every value finite. The price is that classes less likely than 1e-308
all get the floor and are no longer ranked among themselves.

Targets may be floats or, for classification, booleans (one-hot or label
indicators), which take an eighth of the memory. Classification targets must
be 0/1: the cross-entropies sum the true-class logits through a boolean mask.

The loss of a batch is the (sample-weighted) mean of the per-sample losses.
Every ``value_and_delta`` writes into a caller-provided ``delta`` buffer the
gradient of that mean with respect to ``z``, already divided by the batch's
total weight, so that back-propagating it gives the gradient of the mean.
"""

import functools

import numpy as np
from scipy.special import expit, xlogy

__all__ = [
    "LOSSES",
    "REGRESSION_LOSSES",
    "make_loss",
    "SquaredError",
    "PoissonDeviance",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "Huber",
    "AbsoluteError",
    "PinballLoss",
    "average_logits",
    "check_quantiles",
    "cumulative_softplus",
    "inverse_link",
    "loss_for_output",
]


def _row_scale(n_samples, weights, dtype):
    """Per-row factor turning a sum over rows into a (weighted) mean.

    Returns a scalar ``1 / n`` without weights, else a column ``w / sum(w)``.
    """
    if weights is None:
        return dtype.type(1.0 / n_samples)
    total = weights.sum()
    if total <= 0:
        # A mini-batch of zero-weight samples contributes nothing.
        return dtype.type(0.0)
    return (weights / total).astype(dtype, copy=False)[:, np.newaxis]


def _weighted_mean(per_sample, weights):
    """Mean of per-sample losses, weighted by ``weights`` when given."""
    if weights is None:
        # add.reduce skips np.mean's Python-level overhead (per mini-batch).
        return float(np.add.reduce(per_sample, axis=None)) / per_sample.shape[0]
    total = weights.sum()
    if total <= 0:
        return 0.0
    return float(np.dot(weights, per_sample) / total)


def _row_reduce(Z, ufunc):
    """``ufunc`` (np.maximum or np.minimum) over each row; a loop over columns
    is faster for few columns of many rows (one call is faster for few rows,
    as when predicting one row)."""
    if Z.shape[1] > 16 or Z.shape[0] < 64:
        return ufunc.reduce(Z, axis=1)
    result = Z[:, 0].copy()
    for j in range(1, Z.shape[1]):
        ufunc(result, Z[:, j], out=result)
    return result


def _row_max(Z):
    """Maximum of each row."""
    return _row_reduce(Z, np.maximum)


def _row_min(Z):
    """Minimum of each row."""
    return _row_reduce(Z, np.minimum)


@functools.lru_cache(maxsize=8)
def _probability_bounds(dtype):
    """``(low, high)``: the floats nearest 0 and 1 kept for a probability.

    ``low`` is the smallest normal number of ``dtype`` (below it floats lose
    precision, then underflow to 0); ``high`` is the largest float below 1.
    """
    info = np.finfo(dtype)
    return info.smallest_normal, 1 - info.epsneg


def _mean_minus_true_logits(per_sample, Z, Y, weights):
    """(Weighted) mean over rows of ``per_sample - sum_k y_k z_k``, for 0/1 ``Y``.

    Without weights only the grand total of ``y * z`` is needed: one dot
    product, no product array.
    """
    if weights is None:
        total = np.add.reduce(per_sample, axis=None) - np.vdot(Y, Z)
        return float(total) / Z.shape[0]
    true_logits = np.add.reduce(Z, axis=1, where=Y.astype(bool, copy=False))
    return _weighted_mean(per_sample - true_logits, weights)


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    """A read-only vector of ``n`` ones: row sums as one matrix-vector product.

    Cached, since allocating it was a measurable part of a one-row prediction.
    """
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


@functools.lru_cache(maxsize=8, typed=True)
def _loss_bounds(eps):
    """``-log(1 - eps)`` and ``-log(eps)``: ``-log(p)`` for ``p`` clipped to ``[eps, 1 - eps]``."""
    return -np.log1p(-eps), -np.log(eps)


def _clipped_mean(elementwise, weights, eps):
    """(Weighted) mean over rows of the summed losses ``-log(p)``, each clipped
    as ``p`` would be to ``[eps, 1 - eps]``."""
    low, high = _loss_bounds(eps)
    # Two ufuncs instead of np.clip: the same values (NaN stays NaN) without
    # its Python wrappers, which cost more than the work on a small batch.
    np.maximum(elementwise, low, out=elementwise)
    np.minimum(elementwise, high, out=elementwise)
    per_sample = elementwise.sum(axis=1) if elementwise.ndim == 2 else elementwise
    return _weighted_mean(per_sample, weights)


def _member_row_scale(n_samples, weights, dtype):
    """:func:`_row_scale` of each member: ``1 / n``, or ``w / sum(w)`` per member, (k, n, 1)."""
    if weights is None:
        return dtype.type(1.0 / n_samples)
    totals = weights.sum(axis=1, keepdims=True)
    safe = np.where(totals > 0, totals, 1.0)
    return (weights / safe).astype(dtype, copy=False)[..., np.newaxis]


def _member_means(per_row, weights):
    """Each member's (weighted) mean of its rows' losses, shape (k,)."""
    if weights is None:
        return per_row.mean(axis=1)
    totals = weights.sum(axis=1)
    sums = np.einsum("kn,kn->k", weights, per_row)
    return np.where(totals > 0, sums / np.where(totals > 0, totals, 1.0), 0.0)


class _FusedLoss:
    """Base of the fused output-activation + loss pairs.

    Subclasses set ``name`` (the loss), ``output_activation`` (the name of the
    inverse link, as in sklearn's ``out_activation_``) and implement
    ``inverse_link``, ``per_sample`` and ``value_and_delta``.
    """

    name = None
    output_activation = None
    #: "regression" or "classification": which estimators may use the loss.
    task = None
    #: Compute the loss value (not the gradient) in float64 for float32 logits.
    #: L-BFGS's line search compares loss values that differ by less than
    #: float32's resolution once the loss is small; mini-batch training only
    #: reports the value and keeps the faster float32 path.
    precise_value = False
    #: For the cross-entropies: report the loss of probabilities clipped to
    #: ``[eps, 1 - eps]`` (sklearn's ``log_loss``), so that stopping rules on
    #: the loss decide as sklearn's do once probabilities saturate. None keeps
    #: the exact loss; the gradient is the exact one either way.
    clip_eps = None

    def inverse_link(self, Z):
        """Turn pre-activations ``Z`` into predictions, in place."""
        raise NotImplementedError

    def per_sample(self, Z, Y):
        """Loss of each row of ``Z`` against ``Y``, summed over outputs."""
        raise NotImplementedError

    def value(self, Z, Y, weights=None):
        """Mean (sample-weighted) loss of the batch.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_outputs)
            Pre-activations of the output layer (logits).
        Y : ndarray of shape (n_samples, n_outputs)
            Targets, encoded as floats (one-hot for classification).
        weights : ndarray of shape (n_samples,) or None
            Sample weights.

        Returns
        -------
        loss : float
        """
        return _weighted_mean(self.per_sample(Z, Y), weights)

    def value_and_delta(self, Z, Y, weights, delta):
        """Mean loss, and its gradient with respect to ``Z`` into ``delta``.

        ``delta`` receives ``(inverse_link(Z) - Y) * w / sum(w)``; ``Z`` is
        left unchanged.
        """
        loss = self.value(Z, Y, weights)
        np.copyto(delta, Z)
        self.inverse_link(delta)
        delta -= Y
        delta *= _row_scale(Z.shape[0], weights, Z.dtype)
        return loss

    def member_values_and_deltas(self, Z, Y, weights, delta):
        """:meth:`value_and_delta` of every member of ``(k, n, n_outputs)`` arrays.

        ``weights`` is ``(k, n)`` or None; returns the ``(k,)`` losses. Each
        member's loss is its own batch's mean, as one network alone would
        compute it; losses that know a vectorised form override this loop.
        """
        return np.array([
            self.value_and_delta(Z[i], Y[i], None if weights is None else weights[i], delta[i])
            for i in range(Z.shape[0])
        ])


class _IdentityOutputLoss(_FusedLoss):
    """A regression loss of the raw network output (identity inverse link)."""

    output_activation = "identity"
    task = "regression"

    def inverse_link(self, Z):
        return Z


class SquaredError(_IdentityOutputLoss):
    """Half squared error with the identity output activation.

    ``l(z, y) = sum_k (z_k - y_k)**2 / 2``, so that ``dl/dz = z - y``.
    """

    name = "squared_error"
    #: Report the loss averaged over outputs instead of summed (sklearn's
    #: stochastic solvers report that value, with the gradient of the sum);
    #: the gradient is the sum's either way.
    mean_over_outputs = False

    def per_sample(self, Z, Y):
        diff = Z - Y
        return 0.5 * np.einsum("ij,ij->i", diff, diff) / self._outputs_divisor(Z)

    def _outputs_divisor(self, Z):
        return Z.shape[1] if self.mean_over_outputs else 1

    def value_and_delta(self, Z, Y, weights, delta):
        # The residual is both the gradient and the base of the loss: one pass.
        np.subtract(Z, Y, out=delta)
        per_sample = 0.5 * np.einsum("ij,ij->i", delta, delta)
        delta *= _row_scale(Z.shape[0], weights, Z.dtype)
        return _weighted_mean(per_sample, weights) / self._outputs_divisor(Z)

    def member_values_and_deltas(self, Z, Y, weights, delta):
        np.subtract(Z, Y, out=delta)
        per_row = 0.5 * np.einsum("kij,kij->ki", delta, delta)
        delta *= _member_row_scale(Z.shape[1], weights, Z.dtype)
        return _member_means(per_row, weights) / (Z.shape[2] if self.mean_over_outputs else 1)


class PoissonDeviance(_FusedLoss):
    """Half Poisson deviance with the exponential output activation.

    ``l(z, y) = sum_k y log(y) - y z + exp(z) - y``, where ``exp(z)`` is the
    predicted mean; ``dl/dz = exp(z) - y``. The constant ``y log y - y``
    makes a perfect prediction cost zero, as in sklearn.
    """

    name = "poisson"
    output_activation = "exp"
    task = "regression"

    def inverse_link(self, Z):
        with np.errstate(over="ignore"):
            return np.exp(Z, out=Z)

    def per_sample(self, Z, Y):
        with np.errstate(over="ignore"):
            elementwise = xlogy(Y, Y) - Y * Z + np.exp(Z) - Y
        return elementwise.sum(axis=1)


class BinaryCrossEntropy(_FusedLoss):
    """Binary cross-entropy with the logistic (sigmoid) output activation.

    One independent sigmoid per output column (binary and multilabel
    classification): ``l(z, y) = sum_k log(1 + exp(z_k)) - y_k z_k``, the
    negative log-likelihood of ``y`` under ``p = sigmoid(z)``, so that
    ``dl/dz = p - y``.
    """

    name = "binary_log_loss"
    output_activation = "logistic"
    task = "classification"

    def inverse_link(self, Z):
        return expit(Z, out=Z)

    def per_sample(self, Z, Y):
        # logaddexp(0, z) = log(1 + e**z) without overflow for large z.
        return (np.logaddexp(0.0, Z) - Y * Z).sum(axis=1)

    def value(self, Z, Y, weights=None):
        if self.clip_eps is None:
            return super().value(Z, Y, weights)
        # -log(p) of each output's label: softplus(z) - y z.
        elementwise = np.logaddexp(0.0, Z)
        elementwise -= np.where(Y, Z, 0)
        return _clipped_mean(elementwise, weights, self.clip_eps)

    def log_predict(self, Z):
        """``log(sigmoid(z))`` computed stably."""
        return -np.logaddexp(0.0, -Z)

    def probabilities(self, Z):
        """``sigmoid(Z)`` kept strictly between 0 and 1 (see the module notes).

        Each column is an independent probability whose complement is
        implicit (multilabel), so both ends of the interval are kept off.
        """
        P = expit(Z)  # clipped in place: no second array of the output's size
        return np.clip(P, *_probability_bounds(Z.dtype), out=P)

    def log_probabilities(self, Z):
        """``log(sigmoid(Z))``, bounded as ``log(probabilities(Z))`` is."""
        low, high = _probability_bounds(Z.dtype)
        return np.clip(self.log_predict(Z), np.log(low), np.log(high))

    def value_and_delta(self, Z, Y, weights, delta):
        # Elementwise loss softplus(z) - y z, with the y z term summed through
        # a boolean mask instead of a product array.
        if self.precise_value and Z.dtype != np.float64:
            loss = self.value(Z.astype(np.float64), Y, weights)
        elif self.clip_eps is not None:
            # Elementwise softplus(z) - y z in the delta buffer, then clipped.
            np.logaddexp(0.0, Z, out=delta)
            np.subtract(delta, Z, out=delta, where=Y.astype(bool, copy=False))
            loss = _clipped_mean(delta, weights, self.clip_eps)
        else:
            np.logaddexp(0.0, Z, out=delta)
            softplus = delta @ _ones(Z.shape[1], Z.dtype)
            loss = _mean_minus_true_logits(softplus, Z, Y, weights)
        expit(Z, out=delta)
        delta -= Y
        delta *= _row_scale(Z.shape[0], weights, Z.dtype)
        return loss


class CategoricalCrossEntropy(_FusedLoss):
    """Cross-entropy with the softmax output activation (multiclass).

    ``l(z, y) = log(sum_k exp(z_k)) - sum_k y_k z_k``, the negative
    log-probability of the true class under ``p = softmax(z)``, so that
    ``dl/dz = p - y``.

    Parameters
    ----------
    label_smoothing : float, default=0.0
        ``eps``: train against ``(1 - eps) * y + eps / n_classes`` instead of
        the one-hot ``y``, which keeps the logits from growing without bound
        on separable data. The loss is then
        ``l - eps * (mean_k z_k - sum_k y_k z_k)`` and ``dl/dz = p - y_soft``.
    """

    name = "log_loss"
    output_activation = "softmax"
    task = "classification"

    def __init__(self, label_smoothing=0.0):
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}.")
        self.label_smoothing = float(label_smoothing)

    def inverse_link(self, Z):
        # Shifting by the row maximum changes nothing mathematically and keeps
        # exp() from overflowing.
        if Z.ndim == 2 and Z.shape[0] == 1:
            # One row (a single prediction): the same operations with scalars,
            # which skip broadcasting a column (a third of this call's time).
            Z -= np.maximum.reduce(Z, axis=None)
            np.exp(Z, out=Z)
            Z /= (Z @ _ones(Z.shape[1], Z.dtype))[0]
            return Z
        Z -= _row_max(Z)[:, np.newaxis]
        np.exp(Z, out=Z)
        Z /= (Z @ _ones(Z.shape[1], Z.dtype))[:, np.newaxis]
        return Z

    def log_predict(self, Z):
        """Log-softmax of ``Z``, computed stably (not ``log(softmax)``)."""
        shifted = Z - Z.max(axis=1, keepdims=True)
        shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return shifted

    def probabilities(self, Z):
        """``softmax(Z)``, each probability at least the smallest normal float.

        The rows still sum to 1 to rounding: the floor is 1e-308 (float64).
        """
        low, _ = _probability_bounds(Z.dtype)
        P = self.inverse_link(Z.copy())
        return np.maximum(P, low, out=P)  # in place: one array of the output's size

    def log_probabilities(self, Z):
        """Log-softmax of ``Z``, floored as ``log(probabilities(Z))`` is."""
        low, _ = _probability_bounds(Z.dtype)
        return np.maximum(self.log_predict(Z), np.log(low))

    def per_sample(self, Z, Y):
        per_sample = self._log_sum_exp(Z) - np.einsum("ij,ij->i", Y, Z)
        if self.label_smoothing:
            per_sample += self.label_smoothing * self._true_minus_mean_logit(Z, Y)
        return per_sample

    @staticmethod
    def _true_minus_mean_logit(Z, Y):
        return np.einsum("ij,ij->i", Y, Z) - Z.mean(axis=1)

    def _smooth(self, Z, Y, weights, delta):
        """Label smoothing's share of the loss; its gradient is added to ``delta``."""
        eps = self.label_smoothing
        scale = _row_scale(Z.shape[0], weights, Z.dtype)
        delta += (eps * (Y - Z.dtype.type(1.0 / Z.shape[1]))) * scale
        return eps * _weighted_mean(self._true_minus_mean_logit(Z, Y), weights)

    def value(self, Z, Y, weights=None):
        if self.clip_eps is None:
            return super().value(Z, Y, weights)
        # -log(p) of the true class: log-sum-exp minus its logit.
        true_logits = np.add.reduce(Z, axis=1, where=Y.astype(bool, copy=False))
        return _clipped_mean(self._log_sum_exp(Z) - true_logits, weights, self.clip_eps)

    @staticmethod
    def _log_sum_exp(Z):
        row_max = Z.max(axis=1)
        shifted = np.exp(Z - row_max[:, np.newaxis])
        return row_max + np.log(shifted.sum(axis=1))

    def value_and_delta(self, Z, Y, weights, delta):
        if self.precise_value and Z.dtype != np.float64:
            loss = self.value(Z.astype(np.float64), Y, weights)
            self._softmax_delta(Z, Y, weights, delta)
        else:
            loss = self._fused_value_and_delta(Z, Y, weights, delta)
        if self.label_smoothing:
            loss += self._smooth(Z, Y, weights, delta)
        return loss

    def member_values_and_deltas(self, Z, Y, weights, delta):
        if self.precise_value or self.clip_eps is not None:
            return super().member_values_and_deltas(Z, Y, weights, delta)
        # The softmax and the log-sum-exp share the shifted exponentials.
        row_max = Z.max(axis=2)
        np.subtract(Z, row_max[..., np.newaxis], out=delta)
        np.exp(delta, out=delta)
        row_sum = delta @ _ones(Z.shape[2], Z.dtype)
        per_row = np.log(row_sum)
        per_row += row_max
        true_logits = np.add.reduce(Z, axis=2, where=Y.astype(bool, copy=False))
        per_row -= true_logits
        delta /= row_sum[..., np.newaxis]
        delta -= Y
        scale = _member_row_scale(Z.shape[1], weights, Z.dtype)
        if self.label_smoothing:
            eps = self.label_smoothing
            per_row += eps * (true_logits - Z.mean(axis=2))
            delta += eps * (Y - Z.dtype.type(1.0 / Z.shape[2]))
        delta *= scale
        return _member_means(per_row, weights)

    def _fused_value_and_delta(self, Z, Y, weights, delta):
        # The softmax and the log-sum-exp share the shifted exponentials.
        row_max = _row_max(Z)
        np.subtract(Z, row_max[:, np.newaxis], out=delta)
        np.exp(delta, out=delta)
        # A matrix-vector product sums short rows faster than add.reduce(axis=1).
        row_sum = delta @ _ones(Z.shape[1], Z.dtype)
        log_sum_exp = np.log(row_sum)
        log_sum_exp += row_max
        if self.clip_eps is None or not self._may_clip(Z, log_sum_exp, row_sum):
            loss = _mean_minus_true_logits(log_sum_exp, Z, Y, weights)
        else:
            log_sum_exp -= np.add.reduce(Z, axis=1, where=Y.astype(bool, copy=False))
            loss = _clipped_mean(log_sum_exp, weights, self.clip_eps)
        delta /= row_sum[:, np.newaxis]
        delta -= Y
        delta *= _row_scale(Z.shape[0], weights, Z.dtype)
        return loss

    def _may_clip(self, Z, log_sum_exp, row_sum):
        """Whether clipping can change the loss of some row (a cheap bound).

        A row's loss ``log_sum_exp - z_true`` lies between
        ``log_sum_exp - max(z) = log(row_sum)`` and ``log_sum_exp - min(z)``;
        if every row's range is inside the clipping bounds, nothing is clipped.
        """
        eps = self.clip_eps
        return bool(
            (np.log(row_sum) < -np.log1p(-eps)).any()
            or (log_sum_exp - _row_min(Z) > -np.log(eps)).any()
        )

    def _softmax_delta(self, Z, Y, weights, delta):
        np.copyto(delta, Z)
        self.inverse_link(delta)
        delta -= Y
        delta *= _row_scale(Z.shape[0], weights, Z.dtype)


class Huber(_IdentityOutputLoss):
    """Huber loss with the identity output activation.

    Quadratic for residuals up to ``delta``, linear beyond, so outliers pull
    with a bounded force: ``l = r**2 / 2`` if ``|r| <= delta`` else
    ``delta * (|r| - delta / 2)``, and ``dl/dz = clip(r, -delta, delta)``
    with ``r = z - y``.

    Parameters
    ----------
    delta : float, default=1.0
        Residual size where the loss turns from quadratic to linear.
    """

    name = "huber"

    def __init__(self, delta=1.0):
        self.delta = float(delta)

    def per_sample(self, Z, Y):
        residual = np.abs(Z - Y)
        quadratic = np.minimum(residual, self.delta)
        return (0.5 * quadratic**2 + self.delta * (residual - quadratic)).sum(axis=1)

    def value_and_delta(self, Z, Y, weights, delta):
        loss = self.value(Z, Y, weights)
        np.subtract(Z, Y, out=delta)
        np.clip(delta, -self.delta, self.delta, out=delta)
        delta *= _row_scale(Z.shape[0], weights, Z.dtype)
        return loss


class AbsoluteError(_IdentityOutputLoss):
    """Absolute error with the identity output activation.

    ``l = |z - y|``, whose (sub)gradient is ``sign(z - y)``; the model
    estimates the conditional median.
    """

    name = "absolute_error"

    def per_sample(self, Z, Y):
        return np.abs(Z - Y).sum(axis=1)

    def value_and_delta(self, Z, Y, weights, delta):
        np.subtract(Z, Y, out=delta)
        loss = _weighted_mean(np.abs(delta).sum(axis=1), weights)
        np.sign(delta, out=delta)
        delta *= _row_scale(Z.shape[0], weights, Z.dtype)
        return loss


def check_quantiles(quantile):
    """``quantile`` as a 1-D float array of increasing levels in (0, 1).

    Parameters
    ----------
    quantile : float or sequence of float
        One quantile level, or several in increasing order.

    Returns
    -------
    quantiles : ndarray of shape (n_quantiles,)

    Raises
    ------
    ValueError
        If a level is outside (0, 1) or not a number, or if the levels are
        not strictly increasing (unsorted or repeated).
    """
    try:
        quantiles = np.asarray(quantile, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(
            f"quantile must be a number in (0, 1) or a list of them, got {quantile!r}."
        ) from None
    if quantiles.size == 0:
        raise ValueError("quantile is empty; give at least one level in (0, 1).")
    outside = quantiles[~((quantiles > 0) & (quantiles < 1))]
    if outside.size:
        raise ValueError(
            f"quantile levels must lie strictly between 0 and 1, got {outside.tolist()}."
        )
    steps = np.diff(quantiles)
    if np.any(steps == 0):
        raise ValueError(
            f"quantile has repeated levels {quantiles[1:][steps == 0].tolist()}; each "
            "level must appear once."
        )
    if np.any(steps < 0):
        raise ValueError(
            f"quantile levels must be sorted in increasing order, got {quantiles.tolist()}."
        )
    return quantiles


def cumulative_softplus(Z):
    """Increasing outputs from free logits, in place: the non-crossing link.

    ``q_1 = z_1`` and ``q_k = q_(k-1) + softplus(z_k)``: every later column
    adds a positive step, so ``q_1 <= q_2 <= ... <= q_K`` for any logits
    (strictly, unless a step is too small to change ``q`` in floating
    point). One column is left as it is.
    """
    if Z.shape[1] > 1:
        np.logaddexp(0.0, Z[:, 1:], out=Z[:, 1:])
        np.cumsum(Z, axis=1, out=Z)
    return Z


def _cumulative_softplus_logits(Q):
    """The logits whose :func:`cumulative_softplus` is ``Q`` (increasing rows), in place.

    Each step ``d = q_k - q_(k-1) >= 0`` is ``softplus(z_k)``, so
    ``z_k = log(exp(d) - 1)``; a step of 0 gives -inf, whose softplus is 0.
    """
    if Q.shape[1] > 1:
        steps = np.diff(Q, axis=1)
        with np.errstate(divide="ignore"):
            # log(expm1(d)) = d + log(-expm1(-d)), without overflow for large d.
            Q[:, 1:] = steps + np.log(-np.expm1(-steps))
    return Q


class PinballLoss(_FusedLoss):
    """Pinball (quantile) loss of one quantile level or of several at once.

    For level ``tau`` and residual ``r = y - q``, ``l = tau * r`` if
    ``r >= 0`` else ``(tau - 1) * r``: under-predictions cost ``tau`` per
    unit, over-predictions ``1 - tau``, so the minimiser is the ``tau``
    quantile of ``y`` given ``x``. ``dl/dq = 1[q > y] - tau``.

    With one level the output is the identity (several target columns get
    the same level each). With ``K`` levels the network has ``K`` outputs
    and the prediction is :func:`cumulative_softplus` of the logits, so the
    predicted quantiles never cross; the chain rule through that link gives
    ``dl/dz_1 = sum_k g_k`` and ``dl/dz_j = sigmoid(z_j) * sum_(k >= j) g_k``
    for ``g = dl/dq``. A monotone link (rather than sorting the outputs)
    keeps the loss smooth in the logits and each output's meaning fixed.

    Parameters
    ----------
    quantile : float or sequence of float, default=0.5
        The level(s), strictly increasing, in (0, 1).
    """

    name = "quantile"
    task = "regression"

    def __init__(self, quantile=0.5):
        self.quantiles = check_quantiles(quantile)
        self.ordered = self.quantiles.size > 1
        self.output_activation = "cumulative_softplus" if self.ordered else "identity"

    def inverse_link(self, Z):
        return cumulative_softplus(Z) if self.ordered else Z

    def _levels(self, Z):
        """The level of each output column (one level for all, or one each)."""
        if self.ordered and Z.shape[1] != self.quantiles.size:
            raise ValueError(
                f"{self.quantiles.size} quantile levels need as many outputs, got "
                f"{Z.shape[1]}."
            )
        return self.quantiles.astype(Z.dtype, copy=False)

    def per_sample(self, Z, Y):
        levels = self._levels(Z)
        residual = Y - self.inverse_link(Z.copy())
        return np.maximum(levels * residual, (levels - 1) * residual).sum(axis=1)

    def value_and_delta(self, Z, Y, weights, delta):
        levels = self._levels(Z)
        np.copyto(delta, Z)
        self.inverse_link(delta)
        residual = Y - delta
        loss = _weighted_mean(
            np.maximum(levels * residual, (levels - 1) * residual).sum(axis=1), weights
        )
        # dl/dq: 1 - tau where the prediction is above y, -tau elsewhere.
        np.subtract(residual < 0, levels, out=delta, dtype=Z.dtype)
        if self.ordered:
            # Back through the cumulative sum, then through each softplus step.
            tail_sums = np.cumsum(delta[:, ::-1], axis=1)[:, ::-1]
            delta[:, 0] = tail_sums[:, 0]
            delta[:, 1:] = tail_sums[:, 1:] * expit(Z[:, 1:])
        delta *= _row_scale(Z.shape[0], weights, Z.dtype)
        return loss


LOSSES = {
    loss.name: loss
    for loss in (
        SquaredError,
        PoissonDeviance,
        BinaryCrossEntropy,
        CategoricalCrossEntropy,
        Huber,
        AbsoluteError,
        PinballLoss,
    )
}

#: Losses a regressor can minimise, in registry order.
REGRESSION_LOSSES = tuple(name for name, loss in LOSSES.items() if loss.task == "regression")

_BY_OUTPUT = {
    loss.output_activation: loss
    for loss in (SquaredError, PoissonDeviance, BinaryCrossEntropy, CategoricalCrossEntropy)
}


def loss_for_output(output_activation):
    """The fused loss whose output activation is ``output_activation``.

    Parameters
    ----------
    output_activation : {"identity", "exp", "logistic", "softmax"}

    Returns
    -------
    loss : _FusedLoss instance
    """
    return _BY_OUTPUT[output_activation]()


def inverse_link(output_activation, Z):
    """Apply the output activation called ``output_activation`` to ``Z``, in place.

    Parameters
    ----------
    output_activation : {"identity", "exp", "logistic", "softmax", \
            "cumulative_softplus"}
    Z : ndarray of shape (n_samples, n_outputs)
        Logits.

    Returns
    -------
    predictions : ndarray of shape (n_samples, n_outputs)
    """
    if output_activation == "cumulative_softplus":
        return cumulative_softplus(Z)
    return loss_for_output(output_activation).inverse_link(Z)


def average_logits(output_activation, member_logits):
    """Logits of an ensemble: its members' predictions averaged.

    With the softmax output the members' class probabilities are averaged
    and the result is their logarithm (so that the softmax of it is the
    average); with the cumulative softplus (several quantiles) the
    predicted quantiles are averaged and the result is the logits that
    give them (an average of increasing rows is increasing, so the
    quantiles still never cross; averaging the logits instead would pull
    every quantile but the lowest down, as softplus is convex); with any
    other output the logits themselves are averaged, which for the
    identity output is the average prediction.

    Parameters
    ----------
    output_activation : {"identity", "exp", "logistic", "softmax", \
            "cumulative_softplus"}
        The members' (common) output activation.
    member_logits : sequence of ndarray of shape (n_samples, n_outputs)
        Each member's logits for the same rows.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_outputs)
    """
    if output_activation == "cumulative_softplus":
        return _cumulative_softplus_logits(
            np.mean([cumulative_softplus(np.array(Z)) for Z in member_logits], axis=0))
    if output_activation != "softmax":
        return np.mean(member_logits, axis=0)
    softmax = loss_for_output("softmax")
    mean = np.mean([softmax.probabilities(Z) for Z in member_logits], axis=0)
    return np.log(mean)


def make_loss(name, **options):
    """The fused loss called ``name``, built with its ``options``.

    Parameters
    ----------
    name : str
        A key of ``LOSSES``.
    **options
        Constructor arguments of that loss (``delta`` for ``"huber"``,
        ``quantile`` for ``"quantile"``).

    Returns
    -------
    loss : _FusedLoss instance
    """
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; choose from {sorted(LOSSES)}.")
    return LOSSES[name](**options)
